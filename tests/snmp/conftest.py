"""Fixtures of the snmp tests (they live in snmp_support.py, importable by a unique name)."""

from snmp_support import *  # noqa: F403
