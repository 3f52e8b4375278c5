"""Login rate limit with lockout, kept in the app DB so every web worker sees every attempt.

A user name is locked after login_max_failures failed attempts within the window, and a client
address after login_ip_max_failures (one address guessing many names). The lock lifts when the
oldest failure in the window ages out; a success does not erase the failures before it, so
guessing between one's own logins gains nothing."""
from __future__ import annotations

import time

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.engine import Engine

from dashboard.security.db import login_attempts

KEEP_DAYS = 30     # attempts older than this are deleted (the audit log keeps the story)


def _failures(conn, column, value, since: float):
    return conn.execute(select(func.count(), func.min(login_attempts.c.at)).where(and_(
        column == value, login_attempts.c.ok.is_(False), login_attempts.c.at >= since))).one()


def locked_for(eng: Engine, cfg, user_name: str, address: str) -> float:
    """Seconds until this user name and address may try again (0: now)."""
    window = cfg.login_window_minutes * 60
    now = time.time()
    wait = 0.0
    with eng.connect() as conn:
        for column, value, limit in ((login_attempts.c.user_name, user_name, cfg.login_max_failures),
                                     (login_attempts.c.address, address, cfg.login_ip_max_failures)):
            count, oldest = _failures(conn, column, value, now - window)
            if count >= limit:
                wait = max(wait, oldest + window - now)
    return wait


def record(eng: Engine, user_name: str, address: str, ok: bool) -> None:
    now = time.time()
    with eng.begin() as conn:
        conn.execute(insert(login_attempts).values(at=now, user_name=user_name[:64], address=address, ok=ok))
        conn.execute(delete(login_attempts).where(login_attempts.c.at < now - KEEP_DAYS * 86400))
