"""ICMP failure cases in a network namespace the test creates: dropped, rejected, lossy, slow,
duplicated and unanswered echoes; unresolvable names; the unprivileged socket; no privilege."""

from __future__ import annotations

import sys
from typing import Any

import pytest

DROP_AND_REJECT = """
table inet yw {
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr { 127.0.0.2, 127.0.0.3 } icmp type echo-request drop
    ip daddr 127.0.0.4 icmp type echo-request reject with icmp type host-unreachable
    ip daddr 127.0.0.6 icmp type echo-request numgen random mod 2 == 0 drop
  }
}
"""


def by_device(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {sample["device"]: sample for sample in out["samples"]}


def test_dropped_rejected_and_unresolvable_targets_fail_while_the_others_answer(netns) -> None:  # type: ignore[no-untyped-def]
    netns.nft(DROP_AND_REJECT)
    options = {"count": 3, "timeout": 0.5, "period_ms": 50}
    addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "no-such-host.invalid"]
    out = netns.probe({"mode": "collector", "targets": [[a, options] for a in addresses]})
    samples = by_device(out)
    assert out["socket"] == "raw" and out["problem"] is None
    for up in ("127.0.0.1", "127.0.0.5"):
        assert samples[up]["ok"] and samples[up]["metrics"]["received"] == 3, samples[up]
    for dropped in ("127.0.0.2", "127.0.0.3"):
        sample = samples[dropped]
        assert not sample["ok"]
        assert sample["error"] == "100% loss (3 sent)"
        assert sample["metrics"] == {"loss_percent": 100.0, "sent": 3.0, "received": 0.0}
    rejected = samples["127.0.0.4"]
    assert not rejected["ok"] and rejected["error"] == "100% loss (3 sent): host unreachable"
    unresolvable = samples["no-such-host.invalid"]
    assert not unresolvable["ok"] and unresolvable["error"].startswith("cannot resolve 'no-such-host.invalid'")
    assert unresolvable["metrics"] == {}


def test_partial_loss_is_measured_and_the_target_stays_up(netns) -> None:  # type: ignore[no-untyped-def]
    netns.nft(DROP_AND_REJECT)  # 127.0.0.6 loses each echo with probability 1/2
    out = netns.probe({"mode": "plan", "requests": [["127.0.0.6", 40, 0.3, 56]], "interval_ms": 0, "period_ms": 5})
    [result] = out["results"]
    assert result["sent"] == 40
    assert 0 < result["received"] < 40
    assert result["loss_percent"] == pytest.approx(100 * (40 - result["received"]) / 40)
    assert result["summary"].startswith(f"{result['loss_percent']:.0f}% loss (40 sent), rtt ")


def test_rtt_jitter_late_and_duplicate_replies_from_a_scripted_device(netns, responder) -> None:  # type: ignore[no-untyped-def]
    responder(
        {
            "127.0.0.10": [60, 60, 60],  # steady 60 ms
            "127.0.0.11": [10, 70, 10],  # jitter: |70-10| and |10-70| → 60 ms on average
            "127.0.0.12": [20, 900, 20],  # the second reply comes after the 0.5 s timeout: lost
            "127.0.0.13": ["dup", "dup", "dup"],  # every reply twice: counted once
            # 127.0.0.14: never answers
        }
    )
    requests = [[f"127.0.0.{n}", 3, 0.5, 56] for n in (10, 11, 12, 13, 14)]
    out = netns.probe({"mode": "plan", "requests": requests, "interval_ms": 1, "period_ms": 100})
    results = {r["address"]: r for r in out["results"]}

    steady = results["127.0.0.10"]
    assert steady["received"] == 3
    assert all(0.055 <= rtt <= 0.2 for rtt in steady["rtts"]), steady["rtts"]

    jittery = results["127.0.0.11"]
    assert jittery["received"] == 3
    low, high, low_again = jittery["rtts"]
    assert low < 0.06 and high >= 0.065 and low_again < 0.06
    assert jittery["jitter"] == pytest.approx(((high - low) + (high - low_again)) / 2)
    assert 0.04 <= jittery["jitter"] <= 0.1

    late = results["127.0.0.12"]
    assert (late["sent"], late["received"]) == (3, 2)
    assert late["loss_percent"] == pytest.approx(100 / 3)

    duplicated = results["127.0.0.13"]
    assert (duplicated["sent"], duplicated["received"], duplicated["loss_percent"]) == (3, 3, 0)

    silent = results["127.0.0.14"]
    assert (silent["sent"], silent["received"], silent["summary"]) == (3, 0, "100% loss (3 sent)")


def test_unprivileged_icmp_sockets_work_when_ping_group_range_allows(netns) -> None:  # type: ignore[no-untyped-def]
    netns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    netns.nft(DROP_AND_REJECT)
    targets = [["127.0.0.1", {"count": 3, "period_ms": 20}], ["127.0.0.2", {"count": 2, "timeout": 0.3, "period_ms": 20}]]
    out = netns.probe({"mode": "collector", "targets": targets}, drop=["cap_net_raw"])
    assert out["socket"] == "dgram" and out["problem"] is None
    samples = by_device(out)
    assert samples["127.0.0.1"]["ok"] and samples["127.0.0.1"]["metrics"]["received"] == 3
    assert not samples["127.0.0.2"]["ok"] and samples["127.0.0.2"]["error"] == "100% loss (2 sent)"


def test_without_any_icmp_privilege_every_sample_says_how_to_allow_it(netns) -> None:  # type: ignore[no-untyped-def]
    netns.sysctl("net.ipv4.ping_group_range", "1 0")
    out = netns.probe({"mode": "collector", "targets": [["127.0.0.1", {}], ["127.0.0.2", {}]]}, drop=["cap_net_raw"])
    assert out["socket"] == "none"
    problem = out["problem"]
    assert "CAP_NET_RAW" in problem and "root" in problem and "net.ipv4.ping_group_range is '1 0'" in problem
    assert [(s["ok"], s["error"]) for s in out["samples"]] == [(False, problem), (False, problem)]


def test_probe_command_reports_a_dropped_target_as_down(netns) -> None:  # type: ignore[no-untyped-def]
    netns.nft(DROP_AND_REJECT)
    cli = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())", "probe", "icmp"]
    down = netns.run([*cli, "127.0.0.2", "--count", "2", "--timeout", "0.3", "--period-ms", "10"], check=False)
    assert down.returncode == 1
    assert down.stdout.splitlines()[0] == "127.0.0.2: DOWN (100% loss (2 sent))"
    up = netns.run([*cli, "127.0.0.7", "-c", "2", "--period-ms", "10"], check=False)
    assert up.returncode == 0 and up.stdout.startswith("127.0.0.7: UP")


def test_big_echoes_fit_a_default_receive_buffer_without_cap_net_admin(netns) -> None:  # type: ignore[no-untyped-def]
    # As under the systemd unit (CAP_NET_RAW only) on a host with Debian's default
    # net.core.rmem_max (212992): the socket cannot be forced larger, so the engine must not
    # have more replies in flight than fit, or the kernel drops them and devices look down.
    requests = [[f"127.30.{i // 250}.{i % 250 + 1}", 2, 2.0, 1400] for i in range(2000)]
    spec = {"mode": "plan", "requests": requests, "interval_ms": 0, "period_ms": 0, "rcvbuf": 212992}
    out = netns.probe(spec, drop=["cap_net_admin"])
    assert out["socket"] == "raw" and out["rcvbuf"] <= 2 * 212992
    assert sum(r["received"] for r in out["results"]) == 4000


def test_ipv6_targets_dropped_or_rejected(netns) -> None:  # type: ignore[no-untyped-def]
    for address in ("fd00:79::2", "fd00:79::3", "fd00:79::4"):
        netns.run([netns.ip, "-6", "addr", "add", f"{address}/128", "dev", "lo", "nodad"])
    netns.nft(
        """
table inet yw6 {
  chain input {
    type filter hook input priority 0; policy accept;
    ip6 daddr fd00:79::2 icmpv6 type echo-request drop
    ip6 daddr fd00:79::3 icmpv6 type echo-request reject with icmpv6 type admin-prohibited
  }
}
"""
    )
    options = {"count": 2, "timeout": 0.5, "period_ms": 20}
    targets = [[a, options] for a in ("::1", "fd00:79::2", "fd00:79::3", "fd00:79::4")]
    samples = by_device(netns.probe({"mode": "collector", "targets": targets}))
    assert samples["__1"]["ok"] and samples["fd00_79__4"]["ok"]
    assert samples["fd00_79__2"]["error"] == "100% loss (2 sent)"
    assert samples["fd00_79__3"]["error"] == "100% loss (2 sent): administratively prohibited"
