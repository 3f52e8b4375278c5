"""Configuration: environment settings, the one clock, and the YAML rule files beside this module."""
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
ROOT_DIR = CONFIG_DIR.parent
VAR_DIR = ROOT_DIR / "var"
