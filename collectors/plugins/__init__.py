"""Collector plug-ins, one per source system. REGISTRY lists them in start order."""
from collectors.plugins.ami import AmiCollector
from collectors.plugins.events import EventsCollector
from collectors.plugins.geo import GeoCollector
from collectors.plugins.keycustomers import KeyCustomersCollector
from collectors.plugins.orders import OrdersCollector
from collectors.plugins.outages import OutagesCollector
from collectors.plugins.scada import ScadaCollector
from collectors.plugins.topology import TopologyCollector
from collectors.plugins.warnings import WarningsCollector
from collectors.plugins.weather import WeatherCollector

# Orders (sensitive), events and key customers read the outages collector's state, the warnings
# everyone's: each comes after its sources, so one pass in this order gives all their inputs.
REGISTRY = [TopologyCollector, OutagesCollector, OrdersCollector, ScadaCollector, AmiCollector,
            WeatherCollector, EventsCollector, KeyCustomersCollector, WarningsCollector, GeoCollector]
