"""Atomic publishing of datasets, collector health and rejected rows to Redis."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

import redis

from collectors import redis_schema as keys


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class Dataset:
    """One dataset's complete content for one publish: a hash of JSON payloads."""
    name: str
    as_of: datetime
    entries: dict[str, object] = field(default_factory=dict)
    # digest(self), filled in by publish(); a collector whose content did not change can hand
    # back a copy (dataclasses.replace with a new as_of) and skip re-serialising it
    digest: str | None = field(default=None, compare=False)
    # optional: how `entries` differs from the content whose digest is patch.base. publish()
    # then writes only those entries (HSET/HDEL in the same MULTI/EXEC) when what this process
    # last published is that base, and the whole hash otherwise. A collector that sets it also
    # sets `digest` (a fingerprint of the patched content, e.g. patch_digest()).
    patch: "Patch | None" = field(default=None, compare=False)


@dataclass
class Patch:
    """Entries set (their new JSON) and removed, relative to the content with digest `base`."""
    base: str
    set: dict[str, object] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


def patch_digest(base: str, set_: dict[str, str], removed) -> str:
    """A fingerprint of `base` content with the patch applied (equal to base when it is empty).
    Two different contents never share one; the same content reached by another path may get
    another one (then it is written once more, whole or as a patch)."""
    if not set_ and not removed:
        return base
    h = hashlib.sha1(base.encode())
    keys = sorted(set_)
    for i in range(0, len(keys), 4096):
        h.update("".join(f"{k}\0{set_[k]}\n" for k in keys[i:i + 4096]).encode())
    h.update(("\1" + "\0".join(sorted(removed))).encode())
    return "p" + h.hexdigest()


class RawJSON(str):
    """An entry value already serialised with dumps(): written as it is (a big, slow-moving
    dataset can keep its entries as compact text instead of dicts)."""


def encode(ds: Dataset) -> dict[str, str]:
    """Each entry as the JSON written to Redis."""
    return {k: v if isinstance(v, RawJSON) else dumps(v) for k, v in ds.entries.items()}


def digest(ds: Dataset, payload: dict[str, str] | None = None) -> str:
    """A fingerprint of the content, from the encoded entries (each entry is serialised once),
    hashed a few thousand entries at a time (no copy of a whole large dataset)."""
    payload = encode(ds) if payload is None else payload
    h = hashlib.sha1()
    keys = sorted(payload)
    for i in range(0, len(keys), 4096):
        h.update("".join(f"{k}\0{payload[k]}\n" for k in keys[i:i + 4096]).encode())
    return h.hexdigest()


def publish(client: redis.Redis, datasets: list[Dataset], published: dict[str, str] | None = None
            ) -> dict[str, int]:
    """Replace each changed dataset's hash and bump its version, all in one MULTI/EXEC (a
    dataset carrying a patch on what was last published gets only its changed entries).

    `published` maps dataset → digest of what this process last published. A dataset whose
    content did not change only refreshes its as_of, so viewers' version checks stay quiet;
    one missing from Redis (a wiped or new server) is always written whole.
    """
    published = {} if published is None else published
    present = client.hmget(keys.VERSIONS, [ds.name for ds in datasets]) if datasets else []
    pipe = client.pipeline(transaction=True)
    version_at, digests = {}, {}
    for ds, current in zip(datasets, present):
        pipe.hset(keys.AS_OF, ds.name, ds.as_of.isoformat(timespec="seconds"))
        payload = None
        if ds.digest is None:
            payload = encode(ds)
            ds.digest = digest(ds, payload)
        digests[ds.name] = ds.digest
        if current is not None and published.get(ds.name) == digests[ds.name]:
            continue
        key = keys.dataset_key(ds.name)
        if ds.patch is not None and current is not None and published.get(ds.name) == ds.patch.base:
            if ds.patch.set:       # only what changed: Redis then holds exactly `entries`
                pipe.hset(key, mapping={k: v if isinstance(v, RawJSON) else dumps(v)
                                        for k, v in ds.patch.set.items()})
            if ds.patch.removed:
                pipe.hdel(key, *ds.patch.removed)
        else:
            pipe.delete(key)
            if ds.entries:
                pipe.hset(key, mapping=payload if payload is not None else encode(ds))
        pipe.hincrby(keys.VERSIONS, ds.name, 1)
        version_at[ds.name] = len(pipe) - 1
    results = pipe.execute()
    published.update(digests)
    return {name: int(results[i]) for name, i in version_at.items()}


def record_health(client: redis.Redis, collector: str, health: dict) -> None:
    client.hset(keys.HEALTH, collector, dumps(health))


def record_rejects(client: redis.Redis, rejects: list[dict]) -> None:
    if not rejects:
        return
    pipe = client.pipeline(transaction=False)
    pipe.lpush(keys.REJECTS, *[dumps(r) for r in rejects[-keys.REJECTS_KEPT:]])
    pipe.ltrim(keys.REJECTS, 0, keys.REJECTS_KEPT - 1)
    pipe.execute()
