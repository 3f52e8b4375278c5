"""Peakwatch's simulated source systems: a city (or a province) whose SCADA, AMI, 95598, OMS,
customer files and weather write rows into a real SQL database in (clock) real time.

Command line (defaults from config.settings / the environment)::

    python -m simulator [--url URL] [--scale tiny|small|demo|province]
                        [--scenario normal|heatwave|typhoon] [--seed N] [--speed N]
                        [--start ISO] [--backfill-days N] [--rebuild] [--tick S]

It creates the schema, builds the topology, backfills history, prints ``simulator ready``
(flushed) and then advances with the one clock (config.clock; ``--speed``/``--start`` set a
replay clock when PEAKWATCH_CLOCK is not given). SIGTERM/SIGINT exit cleanly. A database that
already holds the same seed/scale/scenario is resumed (the gap since the last tick is filled).

Library API (tests)::

    from simulator import Simulation
    sim = Simulation("sqlite:///tmp/x.db", scale="tiny", scenario="normal", seed=1)
    sim.bootstrap(now, backfill_days=3)   # -> 'rebuilt' | 'resumed'; history up to `now`
    sim.advance(until)                    # write everything in (last tick, until]
    sim.topo                              # topology frames (nodes, tareas, feeders, ...)
    sim.close()

Given the same seed, scale, scenario and `now`, the rows are the same: every hour of the plan
draws from its own keyed random stream. Ground truth lives in tables prefixed ``sim_``
(simulator/tables.py): sim_outage, sim_outage_tarea, sim_oms_rev, sim_oms_tarea, sim_order_plan,
sim_order_step, sim_ami_event, sim_breaker_event, sim_notice, sim_crew, sim_meta.

District polygons: ``simulator.geo.district_geojson(scale, seed)`` (and ``city_geojson``).
"""
from .engine import Simulation

__all__ = ["Simulation"]
