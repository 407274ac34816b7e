"""Formats that production owns and the simulator (and the tests) import."""
