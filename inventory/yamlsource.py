"""YAML reading that remembers where every value came from, so errors can name the line."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from core.errors import InputError, InputProblem

PathKey = tuple[str | int, ...]
# libyaml's composer is ~6x faster than the pure-Python one (10,000 devices: 7 s → 1 s) and
# keeps the same marks; PyYAML built without libyaml falls back to the Python loader.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RECORDINGS: list[list[str]] = []  # open ``recording_reads``: each gets every file read


@contextmanager
def recording_reads() -> Iterator[list[str]]:
    """The files ``load_yaml`` reads inside the block (what a config's view depends on)."""
    files: list[str] = []
    _RECORDINGS.append(files)
    try:
        yield files
    finally:
        _RECORDINGS.remove(files)


class Located:
    """Parsed YAML plus the line of every mapping key and sequence item."""

    def __init__(self, file: str, data: Any, lines: dict[PathKey, int]) -> None:
        self.file = file
        self.data = data
        self.lines = lines

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the deepest known prefix of ``path``."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def problem(self, path: Sequence[str | int], message: str) -> InputProblem:
        field = ".".join(str(p) for p in path) or None
        return InputProblem(file=self.file, line=self.line_of(path), field=field, message=message)


def load_yaml(path: str | Path, text: str | None = None) -> Located:
    """Read a YAML file; syntax errors and duplicate keys raise InputError with the line."""
    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError.single(file, "file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError.single(file, f"cannot read: {exc}") from None
        for files in _RECORDINGS:
            files.append(file)
    try:
        node = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a control character)
        line = text.count("\n", 0, exc.position) + 1
        shown = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise InputError.single(file, f"YAML syntax error: the character {shown} is not allowed in YAML", line=line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(str(getattr(exc, "problem", None) or exc).split())  # one line
        raise InputError.single(file, f"YAML syntax error: {reason}", line=line) from None
    lines: dict[PathKey, int] = {}
    problems: list[InputProblem] = []
    walk = _Walk(file, lines, problems)
    try:
        data = walk.value(node, ()) if node is not None else {}
    except _Unbounded as exc:
        raise InputError([exc.problem]) from None
    if problems:
        raise InputError(problems)
    return Located(file, data, lines)


# Values one file may expand to. Aliases let a few lines stand for billions of values (the
# "billion laughs"); a 10,000-device inventory is a few hundred thousand.
MAX_VALUES = 1_000_000


class _Unbounded(Exception):
    def __init__(self, problem: InputProblem) -> None:
        self.problem = problem


class _Walk:
    """Turns composed YAML nodes into Python values, noting the line of every key and item,
    refusing what cannot be a config: unhashable keys, aliases that contain themselves, and
    alias expansions beyond MAX_VALUES."""

    def __init__(self, file: str, lines: dict[PathKey, int], problems: list[InputProblem]) -> None:
        self.file = file
        self.lines = lines
        self.problems = problems
        self.constructor = yaml.SafeLoader("")
        self.count = 0
        self.open: set[int] = set()  # the nodes being walked (an alias to one of them is a loop)

    def _field(self, path: PathKey) -> str | None:
        return ".".join(map(str, path)) or None

    def value(self, node: yaml.Node, path: PathKey) -> Any:
        self.count += 1
        line = node.start_mark.line + 1
        if self.count > MAX_VALUES:
            raise _Unbounded(
                InputProblem(self.file, f"expands to more than {MAX_VALUES:,} values (aliases repeated?)", line, self._field(path))
            )
        if id(node) in self.open:
            raise _Unbounded(InputProblem(self.file, "a YAML alias refers to a value that contains it", line, self._field(path)))
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.open.add(id(node))
            try:
                return self._mapping(node, path) if isinstance(node, yaml.MappingNode) else self._sequence(node, path)
            finally:
                self.open.discard(id(node))
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as exc:  # e.g. 2026-13-01 looks like a date but is not one
            self.problems.append(InputProblem(self.file, f"bad value {node.value!r}: {exc}", line, self._field(path)))
            return None

    def _sequence(self, node: yaml.SequenceNode, path: PathKey) -> list[Any]:
        return [self.value(item, (*path, index)) for index, item in enumerate(node.value)]

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(InputProblem(self.file, "YAML merge keys (<<) are not supported", line))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                what = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                where = self._field(path) or "(top level)"
                self.problems.append(InputProblem(self.file, f"{what} cannot be a key (write key: value)", line, where))
                continue
            try:
                key = self.constructor.construct_object(key_node, deep=True)
            except (ValueError, yaml.YAMLError) as exc:
                self.problems.append(InputProblem(self.file, f"bad key {key_node.value!r}: {exc}", line, self._field(path)))
                continue
            child = (*path, key)
            if key in result:
                self.problems.append(InputProblem(self.file, f"duplicate key {key!r}", line, self._field(child)))
                continue
            self.lines[child] = line
            result[key] = self.value(value_node, child)
        return result


def without_union_tags(data: Any, loc: Sequence[Any], keys: tuple[str, ...]) -> tuple[str | int, ...]:
    """Drop the tags pydantic puts in the location of an error inside a discriminated union
    (``channels.ops.dingtalk.url`` → ``channels.ops.url``, ``rules.0.count.cap`` →
    ``rules.0.cap``): a part that is not a key of the mapping but the value of its
    discriminator (one of ``keys``, e.g. ``type: dingtalk``)."""
    cleaned: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part not in current and any(current.get(key) == part for key in keys):
            continue
        cleaned.append(part)
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        else:
            current = None
    return tuple(cleaned)
