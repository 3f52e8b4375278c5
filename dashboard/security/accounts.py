"""Users and kiosk tokens in the app DB, and the audit log every change of them is written to.
Shared by the CLI (python -m dashboard.users) and the web tier's login."""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from dashboard.security.db import ROLES, audit_log, kiosk_tokens, now_iso, users

_hasher = PasswordHasher()       # argon2id with the library's current (RFC 9106) parameters
# verifying against this costs the same as a real hash, so an unknown user name takes as long
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 10


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    scope: str
    disabled: bool
    session_epoch: int


@dataclass(frozen=True)
class Token:
    id: int
    label: str
    playlist: str
    scope: str
    revoked: bool


def audit(eng: Engine, actor: str, action: str, target: str | None = None, address: str | None = None,
          **detail) -> None:
    with eng.begin() as conn:
        conn.execute(insert(audit_log).values(at=now_iso(), actor=actor, action=action, target=target,
                                              detail=json.dumps(detail, ensure_ascii=False), address=address))


def _user(row) -> User:
    return User(row.id, row.name, row.role, row.scope, bool(row.disabled), row.session_epoch)


def _check(role: str, password: str | None) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


def add_user(eng: Engine, name: str, password: str, role: str, scope: str, actor: str) -> User:
    _check(role, password)
    with eng.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.name == name)).first():
            raise AccountError(f"user {name!r} exists")
        conn.execute(insert(users).values(name=name, password_hash=_hasher.hash(password), role=role,
                                          scope=scope, disabled=False, session_epoch=0, created_at=now_iso()))
    audit(eng, actor, "user_add", name, role=role, scope=scope)
    return get_user(eng, name)


def get_user(eng: Engine, name: str) -> User | None:
    with eng.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
    return _user(row) if row else None


def user_by_id(eng: Engine, uid: int) -> User | None:
    with eng.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == uid)).first()
    return _user(row) if row else None


def list_users(eng: Engine) -> list[User]:
    with eng.connect() as conn:
        return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]


def count_users(eng: Engine) -> int:
    with eng.connect() as conn:
        return conn.execute(select(func.count()).select_from(users)).scalar_one()


def verify_password(eng: Engine, name: str, password: str) -> User | None:
    """The user if the password is right and the account enabled; None otherwise (same cost)."""
    with eng.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    return _user(row)


def _bump(eng: Engine, name: str, **values) -> None:
    with eng.begin() as conn:
        done = conn.execute(update(users).where(users.c.name == name)
                            .values(session_epoch=users.c.session_epoch + 1, **values)).rowcount
    if not done:
        raise AccountError(f"no user {name!r}")


def set_password(eng: Engine, name: str, password: str, actor: str) -> None:
    _check(ROLES[0], password)
    _bump(eng, name, password_hash=_hasher.hash(password))
    audit(eng, actor, "passwd", name)


def set_disabled(eng: Engine, name: str, disabled: bool, actor: str) -> None:
    _bump(eng, name, disabled=disabled)
    audit(eng, actor, "disable" if disabled else "enable", name)


def token_hash(secret: str) -> str:
    # the secret is 256 random bits, so a fast hash is enough and lets the lookup be by hash
    return hashlib.sha256(secret.encode()).hexdigest()


def add_token(eng: Engine, label: str, playlist: str, scope: str, actor: str) -> str:
    """A new kiosk token; the secret is returned once and only its hash is kept."""
    secret = secrets.token_urlsafe(32)
    with eng.begin() as conn:
        conn.execute(insert(kiosk_tokens).values(label=label, token_hash=token_hash(secret), playlist=playlist,
                                                 scope=scope, created_by=actor, created_at=now_iso()))
    audit(eng, actor, "token_add", label, playlist=playlist, scope=scope)
    return secret


def _token(row) -> Token:
    return Token(row.id, row.label, row.playlist, row.scope, row.revoked_at is not None)


def token_by_secret(eng: Engine, secret: str) -> Token | None:
    with eng.connect() as conn:
        row = conn.execute(select(kiosk_tokens).where(kiosk_tokens.c.token_hash == token_hash(secret))).first()
    return _token(row) if row else None


def token_by_id(eng: Engine, tid: int) -> Token | None:
    with eng.connect() as conn:
        row = conn.execute(select(kiosk_tokens).where(kiosk_tokens.c.id == tid)).first()
    return _token(row) if row else None


def list_tokens(eng: Engine) -> list[Token]:
    with eng.connect() as conn:
        return [_token(r) for r in conn.execute(select(kiosk_tokens).order_by(kiosk_tokens.c.id))]


def revoke_token(eng: Engine, tid: int, actor: str) -> None:
    with eng.begin() as conn:
        done = conn.execute(update(kiosk_tokens).where(kiosk_tokens.c.id == tid, kiosk_tokens.c.revoked_at.is_(None))
                            .values(revoked_at=now_iso())).rowcount
    if not done:
        raise AccountError(f"no active token with id {tid}")
    audit(eng, actor, "token_revoke", str(tid))
