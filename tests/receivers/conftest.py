"""Fixtures of the receiver tests (in receivers_support.py, importable by a unique name)."""

from receivers_support import *  # noqa: F403
