"""Loading into ``raw``: COPY, one transaction per batch, append-only."""
