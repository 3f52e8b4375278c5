"""Count every open and read of the SQLite source database, by any process, with inotify.

The collectors' adapter opens one connection per read (NullPool), and SQLite reads its file
with pread, so while the collectors and the simulator are paused (SIGSTOP) any IN_OPEN or
IN_ACCESS event on the database files is a query someone else made: with viewers as the only
load, it is a query caused by viewers. We also check that no web process has the file open or
mapped, nor the sqlite3 driver loaded.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from pathlib import Path

import psutil

IN_ACCESS, IN_MODIFY, IN_OPEN = 0x001, 0x002, 0x020
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_EVENT = struct.Struct("iIII")


class SourceWatch:
    """inotify on the directory of the source DB; counts events on source.db, -wal, -shm, -journal."""

    def __init__(self, db_path: Path):
        self.db = Path(db_path)
        self.fd = _libc.inotify_init1(os.O_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        wd = _libc.inotify_add_watch(self.fd, str(self.db.parent).encode(), IN_ACCESS | IN_OPEN | IN_MODIFY)
        if wd < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch")
        self.counts = {"open": 0, "read": 0, "write": 0}

    def drain(self) -> dict:
        """Read the pending events and add them up; returns the totals so far."""
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return dict(self.counts)
            self._parse(buf)

    def _parse(self, buf: bytes) -> None:
        i = 0
        while i < len(buf):
            _wd, mask, _cookie, length = _EVENT.unpack_from(buf, i)
            name = buf[i + _EVENT.size:i + _EVENT.size + length].rstrip(b"\0").decode(errors="replace")
            i += _EVENT.size + length
            if not name.startswith(self.db.name):
                continue
            self.counts["open"] += bool(mask & IN_OPEN)
            self.counts["read"] += bool(mask & IN_ACCESS)
            self.counts["write"] += bool(mask & IN_MODIFY)

    def reset(self) -> None:
        self.drain()
        self.counts = {"open": 0, "read": 0, "write": 0}

    def close(self) -> None:
        os.close(self.fd)


def web_touches_source(pids, db_path: Path) -> list[str]:
    """What any web process holds of the source database: open descriptors and mappings. (A loaded
    sqlite3 module proves nothing since the web tier keeps its own users and acknowledgements in
    an SQLite app DB; inotify and tests/test_web_reads_redis_only.py cover the source itself.)"""
    found = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            found += [f"{pid} fd {f.path}" for f in p.open_files() if Path(f.path).name.startswith(db_path.name)]
            found += [f"{pid} maps {m.path}" for m in p.memory_maps()
                      if Path(m.path).name.startswith(db_path.name)]
        except psutil.NoSuchProcess:
            pass
    return found
