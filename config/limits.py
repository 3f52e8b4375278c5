"""Load config/limits.yaml once; the numbers KPIs depend on live there, not in code."""
from __future__ import annotations

from functools import lru_cache

import yaml

from config import CONFIG_DIR


@lru_cache(maxsize=1)
def limits() -> dict:
    with open(CONFIG_DIR / "limits.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)
