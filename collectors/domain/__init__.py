"""Domain rules as pure functions over pandas frames: no Dash, no Redis (docs/kpis.md)."""
