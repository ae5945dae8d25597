"""What the packages above inventory add to the config: sections and probe kinds.

Inventory imports none of them. Each package names a ``register()`` function under the entry
point group ``yunwei.plugins`` (pyproject.toml); ``load_plugins()`` calls every one once before
the first config is loaded, and each registers its config sections (``alerting:``,
``exporters:``, ``contracts:`` …) and probe kinds (the collectors) here. A new section or
collector is one module plus its registration; nothing in inventory changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Protocol, TypeVar, Union

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

if TYPE_CHECKING:
    from inventory.models import Target

log = logging.getLogger("yunwei.plugins")

ENTRY_POINT_GROUP = "yunwei.plugins"


@dataclass(frozen=True)
class Section:
    """A top-level config key owned by another package.

    The model may define ``check_references(inventory) -> list[(path, message)]`` to refuse
    references to units, groups or devices that do not exist."""

    name: str
    model: Any  # a pydantic model or a type pydantic validates (list[ContractRef])
    default: Callable[[], Any]


class ProbeKind(Protocol):
    """What the config loader needs of a collector class."""

    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]
    default_interval: ClassVar[float | None]
    in_rounds: ClassVar[bool]

    @classmethod
    def check_target(cls, target: Target, inventory: Any) -> list[tuple[str, str]]: ...


SECTIONS: dict[str, Section] = {}
PROBE_KINDS: dict[str, Any] = {}
K = TypeVar("K")
T = TypeVar("T")
# bumped whenever a registered model changes after the config model was built (config_model's cache key)
GENERATION = [0]


class DuplicateNameError(Exception):
    pass


def register_section(name: str, model: Any, default: Callable[[], Any]) -> None:
    existing = SECTIONS.get(name)
    if existing is not None and existing.model is not model:
        raise DuplicateNameError(f"config section {name!r} is registered twice")
    SECTIONS[name] = Section(name, model, default)


def register_probe_kind(cls: K) -> K:
    """Make a collector class known under its ``name`` (duplicate names are refused)."""
    name = getattr(cls, "name", None)
    if not name:
        raise ValueError(f"{getattr(cls, '__qualname__', cls)} has no name")
    existing = PROBE_KINDS.get(name)
    if existing is not None and existing is not cls:
        raise DuplicateNameError(f"collector name {name!r} is taken by {existing.__module__}.{existing.__qualname__}")
    PROBE_KINDS[name] = cls
    return cls


def probe_kind(name: str) -> ProbeKind:
    load_plugins()
    return PROBE_KINDS[name]


def probe_kind_names() -> list[str]:
    load_plugins()
    return sorted(PROBE_KINDS)


@cache
def load_plugins() -> None:
    """Call every registered plugin's ``register()`` once."""
    found = entry_points(group=ENTRY_POINT_GROUP)
    if not found:
        raise RuntimeError(
            "no yunwei plugins are registered: install the package (pip install -e . or the wheel) "
            "so that its entry points exist"
        )
    for entry in sorted(found, key=lambda e: e.name):
        entry.load()()


class Registry(Generic[T]):
    """Named implementations of one extension point with their metadata (notifiers, exporters,
    scoring rule kinds), as ``PROBE_KINDS`` is for collectors.

    A new implementation is one module that calls ``register``. The pydantic unions of the
    config are built from the registry (``union``); an implementation registered after they
    were built (a plugin loaded late, a test) rebuilds them through ``on_late_register``."""

    def __init__(self, what: str, name_of: Callable[[T], str]) -> None:
        self.what = what
        self.name_of = name_of
        self.entries: dict[str, T] = {}
        self.listeners: list[Callable[[], None]] = []

    def register(self, item: K) -> K:
        name = self.name_of(item)  # type: ignore[arg-type]
        existing = self.entries.get(name)
        if existing is not None and existing != item:
            raise DuplicateNameError(f"{self.what} {name!r} is registered twice")
        if existing is None:
            self.entries[name] = item  # type: ignore[assignment]
            for listener in self.listeners:
                listener()
        return item

    def on_late_register(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every later registration (to rebuild a union)."""
        self.listeners.append(listener)

    def unregister(self, name: str) -> None:
        """Forget an implementation (tests clean up after themselves)."""
        if self.entries.pop(name, None) is not None:
            for listener in self.listeners:
                listener()

    def __getitem__(self, name: str) -> T:
        return self.entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def get(self, name: str) -> T | None:
        return self.entries.get(name)

    def names(self) -> list[str]:
        return sorted(self.entries)

    def values(self) -> list[T]:
        return [self.entries[name] for name in self.names()]

    def union(self, model_of: Callable[[T], Any], discriminator: str) -> Any:
        """``Annotated[A | B | ..., Field(discriminator=...)]`` of every registered model."""
        models = tuple(model_of(item) for item in self.values())
        return Annotated[Union[models], Field(discriminator=discriminator)]  # noqa: UP007 - built from a tuple


def rebind_field(model: type[BaseModel], name: str, annotation: Any, default: Any = ..., after: Any = ()) -> None:
    """Give ``model`` the field ``name`` with ``annotation`` (new or replaced) and rebuild its
    validator, then those of the models in ``after`` that embed it (in that order); the config
    model is built anew on the next load."""
    old = model.__pydantic_fields__.get(name)
    if old is not None:
        old.annotation = annotation
    else:
        model.__pydantic_fields__[name] = FieldInfo.from_annotated_attribute(annotation, default)
    model.model_rebuild(force=True)
    for parent in after:
        parent.model_rebuild(force=True)
    GENERATION[0] += 1


def drop_field(model: type[BaseModel], name: str, after: Any = ()) -> None:
    """Undo ``rebind_field`` for a field that was added (an unregistered implementation)."""
    if model.__pydantic_fields__.pop(name, None) is not None:
        model.model_rebuild(force=True)
        for parent in after:
            parent.model_rebuild(force=True)
        GENERATION[0] += 1
