"""Collector plug-ins, one per source system. REGISTRY lists them in start order."""
from collectors.plugins.ami import AmiCollector
from collectors.plugins.orders import OrdersCollector
from collectors.plugins.outages import OutagesCollector
from collectors.plugins.scada import ScadaCollector
from collectors.plugins.topology import TopologyCollector
from collectors.plugins.weather import WeatherCollector

REGISTRY = [TopologyCollector, OrdersCollector, OutagesCollector, ScadaCollector, AmiCollector,
            WeatherCollector]
