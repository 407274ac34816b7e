"""Connectors that read the source systems, one module per kind of source."""
