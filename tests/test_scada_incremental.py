"""SCADA reuses its 15-min / feeder-flag frame until the next quarter completes, its curve lists
and their JSON texts while the curves stand, rolls up only the buckets that changed and publishes
only the entries that changed; each cycle, what it publishes equals a full recomputation from its
state, also after a late row lands in a complete quarter (and the flags equal SQL)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import create_engine, text

from collectors.domain.load import node_curves
from collectors.plugins.scada import ScadaCollector, curve_lists
from collectors.plugins.topology import TopologyCollector
from collectors.publish import dumps, encode
from collectors.redis_schema import dataset_key
from tests.kpi_harness import Harness, insert
from tests.sourcedata import fmt
from tests.test_kpi_load import FEEDERS, NOW, row, seed, sql_flagged


def fresh(scada: ScadaCollector, now: datetime) -> pd.DataFrame:
    at = pd.Timestamp(now).floor("15min") - pd.Timedelta(minutes=15)
    return scada._peak_frame(now, at)


def test_cached_frames_equal_a_recomputation_each_cycle(settings_env, source_url, redis_client):
    seed(source_url)
    h = Harness(redis_client, [TopologyCollector, ScadaCollector], NOW).run()
    scada = h.runners[1].collector
    now = NOW
    for minute in range(1, 6):
        now = NOW + timedelta(minutes=minute)
        insert(source_url, "scada_feeder_load", [row(f, now - timedelta(minutes=1), 3.0, 150.0) for f in FEEDERS])
        if minute == 3:   # late: the 13:00 dip of PC02S01F001 corrected, so it is heavy after all
            before = h.entry("load", "PC02")["heavy_feeders"]
            engine = create_engine(source_url)
            with engine.begin() as c:
                c.execute(text("UPDATE scada_feeder_load SET current_a = 350, active_mw = active_mw + 1, updated_at = :u"
                               " WHERE feeder_code = 'PC02S01F001' AND ts >= '2026-07-15 13:00:00'"
                               " AND ts < '2026-07-15 13:15:00'"), {"u": fmt(now - timedelta(seconds=30))})
            engine.dispose()
        h.at(now).run()
        if minute == 3:
            assert h.entry("load", "PC02")["heavy_feeders"] == before + 1
        at = pd.Timestamp(now).floor("15min") - pd.Timedelta(minutes=15)
        pd.testing.assert_frame_equal(scada.peak_frame(now, at), fresh(scada, now))
        for day, curves in scada.curves.items():      # updated a bucket at a time = rebuilt whole
            pd.testing.assert_frame_equal(curves, node_curves(scada.buckets.day(day), scada.tree))
        codes = pd.Index(sorted(k for k in redis_client.hkeys(dataset_key("load"))))
        for name, frame in (("yesterday", scada.curves.get(pd.Timestamp(now).normalize() - pd.Timedelta(days=1))),
                            ("last_year", scada.last_year_curves)):
            if frame is None:
                continue
            want = curve_lists(frame, codes)
            for code in codes:
                assert json.loads(redis_client.hget(dataset_key("load"), code))[f"curve_{name}"] == want[code]
        # entries are assembled from kept curve texts and sent as patches: Redis holds exactly
        # the whole content, each entry what dumps writes for its dict, today's curve current
        stored = redis_client.hgetall(dataset_key("load"))
        assert stored == encode(h.runners[1].last_datasets[0])
        today = curve_lists(scada.curves[pd.Timestamp(now).normalize()], codes)
        for code, text_ in stored.items():
            value = json.loads(text_)
            assert text_ == dumps(value) and value["curve_today"] == today[code], code
    for node in ("PC", "PC02", "PC02S01"):
        got = h.entry("load", node)
        assert got["heavy_feeders"] == sql_flagged(source_url, node, 0.8), node
        assert got["overload_feeders"] == sql_flagged(source_url, node, 1.0), node


def test_raw_rows_share_the_tree_codes(settings_env, source_url, redis_client):
    """The raw minutes hold the tree's own feeder code texts (one per feeder, not one per row),
    with the same values and dtype as the driver's."""
    seed(source_url)
    h = Harness(redis_client, [TopologyCollector, ScadaCollector], NOW).run()
    scada = h.runners[1].collector
    for minute in (1, 2):
        now = NOW + timedelta(minutes=minute)
        insert(source_url, "scada_feeder_load", [row(f, now - timedelta(minutes=1), 3.0, 150.0) for f in FEEDERS])
        h.at(now).run()
    rows = scada.rows
    assert len(rows) > len(FEEDERS) and isinstance(rows["feeder_code"].dtype, pd.StringDtype)
    tree_codes = dict(zip(scada.tree.code_array.tolist(), scada.tree.code_array))
    assert all(c is tree_codes[c] for c in rows["feeder_code"].to_numpy(dtype=object))


def test_curve_texts_follow_new_buckets_and_nodes(settings_env, source_url, redis_client):
    """Today's curve texts, re-serialised only where values changed, equal curve_lists of the
    curves each cycle across a new quarter (a bucket with no value before gets one) and a
    feeder reporting for the first time today (a node new to the curve)."""
    seed(source_url)
    h = Harness(redis_client, [TopologyCollector, ScadaCollector], NOW).run()
    scada = h.runners[1].collector
    quiet = "PC02S01F002"          # silent from 14:20 on, back at 14:33
    for minute in range(1, 16):
        now = NOW + timedelta(minutes=minute)
        feeders = [f for f in FEEDERS if f != quiet or minute >= 13]
        insert(source_url, "scada_feeder_load", [row(f, now - timedelta(minutes=1), 2.0 + minute / 10, 150.0)
                                                 for f in feeders])
        h.at(now).run()
        codes = pd.Index(sorted(redis_client.hkeys(dataset_key("load"))))
        today = curve_lists(scada.curves[pd.Timestamp(now).normalize()], codes)
        for code in codes:
            got = json.loads(redis_client.hget(dataset_key("load"), code))["curve_today"]
            assert got == today[code], (minute, code)
