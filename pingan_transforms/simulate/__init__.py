"""Seeded, reproducible simulations of the source systems (DESIGN.md §4)."""
