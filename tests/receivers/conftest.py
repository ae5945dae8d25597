"""Fixtures of the receiver tests (in receivers_support.py, importable by a unique name)."""

from receivers_support import *  # noqa: F403
from snmp.snmp_support import nut  # noqa: E402, F401 - the NUT upsd fixture (UPS tests)
