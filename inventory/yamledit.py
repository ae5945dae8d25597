"""Editing the config file in place: ruamel.yaml's round trip in the file's own indentation.

The engineer's comments, quotes, flow mappings and indentation survive; only the sections an
import changes are rewritten. ruamel's own guess of the indentation looks at the first block
only (``agent:``), so the indentation of sequences is measured here from the text.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

_BLOCK_KEY = re.compile(r"^(\s*)(?:- )?[^\s#\-][^:#]*:\s*(#.*)?$")


def guess_indent(text: str) -> tuple[int, int]:
    """(mapping indent, offset of a sequence's dash under its key) as the file writes them."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    mapping: int | None = None
    offset: int | None = None
    for current, following in zip(lines, lines[1:], strict=False):
        match = _BLOCK_KEY.match(current)
        if not match:
            continue
        parent = len(match.group(1)) + (2 if current.lstrip().startswith("- ") else 0)
        child = len(following) - len(following.lstrip())
        if following.lstrip().startswith("- ") and child >= parent:
            offset = child - parent if offset is None else offset
        elif child > parent and mapping is None:
            mapping = child - parent
        if mapping is not None and offset is not None:
            break
    return mapping or 2, 2 if offset is None else offset


def round_trip_yaml(text: str) -> YAML:
    """A ruamel YAML that writes ``text``'s style back unchanged."""
    mapping, offset = guess_indent(text)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long flow mapping onto two lines
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    yaml.representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def dump(yaml: YAML, document: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def styled_like(sample: Any, values: dict[str, Any]) -> CommentedMap:
    """A new mapping in the style of its neighbours: flow (``{id: x, ...}``) when they are."""
    item = CommentedMap(values)
    if isinstance(sample, CommentedMap) and sample.fa.flow_style():
        item.fa.set_flow_style()
    for key, value in item.items():
        if isinstance(value, dict):
            item[key] = flow_map(value)  # attrs: {location: 人民路口, model: DS-2CD}
    return item


def flow_map(values: dict[str, Any]) -> CommentedMap:
    item = CommentedMap(values)
    item.fa.set_flow_style()
    return item
