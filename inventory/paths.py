"""Where things are found before any config is read (kept light: ``yunwei --help`` imports it)."""

from __future__ import annotations

# The config file a command reads when neither -c nor $YUNWEI_CONFIG names one.
DEFAULT_CONFIG = "config.yaml"
