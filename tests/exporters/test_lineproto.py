"""Line protocol text, exactly: escaping, float-only fields, interface lines, states, groups, faults."""

from __future__ import annotations

from pathlib import Path

from agent.fleet import GroupRate
from core.model import Sample, State, Transition
from exporters.lineproto import (
    FaultTimes,
    LineEncoder,
    fault_lines,
    field_key,
    group_line,
    split_instance_metric,
)
from inventory.config import config_from_data


def encoder(tmp_path: Path) -> LineEncoder:
    inventory = config_from_data({
        "agent": {"id": "site a", "data_dir": str(tmp_path)},
        "units": [{"id": "市公安局"}],
        "groups": [{"id": "cams,east", "unit": "市公安局", "kind": "camera"}],
        "devices": [{"id": "cam-1", "group": "cams,east", "address": "127.0.0.1", "probes": {"tcp": {"port": 554}}}],
    })
    return LineEncoder(inventory.agent.id, inventory.devices)


def test_sample_line_escapes_tags_and_writes_every_value_as_float(tmp_path: Path) -> None:
    sample = Sample("cam-1", "tcp", True, 1795000000.1234, {"rtt_seconds": 0.0021, "refused": 1, "bad": float("nan"),
                                                             "cpu.load-1m": 3.5})
    assert encoder(tmp_path).encode([sample]) == [
        r"yunwei,agent=site\ a,device=cam-1,group=cams\,east,kind=camera,probe=tcp,unit=市公安局 "
        "up=1.0,rtt_seconds=0.0021,refused=1.0,cpu_load_1m=3.5 1795000000123"
    ]


def test_interface_metrics_become_yunwei_if_lines_with_an_interface_tag(tmp_path: Path) -> None:
    sample = Sample("cam-1", "snmp", False, 100.0, {"if.Gi0/0/1.100.in_bps": 5e9, "if.Gi0/0/1.100.oper_up": 0.0,
                                                    "if.上联 口.out_bps": 7.0})
    assert encoder(tmp_path).encode([sample]) == [
        r"yunwei,agent=site\ a,device=cam-1,group=cams\,east,kind=camera,probe=snmp,unit=市公安局 up=0.0 100000",
        r"yunwei_if,agent=site\ a,device=cam-1,group=cams\,east,kind=camera,unit=市公安局,interface=Gi0/0/1.100,probe=snmp"
        " in_bps=5000000000.0,oper_up=0.0 100000",
        r"yunwei_if,agent=site\ a,device=cam-1,group=cams\,east,kind=camera,unit=市公安局,interface=上联\ 口,probe=snmp"
        " out_bps=7.0 100000",
    ]


def test_unknown_device_still_carries_agent_and_device(tmp_path: Path) -> None:
    assert encoder(tmp_path).encode([Sample("gone", "icmp", True, 1.0)]) == [r"yunwei,agent=site\ a,device=gone,probe=icmp up=1.0 1000"]


def test_transition_lines_code_the_state(tmp_path: Path) -> None:
    lines = encoder(tmp_path).encode([], [
        Transition("cam-1", 10.0, State.DOWN, State.UP, "timeout"),
        Transition("cam-1", 20.0, State.MAINTENANCE, State.DOWN),
    ])
    head = r"yunwei_state,agent=site\ a,device=cam-1,group=cams\,east,kind=camera,unit=市公安局"
    assert lines == [f"{head} up=0.0,down=1.0,code=0.0 10000", f"{head} up=0.0,down=0.0,code=2.0 20000"]


def test_group_and_fault_lines() -> None:
    rate = GroupRate("g", "G", online=19, total=22, threshold=0.95, warn_margin=0.0, unknown=1, maintenance=1)
    assert group_line("a", "u", None, rate, 5.0) == (
        "yunwei_group,agent=a,group=g,unit=u online=19.0,total=20.0,online_ratio=0.95,unknown=1.0,maintenance=1.0,"
        "online_threshold=0.95 5000"
    )
    not_seen = GroupRate("g", "G", online=0, total=3, threshold=None, warn_margin=0.0, unknown=3)
    assert "online_ratio" not in group_line("a", "u", None, not_seen, 5.0)  # no false 0 % after a start
    tags = {"agent": "a", "device": "sw-1", "unit": None}
    assert fault_lines(tags, "F-7", 2, FaultTimes(opened=100.0, acknowledged=160.0, resolved=400.5)) == [
        "yunwei_fault,agent=a,device=sw-1,fault=F-7,level=2 open=1.0,acknowledged=0.0,level=2.0 100000",
        "yunwei_fault,agent=a,device=sw-1,fault=F-7,level=2 open=1.0,acknowledged=1.0,level=2.0 160000",
        "yunwei_fault,agent=a,device=sw-1,fault=F-7,level=2 open=0.0,acknowledged=1.0,level=2.0,duration_seconds=300.5 400500",
    ]


def test_names() -> None:
    assert split_instance_metric("if.eth0.in_bps") == ("if", "eth0", "in_bps")
    assert split_instance_metric("if.in_bps") is None and split_instance_metric("cpu.1.load") is None
    assert field_key("1m load") == "_1m_load"


def test_declared_metrics_are_written_in_base_units_and_undeclared_as_they_are(tmp_path: Path) -> None:
    inventory = config_from_data({
        "agent": {"id": "a", "data_dir": str(tmp_path)},
        "devices": [{"id": "sw-1", "address": "127.0.0.1", "probes": {
            "icmp": {}, "snmp": {"community": "public", "oids": [{"name": "cpu_percent", "oid": "1.3.6.1.4.1.2021.11.9.0"}]},
        }}],
    })
    lines = LineEncoder("a", inventory.devices).encode([
        Sample("sw-1", "icmp", True, 100.0, {"loss_percent": 20.0, "rtt_seconds": 0.002}),
        Sample("sw-1", "snmp", True, 100.0, {"cpu_percent": 12.0, "if.Gi0/1.in_bps": 8e6, "if.Gi0/1.in_util_percent": 8.0,
                                             "if.Gi0/1.oper_up": 1.0}),
    ])
    assert lines == [
        "yunwei,agent=a,device=sw-1,kind=other,probe=icmp up=1.0,loss_ratio=0.2,rtt_seconds=0.002 100000",
        # the probe's own OID is not a declaration: its name and value stay as configured
        "yunwei,agent=a,device=sw-1,kind=other,probe=snmp up=1.0,cpu_percent=12.0 100000",
        "yunwei_if,agent=a,device=sw-1,kind=other,interface=Gi0/1,probe=snmp"
        " in_bytes_per_second=1000000.0,in_util_ratio=0.08,oper_up=1.0 100000",
    ]
