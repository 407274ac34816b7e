"""Seeded, reproducible simulations of the source systems (DESIGN.md §4).

Not part of the pipeline: the demo, the tests and the benchmarks use it, installed with
the project. It may use the pipeline's formats and loaders (``pingan_transforms``); the
pipeline never imports it (``tests/test_layering.py``).
"""
