"""Keyed random streams: one generator per (seed, stream, key), so any hour or reading can be
regenerated on its own, in any order, and a resumed simulation draws exactly what a continuous
one would have drawn."""
from __future__ import annotations

import zlib

import numpy as np


def _stream_id(stream: str) -> int:
    return zlib.crc32(stream.encode())


def rng(seed: int, stream: str, *keys: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, _stream_id(stream), *[int(k) & 0xFFFFFFFF for k in keys]])
