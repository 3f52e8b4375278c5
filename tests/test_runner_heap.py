"""The runner looks after the collectors' heap (collectors/heap.py): after a collector's first
cycle (its bootstrap) the heap is collected once and frozen out of later collections, and freed
pages go back to the OS (glibc malloc_trim); a big batch is trimmed too, small cycles are not;
a settle reclaims cyclic garbage among frozen objects, and runs again once it is due."""
from __future__ import annotations

import gc
import weakref
from datetime import datetime

import pytest

from collectors import heap
from collectors import runner as runner_mod
from collectors.plugins.topology import TopologyCollector
from tests.kpi_harness import Harness

NOW = datetime(2026, 7, 15, 14, 0)


@pytest.fixture(autouse=True)
def thawed():
    yield
    gc.unfreeze()          # the rest of the test session collects as usual


@pytest.fixture
def trims(monkeypatch):
    calls = []
    monkeypatch.setattr(heap, "_TRIM", lambda pad: calls.append(pad))
    return calls


def test_trim_after_the_first_cycle_and_big_batches_only(settings_env, redis_client, monkeypatch, trims):
    h = Harness(redis_client, [TopologyCollector], NOW)
    h.run()
    assert trims == [0]
    h.run()                                           # nothing moved: no trim
    assert trims == [0]
    monkeypatch.setattr(runner_mod, "TRIM_AFTER_ROWS", 0)
    h.run()
    assert trims == [0, 0]
    assert heap._malloc_trim() is not None            # glibc here


def test_a_collector_may_keep_its_heap_between_big_batches(settings_env, redis_client, monkeypatch, trims):
    """A collector whose every cycle reads a big batch (AMI) is trimmed after its first cycle
    only: what one cycle frees, the next one uses again."""
    from collectors.plugins.ami import AmiCollector
    monkeypatch.setattr(runner_mod, "TRIM_AFTER_ROWS", 0)
    h = Harness(redis_client, [TopologyCollector, AmiCollector], NOW)
    h.runners[0].collector.trim_after_batches = True
    h.run()
    assert trims == [0, 0]                            # both first cycles
    h.run()
    assert trims == [0, 0, 0]                         # the topology's "big" batch only
    assert AmiCollector.trim_after_batches is False


def test_a_bootstrap_freezes_its_state_out_of_later_collections(settings_env, redis_client, monkeypatch):
    settles = []
    monkeypatch.setattr(heap, "settle", lambda: settles.append(1) or gc.freeze())
    gc.unfreeze()
    h = Harness(redis_client, [TopologyCollector], NOW)
    h.run()
    tree = h.runners[0].collector.tree
    assert settles == [1] and gc.get_freeze_count() > 0
    assert not any(o is tree for o in gc.get_objects(generation=2))   # frozen: no generation walks it
    h.run()
    assert settles == [1]                             # not after every cycle


class Node:
    def __init__(self):
        self.me = self                                # a reference cycle: only the GC frees it


def test_settle_reclaims_cyclic_garbage_among_frozen_objects():
    node = Node()
    alive = weakref.ref(node)
    heap.settle()                                     # node is frozen
    del node
    gc.collect()
    assert alive() is not None                        # frozen garbage waits for the next settle
    heap.settle()
    assert alive() is None


def test_settle_runs_again_once_due(monkeypatch):
    heap.settle()
    node = Node()
    alive = weakref.ref(node)
    gc.freeze()
    del node
    heap.settle_if_due()
    assert alive() is not None                        # not due yet
    monkeypatch.setattr(heap, "_settled_at", heap._settled_at - heap.SETTLE_EVERY_S - 1)
    heap.settle_if_due()
    assert alive() is None


def test_the_collectors_process_bootstraps_in_turn_and_stops_between(settings_env, redis_client):
    from collectors.__main__ import bootstrap_in_turn
    from collectors.plugins import REGISTRY
    h = Harness(redis_client, REGISTRY, NOW)
    topology, rest = h.runners[0], h.runners[1:]
    assert topology.run_once()
    stopping = iter([False, False, False, True])         # SIGTERM after the third bootstrap
    scheduled = []
    bootstrap_in_turn(rest, lambda: next(stopping), lambda r: scheduled.append((r, r.health["cycles_ok"])))
    assert [r.health["cycles_ok"] for r in rest] == [1, 1, 1] + [0] * (len(rest) - 3)
    assert scheduled == [(r, 1) for r in rest[:3]]       # each joins the schedule once bootstrapped
    bootstrap_in_turn(rest[3:], lambda: False, lambda r: None)
    assert all(r.health["cycles_ok"] == 1 for r in rest), [(r.collector.name, r.health["last_error"]) for r in rest]


def test_malloc_arenas_are_limited_on_glibc():
    assert heap.limit_arenas() is True
