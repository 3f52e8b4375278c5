"""The wall's playlist and upkeep (config/wall.yaml, or PEAKWATCH_WALL_CONFIG): loaded strictly,
so a typo is refused with the entry that has it instead of silently skipping a page."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from config import CONFIG_DIR
from dashboard.scope import href

PAGES = ("wall", "overview", "load", "repairs", "outages", "warnings", "keycustomers", "sensitive")
EVERY_DISTRICT = "districts"
DEFAULT_PLAYLIST = "default"
PLAYLIST_NAME = re.compile(r"^[a-z0-9_-]{1,32}$")
KIOSK_QUERY = "?kiosk=1"


class WallConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    page: str
    focus: str | None
    dwell_seconds: float


@dataclass(frozen=True)
class WallConfig:
    dwell_seconds: float
    reload_minutes: float
    tick_ms: int
    playlist: tuple[Entry, ...]


def _positive(raw, what: str) -> float:
    if not isinstance(raw, (int, float)) or isinstance(raw, bool) or raw <= 0:
        raise WallConfigError(f"{what} must be a positive number, not {raw!r}")
    return float(raw)


def _entry(i: int, raw, default_dwell: float) -> Entry:
    if not isinstance(raw, dict) or raw.get("page") not in PAGES:
        raise WallConfigError(f"playlist entry {i + 1}: page must be one of {', '.join(PAGES)} ({raw!r})")
    focus = raw.get("focus")
    if focus is not None and not isinstance(focus, str):
        raise WallConfigError(f"playlist entry {i + 1}: focus must be '{EVERY_DISTRICT}' or a node code")
    return Entry(raw["page"], focus, _positive(raw.get("dwell_seconds", default_dwell),
                                               f"playlist entry {i + 1}: dwell_seconds"))


def parse(raw: dict) -> WallConfig:
    if not isinstance(raw, dict):
        raise WallConfigError("the wall config must be a mapping")
    dwell = _positive(raw.get("dwell_seconds"), "dwell_seconds")
    entries = raw.get("playlist")
    if not isinstance(entries, list) or not entries:
        raise WallConfigError("playlist must be a non-empty list")
    return WallConfig(dwell, _positive(raw.get("reload_minutes"), "reload_minutes"),
                      int(_positive(raw.get("tick_ms"), "tick_ms")),
                      tuple(_entry(i, e, dwell) for i, e in enumerate(entries)))


def playlist_path(playlist: str | None = None) -> Path:
    """The default playlist's file, or config/wall-<name>.yaml (a kiosk token names its playlist)."""
    if playlist in (None, DEFAULT_PLAYLIST):
        return Path(os.environ.get("PEAKWATCH_WALL_CONFIG") or CONFIG_DIR / "wall.yaml")
    if not PLAYLIST_NAME.match(playlist):
        raise WallConfigError(f"playlist name {playlist!r}: lower-case letters, digits, - and _ only")
    return CONFIG_DIR / f"wall-{playlist}.yaml"


@lru_cache(maxsize=16)
def load(playlist: str | None = None) -> WallConfig:
    path = playlist_path(playlist)
    try:
        return parse(yaml.safe_load(path.read_text(encoding="utf-8")))
    except WallConfigError as exc:
        raise WallConfigError(f"{path}: {exc}") from None


def urls(config: WallConfig, districts: list[str], root: str | None = None) -> list[dict]:
    """The playlist as the browser walks it: one {url, dwell_ms} per screen, districts expanded;
    an entry without a focus shows `root` (a kiosk token's scope; None: the city)."""
    out = []
    for e in config.playlist:
        foci = districts if e.focus == EVERY_DISTRICT else [e.focus or root]
        for code in foci:
            out.append({"url": href(e.page, code) + KIOSK_QUERY, "dwell_ms": int(e.dwell_seconds * 1000)})
    return out


def browser_data(districts: list[str], playlist: str | None = None, root: str | None = None) -> dict:
    """What the shell's playlist store holds: the screens, the kiosk tick and the reload period."""
    config = load(playlist)
    return {"screens": urls(config, districts, root), "tick_ms": config.tick_ms,
            "reload_ms": int(config.reload_minutes * 60_000)}
