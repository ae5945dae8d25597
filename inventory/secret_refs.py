"""Secrets in the config: ``${env:NAME}``, ``${secret:NAME}`` and ``${env:NAME:-default}``.

The secrets file (``agent.secrets_file`` or ``$YUNWEI_SECRETS``, relative to the config file)
is a YAML mapping of name: value; every reference in the config is substituted before the
config is validated, and a reference to nothing set is a problem naming file, line and field.
Infinite and NaN numbers are refused on the same walk.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from core.errors import InputError, InputProblem
from inventory.yamlsource import Located, load_yaml

# ${env:NAME}, ${secret:NAME}, and ${env:NAME:-default} for an optional value
SECRET_REF = re.compile(r"\$\{(env|secret):([A-Za-z0-9_.\-]+)(?::-([^}]*))?\}")


def load_secrets(located: Located) -> dict[str, str]:
    agent = located.data.get("agent") if isinstance(located.data.get("agent"), dict) else {}
    secrets_file = (agent or {}).get("secrets_file") or os.environ.get("YUNWEI_SECRETS")
    if not secrets_file or not isinstance(secrets_file, str):
        return {}  # not a file name: the schema check names the field
    path = Path(secrets_file)
    if not path.is_absolute() and located.file not in ("", "<defaults>"):
        path = Path(located.file).resolve().parent / path
    secrets = load_yaml(path)
    if not isinstance(secrets.data, dict):
        raise InputError([secrets.problem([], "the secrets file must be a mapping of name: value")])
    return {str(k): str(v) for k, v in secrets.data.items()}


def expand_secrets(
    value: Any, path: tuple[str | int, ...], located: Located, secrets: dict[str, str], problems: list[InputProblem]
) -> Any:
    """Substitute ${env:...}/${secret:...} everywhere; refuse infinite and NaN numbers on the way."""
    if isinstance(value, dict):
        return {k: expand_secrets(v, (*path, k), located, secrets, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_secrets(v, (*path, i), located, secrets, problems) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(located.problem(path, f"{value} is not a number yunwei can use (.inf and .nan are refused)"))
        return value
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        source, name, default = match.groups()
        found = os.environ.get(name) if source == "env" else secrets.get(name)
        if found is None and default is not None:
            return default
        if found is None:
            where = "environment variable" if source == "env" else "entry of the secrets file"
            problems.append(located.problem(path, f"{where} {name!r} is not set"))
            return ""
        return found

    return SECRET_REF.sub(substitute, value)
