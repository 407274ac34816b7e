"""Seeded randomness shared by every simulated source.

Each random stream is keyed by (seed, region, ...) with NumPy's SeedSequence, so
the records of one town and month depend only on those keys: any month range or
region subset reproduces the same data. A town's latent level is a random walk on
the log scale that starts at a fixed epoch, which is what makes ranks move
between months.
"""

from __future__ import annotations

import math

import numpy as np

from pingan_transforms.months import Month

EPOCH = Month(2023, 1)


def rng(*keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([abs(k) for k in keys]))


def latent_level(
    seed: int, town_code: str, month: Month, spread: float, drift: float, *stream: int
) -> float:
    """Multiplier of a town in a month (1.0 = average); ``stream`` separates entities."""
    base = rng(seed, int(town_code), *stream, 0).normal(0.0, spread)
    steps = rng(seed, int(town_code), *stream, 1).normal(
        0.0, drift, size=max(month.index - EPOCH.index, 0) + 1
    )
    return float(math.exp(base + steps.sum()))
