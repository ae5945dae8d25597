"""One device resolved from its layers: ``defaults`` → its group → the device itself.

Probes, tags, the online rule and the interval are inherited layer by layer (a layer removes a
probe with ``name: null``); each probe's options are validated by its collector; a device with
an address and no probe in rounds is pinged; without an ``online:`` rule the device kind's
default applies, restricted to the probes the device has.
"""

from __future__ import annotations

from pydantic import ValidationError

from core.errors import InputProblem
from inventory.lookup import did_you_mean
from inventory.models import (
    KIND_DEFAULT_ONLINE,
    Device,
    Group,
    Inheritable,
    ProbeSpec,
    ResolvedDevice,
    ResolvedProbe,
)
from inventory.online import parse_rule
from inventory.plugins import probe_kind, probe_kind_names
from inventory.yamlsource import Located

MAX_PROBE_TIMEOUT = 300  # seconds; see docs/bounds.md


def resolve_device(
    device: Device,
    group: Group | None,
    group_path: list[str | int],
    defaults: Inheritable,
    default_interval: float,
    located: Located,
    path: list[str | int],
    problems: list[InputProblem],
) -> ResolvedDevice | None:
    """The device's layers (defaults, its group, itself) merged, each probe's options validated by
    its collector; None when a mistake leaves nothing to resolve (the problems say why)."""
    layers: list[tuple[Inheritable, list[str | int]]] = [(defaults, ["defaults"])]
    if group is not None:
        layers.append((group, group_path))
    layers.append((device, path))
    probe_specs: dict[str, ProbeSpec] = {}
    probe_paths: dict[str, list[str | int]] = {}  # where each probe was defined, for messages
    tags: dict[str, str] = {}
    online: str | None = None
    interval: float | None = None
    removed: set[str] = set()  # probes a layer removed with `name: null`
    for layer, layer_path in layers:
        for name, spec in (layer.probes or {}).items():
            if spec is None:
                probe_specs.pop(name, None)
                removed.add(name)
            else:
                probe_specs[name] = spec
                probe_paths[name] = [*layer_path, "probes", name]
        tags.update(layer.tags or {})
        online = layer.online or online
        interval = layer.interval or interval

    kind = device.kind or (group.kind if group else None) or "other"
    # A device with an address and no probe configured anywhere (e.g. imported from an asset
    # ledger), or only an SSH inspection (which never reports online state), is pinged with the
    # icmp collector's defaults, unless a layer removed icmp.
    unprobed = not probe_specs or _only_inspections(probe_specs)
    if unprobed and device.address and "icmp" in probe_kind_names() and "icmp" not in removed:
        probe_specs["icmp"] = ProbeSpec()
    ok = True
    # A probe with a mistake is reported once, where it is written; the device is still
    # resolved without it so that everything referring to the device (parents, routes,
    # maintenance, meetings, its online rule) is not reported again as a follow-on error.
    failed: set[str] = set()
    probes: dict[str, ResolvedProbe] = {}
    for name, spec in probe_specs.items():
        collector_name = spec.collector or name
        probe_path = probe_paths.get(name, [*path, "probes", name])
        try:
            collector = probe_kind(collector_name)
        except KeyError:
            problems.append(
                located.problem(probe_path, f"unknown collector {collector_name!r} (known: {', '.join(probe_kind_names())})")
            )
            failed.add(name)
            continue
        try:
            options = collector.Options.model_validate(spec.options())
        except ValidationError as exc:
            for error in exc.errors():
                message = error["msg"].removeprefix("Value error, ")
                if error["type"] == "extra_forbidden":
                    message = f"unknown option for collector {collector_name!r}" + did_you_mean(
                        str(error["loc"][-1]), list(collector.Options.model_fields)
                    )
                problems.append(located.problem([*probe_path, *error["loc"]], message))
            failed.add(name)
            continue
        timeout = getattr(options, "timeout", None)
        if isinstance(timeout, int | float) and timeout > MAX_PROBE_TIMEOUT:
            # a round waits for its slowest probe: a timeout of hours stops every round after it
            problems.append(located.problem([*probe_path, "timeout"], f"at most {MAX_PROBE_TIMEOUT} s"))
            ok = False
            continue
        probes[name] = ResolvedProbe(
            name=name,
            collector=collector_name,
            interval=spec.interval or interval or collector.default_interval or default_interval,
            options=options,
        )

    # Inspections (ssh) run on their own schedule and never report to the online state.
    inspections = sorted(n for n, p in probes.items() if not probe_kind(p.collector).in_rounds)
    if online is None:
        online = _default_online(kind, probes)
        if probes and len(inspections) == len(probes) and not failed:
            problems.append(
                located.problem(
                    [*path, "probes"],
                    f"only inspection probes ({', '.join(inspections)}): nothing tells whether the device is online;"
                    " give it an address (it is then pinged) or a probe that runs in rounds (icmp, tcp …)",
                )
            )
    else:
        named = parse_rule(online).probes()
        missing = named - set(probes) - failed
        if missing:
            problems.append(
                located.problem([*path, "online"], f"online rule names probes the device does not have: {', '.join(sorted(missing))}")
            )
            ok = False
        elif named & set(inspections):
            problems.append(
                located.problem(
                    [*path, "online"],
                    f"online rule names inspection probes, which run on their own schedule and never report online state:"
                    f" {', '.join(sorted(named & set(inspections)))}",
                )
            )
    if not probes and not failed and ok:
        problems.append(located.problem(path, "device has no probes (set probes: on the device, its group or defaults)"))
        ok = False
    if not ok:
        return None
    return ResolvedDevice(
        id=device.id,
        name=device.name or device.id,
        kind=kind,
        address=device.address,
        unit=device.unit or (group.unit if group else None),
        system=device.system or (group.system if group else None),
        group=device.group,
        parent=device.parent or (group.parent if group else None),
        role=device.role,
        online=online,
        tags=tags,
        attrs=dict(device.attrs),
        probes=probes,
    )


def _only_inspections(specs: dict[str, ProbeSpec]) -> bool:
    """True when every probe is a known collector that does not run in rounds (ssh)."""
    names = set(probe_kind_names())
    return all((spec.collector or name) in names and not probe_kind(spec.collector or name).in_rounds for name, spec in specs.items())


def _default_online(kind: str, probes: dict[str, ResolvedProbe]) -> str:
    """The kind's default rule restricted to the probes the device has; else any probe.

    Probes that do not run in rounds (SSH inspections, once a day) never decide online state."""
    probes = {n: p for n, p in probes.items() if probe_kind(p.collector).in_rounds}
    if kind in KIND_DEFAULT_ONLINE:
        wanted = parse_rule(KIND_DEFAULT_ONLINE[kind]).probes()
        present = sorted(n for n in wanted if n in probes)
        # also accept a probe whose collector matches the wanted name (e.g. probe "ping" of collector icmp)
        present += sorted(n for n, p in probes.items() if p.collector in wanted and n not in present)
        if present:
            return present[0] if len(present) == 1 else f"any({', '.join(present)})"
    names = sorted(probes)
    if not names:
        return "any()"
    return names[0] if len(names) == 1 else f"any({', '.join(names)})"
