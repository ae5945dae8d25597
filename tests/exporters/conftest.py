"""Fixtures of the exporters tests (they live in exporters_support.py, importable by a unique name)."""

from exporters_support import *  # noqa: F403
