"""The audit's episode store (collectors.domain.audit.EpisodeStore: episodes kept in chunks
sorted by feeder, the touched feeders' episodes replaced by appending a chunk) against the
episodes derived from all events in one go: after every step of events arriving, being
corrected and leaving, with and without the chunks merged again."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from collectors.domain import audit as kpi
from tests.kpi_harness import Harness
from tests.test_events_incremental import COLLECTORS, Source

START = datetime(2026, 7, 15, 3, 0)
WINDOW = pd.Timedelta(minutes=10)
SORT = ({"ep_id": None}, {"ep_id": None, "tarea_code": None, "whole": None}, {"ep_id": None, "event_id": None})


def canonical(found) -> list[pd.DataFrame]:
    out = []
    for frame, keys in zip(found, SORT):
        frame = frame.drop(columns="fpos", errors="ignore")
        frame = frame.sort_values(list(keys)).reset_index(drop=True)
        out.append(frame.astype(object).where(frame.notna(), None))
    return out


def assert_same(got, want) -> None:
    for g, w in zip(canonical(got), canonical(want)):
        pd.testing.assert_frame_equal(g[sorted(w.columns)], w[sorted(w.columns)], check_dtype=False)


@pytest.mark.parametrize("seed,max_chunks", [(5, 3), (6, 1000)])
def test_episode_store_equals_a_whole_derivation(settings_env, source_url, redis_client, seed, max_chunks,
                                                 monkeypatch):
    monkeypatch.setattr(kpi.EpisodeStore, "MAX_CHUNKS", max_chunks)
    source, rnd = Source(source_url, seed), random.Random(seed)
    now = START
    for _ in range(18):
        source.step(now, now + timedelta(minutes=20), reports=False)
        now += timedelta(minutes=20)
    h = Harness(redis_client, COLLECTORS, now).run()
    events = next(r.collector for r in h.runners if r.collector.name == "events")
    tree = h.ctx.tree
    breaker = events.events["scada_breaker_event"].drop(columns="_fpos")
    ami = events.events["ami_power_event"].drop(columns="_fpos")
    assert len(breaker) > 20 and len(ami) > 50

    def feeder_of(frame, name):
        codes = frame["feeder_code"] if name == "b" else frame["tarea_code"].map(tree.nodes["parent_code"])
        return codes.to_numpy(dtype=object)

    cuts = sorted(rnd.sample(sorted(set(breaker["ts"]) | set(ami["ts"])), 12))
    dropped: set = set()

    def state(cut):
        return (breaker[(breaker["ts"] <= cut) & ~breaker["event_id"].isin(dropped)],
                ami[(ami["ts"] <= cut) & ~ami["event_id"].isin(dropped)])

    b, a = state(cuts[0])
    store = kpi.EpisodeStore(kpi.episodes(b, a, tree, now, WINDOW), tree)
    assert_same(store.whole(), kpi.episodes(b, a, tree, now, WINDOW))
    for cut in cuts[1:]:
        if rnd.random() < 0.4:       # events leave (window, corrections): drop a few seen ones
            seen = pd.concat([b["event_id"], a["event_id"]]).tolist()
            dropped.update(rnd.sample(seen, min(len(seen), rnd.randint(1, 4))))
        b2, a2 = state(cut)
        moved = set()
        for old, new, kind in ((b, b2, "b"), (a, a2, "a")):
            diff = pd.concat([old[~old["event_id"].isin(new["event_id"])], new[~new["event_id"].isin(old["event_id"])]])
            moved.update(feeder_of(diff, kind).tolist())
        b, a = b2, a2
        at = tree.positions(sorted(moved))
        fresh = kpi.episodes(b[np.isin(feeder_of(b, "b"), sorted(moved))],
                             a[np.isin(feeder_of(a, "a"), sorted(moved))], tree, now, WINDOW)
        store.replace(at, fresh)
        whole = kpi.episodes(b, a, tree, now, WINDOW)
        assert len(store) == len(whole[0])
        assert_same(store.whole(), whole)
        # some feeders' rows alone
        some = rnd.sample(sorted(set(whole[0]["feeder_code"])), min(3, whole[0]["feeder_code"].nunique()))
        ids = set(whole[0].loc[whole[0]["feeder_code"].isin(some), "ep_id"])
        assert_same(store.for_feeders(tree.positions(some)),
                    tuple(f[f["ep_id"].isin(ids)] for f in whole))
        eps = whole[0]
        open_now = eps[(eps["kind"] == "feeder") & eps["end"].isna()]
        got = store.open_feeders()
        assert sorted(zip(got["feeder_code"], pd.to_datetime(got["since"]))) == \
            sorted(zip(open_now["feeder_code"], pd.to_datetime(open_now["start"])))
    if max_chunks == 3:
        assert sum(c is not None for c in store.chunks) <= 4      # merged again along the way
