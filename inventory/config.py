"""The config file: agent settings, inventory and the sections other packages own.

``load_config`` reads and validates everything at once and returns an ``Inventory`` in which
every default is already applied: secret references are substituted first
(``inventory.secret_refs``), each device is resolved from its layers (``inventory.device_layers``),
then the cross-references are checked. All problems are collected and raised together as an
``InputError`` naming file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, create_model

from core.errors import InputError, InputProblem
from inventory.device_layers import resolve_device
from inventory.kinds import kind_problem
from inventory.maintenance import MaintenanceCalendar, MaintenanceWindow, Occurrence
from inventory.models import (
    AgentSettings,
    Device,
    Group,
    Inheritable,
    ResolvedDevice,
    Strict,
    System,
    Target,
    Unit,
)
from inventory.plugins import GENERATION, SECTIONS, Section, load_plugins, probe_kind
from inventory.schedule import Meeting
from inventory.secret_refs import expand_secrets, load_secrets
from inventory.yamlsource import Located, load_yaml, without_union_tags


class Config(Strict):
    """The inventory's own keys; the sections other packages register are added by ``config_model``
    (``inventory.config.alerting`` etc. are attributes of the model built from them)."""

    agent: AgentSettings = Field(default_factory=AgentSettings)
    units: list[Unit] = Field(default_factory=list)
    systems: list[System] = Field(default_factory=list)
    defaults: Inheritable = Field(default_factory=Inheritable)
    groups: list[Group] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    meetings: list[Meeting] = Field(default_factory=list)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)


def config_model() -> type[Config]:
    """The whole config's model: the inventory's keys plus every registered section."""
    load_plugins()
    return _config_model(frozenset(SECTIONS.values()), GENERATION[0])


@lru_cache(maxsize=4)
def _config_model(sections: frozenset[Section], generation: int) -> type[Config]:
    """``generation`` changes when a section's model was rebuilt (inventory.plugins.rebind_field)."""
    fields: dict[str, Any] = {s.name: (s.model, Field(default_factory=s.default)) for s in sorted(sections, key=lambda s: s.name)}
    return create_model("Config", __base__=Config, **fields)




@dataclass
class Inventory:
    """The loaded config with every default resolved."""

    config: Config
    source: str
    units: dict[str, Unit] = field(default_factory=dict)
    systems: dict[str, System] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    devices: dict[str, ResolvedDevice] = field(default_factory=dict)
    # line of each device in its source file, for later messages
    device_lines: dict[str, int | None] = field(default_factory=dict)

    @property
    def agent(self) -> AgentSettings:
        return self.config.agent

    @property
    def data_dir(self) -> Path:
        base = Path(self.agent.data_dir)
        if not base.is_absolute() and self.source not in ("", "<defaults>"):
            base = Path(self.source).resolve().parent / base
        return base

    def covering(self, now: float) -> dict[str, Occurrence]:
        """Device id → the maintenance occurrence covering it now."""
        return MaintenanceCalendar(self.config.maintenance, self).covering(now)

    def children(self, device_id: str) -> list[ResolvedDevice]:
        return [d for d in self.devices.values() if d.parent == device_id]

    def group_members(self, group_id: str) -> list[ResolvedDevice]:
        return [d for d in self.devices.values() if d.group == group_id]

    def unit_of(self, device_id: str) -> str | None:
        """The unit a device's records are filed under: its own, its group's, else its system's."""
        device = self.devices[device_id]
        if device.unit is None and device.system and device.system in self.systems:
            return self.systems[device.system].unit
        return device.unit


def load_config(path: str | Path, text: str | None = None) -> Inventory:
    """Load, validate and resolve a config file. Raises InputError with every problem found."""
    return _load_located(load_yaml(path, text))


def config_from_data(data: dict[str, Any], source: str = "<defaults>") -> Inventory:
    """Build an Inventory from an in-memory mapping (the demo, tests, benches).

    The mapping is validated as it is, not dumped to YAML and parsed again (10,000 devices:
    half the time and ~50 MB less peak memory). Problems name ``source`` and the field; there
    is no line to name.
    """
    return _load_located(Located(source, data, {}))


def _load_located(located: Located) -> Inventory:
    if located.data is None:
        located.data = {}
    if not isinstance(located.data, dict):
        raise InputError([located.problem([], "the config must be a mapping (key: value) at the top level")])
    secrets = load_secrets(located)
    problems: list[InputProblem] = []
    data = expand_secrets(located.data, (), located, secrets, problems)
    if problems:
        raise InputError(problems)
    try:
        config = config_model().model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, located)) from None
    return resolve(config, located)


def validation_problems(exc: ValidationError, located: Located, prefix: tuple[str | int, ...] = ()) -> list[InputProblem]:
    """Turn pydantic's errors into problems that name the file, line and field."""
    problems = []
    for error in exc.errors():
        loc = (*prefix, *(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))))
        loc = without_union_tags(located.data, loc, ("type",))
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see config.example.yaml)"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        problems.append(located.problem(loc, message))
    return problems


def resolve(config: Config, located: Located) -> Inventory:
    """Apply defaults → group → device, validate probe options and cross-references."""
    inventory = Inventory(config=config, source=located.file)
    problems: list[InputProblem] = []

    def unique(items: list[Any], section: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for index, item in enumerate(items):
            if item.id in seen:
                problems.append(located.problem([section, index, "id"], f"duplicate {section[:-1]} id {item.id!r}"))
            else:
                seen[item.id] = item
        return seen

    inventory.units = unique(config.units, "units")
    inventory.systems = unique(config.systems, "systems")
    inventory.groups = unique(config.groups, "groups")
    devices_by_id: dict[str, tuple[int, Device]] = {}
    for index, device in enumerate(config.devices):
        if device.id in devices_by_id:
            first_index = devices_by_id[device.id][0]
            first_line = located.line_of(["devices", first_index])
            first = f"line {first_line}" if first_line is not None else f"devices.{first_index}"
            problems.append(located.problem(["devices", index, "id"], f"duplicate device id {device.id!r} (first at {first})"))
        else:
            devices_by_id[device.id] = (index, device)

    def check_ref(value: str | None, known: dict[str, Any], what: str, path: list[str | int]) -> None:
        if value is not None and value not in known:
            problems.append(located.problem(path, f"unknown {what} {value!r} (declare it under {what}s:)"))

    for index, system in enumerate(config.systems):
        check_ref(system.unit, inventory.units, "unit", ["systems", index, "unit"])
    for index, group in enumerate(config.groups):
        if kind_problem(group.kind):
            problems.append(located.problem(["groups", index, "kind"], str(kind_problem(group.kind))))
        check_ref(group.unit, inventory.units, "unit", ["groups", index, "unit"])
        check_ref(group.system, inventory.systems, "system", ["groups", index, "system"])

    group_index: dict[str, int] = {}  # where each group is defined (the first, if repeated)
    for index, group in enumerate(config.groups):
        group_index.setdefault(group.id, index)
    for device_id, (index, device) in devices_by_id.items():
        path: list[str | int] = ["devices", index]
        inventory.device_lines[device_id] = located.line_of(path)
        group = inventory.groups.get(device.group) if device.group else None
        if kind_problem(device.kind):
            problems.append(located.problem([*path, "kind"], str(kind_problem(device.kind))))
        check_ref(device.group, inventory.groups, "group", [*path, "group"])
        group_path: list[str | int] = ["groups", group_index[group.id]] if group is not None else []
        resolved = resolve_device(device, group, group_path, config.defaults, config.agent.default_interval, located, path,
                                  problems)
        if resolved is None:
            continue
        check_ref(resolved.unit, inventory.units, "unit", [*path, "unit"])
        check_ref(resolved.system, inventory.systems, "system", [*path, "system"])
        inventory.devices[device_id] = resolved

    # Collectors check what only the whole device shows (attrs such as a line's bandwidth).
    for device_id, resolved in inventory.devices.items():
        for probe in resolved.probes.values():
            for field_name, message in probe_kind(probe.collector).check_target(Target(resolved, probe), inventory):
                index = devices_by_id[device_id][0]
                problems.append(located.problem(["devices", index, *field_name.split(".")], message))

    # Sections owned by other packages check their references to the inventory.
    for section_name in type(config).model_fields:
        checker = getattr(getattr(config, section_name), "check_references", None)
        if callable(checker):
            for section_path, message in checker(inventory):
                problems.append(located.problem([section_name, *section_path], message))

    for device_id, resolved in inventory.devices.items():
        if resolved.parent is None:
            continue
        path = ["devices", devices_by_id[device_id][0], "parent"]
        if resolved.parent not in devices_by_id:
            problems.append(located.problem(path, f"parent device {resolved.parent!r} does not exist"))
            continue
        seen = {device_id}
        current: str | None = resolved.parent
        while current is not None and current in inventory.devices:
            if current in seen:
                problems.append(located.problem(path, f"parent links form a loop through {current!r}"))
                break
            seen.add(current)
            current = inventory.devices[current].parent
    for index, window in enumerate(config.maintenance):
        for field_name, known in (("units", inventory.units), ("systems", inventory.systems), ("groups", inventory.groups), ("devices", devices_by_id)):
            for value in getattr(window, field_name):
                if value not in known:
                    problems.append(located.problem(["maintenance", index, field_name], f"{value!r} is not in the inventory"))
    for index, meeting in enumerate(config.meetings):
        for position, venue in enumerate(meeting.venues):
            if venue not in devices_by_id and venue not in inventory.groups:
                problems.append(
                    located.problem(["meetings", index, "venues", position], f"venue {venue!r} is neither a device nor a group")
                )
        check_ref(meeting.unit, inventory.units, "unit", ["meetings", index, "unit"])
    if problems:
        # an error in an inherited probe is reported once, not once per device
        unique_problems = list({(p.line, p.field, p.message): p for p in problems}.values())
        raise InputError(unique_problems)
    return inventory


def model_dump_plain(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)
