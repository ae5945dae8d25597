"""The SQLite store: WAL mode, versioned migrations, samples, states and the agent's run periods."""

from __future__ import annotations

from pathlib import Path

from core.model import Sample, State, Transition
from store.db import CORE_MIGRATIONS, Store


def test_migrations_are_versioned_and_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "y.db"
    with Store(path) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.schema_version() == len(CORE_MIGRATIONS)
        scripts = ["CREATE TABLE widgets (id INTEGER PRIMARY KEY)", "ALTER TABLE widgets ADD COLUMN name TEXT"]
        assert store.migrate("widgets", scripts[:1]) == 1
    with Store(path) as store:  # reopening applies only what is new
        assert store.migrate("widgets", scripts) == 1
        assert store.migrate("widgets", scripts) == 0
        store.db.execute("INSERT INTO widgets (name) VALUES ('x')")
        assert store.schema_version("widgets") == 2


def test_samples_latest_and_states(tmp_path: Path) -> None:
    with Store(tmp_path / "y.db") as store:
        store.write_samples([Sample("a", "icmp", True, ts=10, metrics={"rtt_seconds": 0.01})])
        store.write_samples([Sample("a", "icmp", False, ts=20, error="timeout")])
        store.write_samples([Sample("a", "icmp", True, ts=15)])  # late arrival does not replace newer
        [latest] = store.latest_samples()
        assert (latest.ts, latest.ok, latest.error) == (20, False, "timeout")
        assert len(store.samples_for("a")) == 3
        store.add_transitions([Transition("a", 10, State.UP, State.UNKNOWN), Transition("a", 20, State.DOWN, State.UP)])
        assert store.current_states() == {"a": (State.DOWN, 20)}
        # an older transition recorded later (an import) does not win; on a tie the later record does
        store.add_transitions([Transition("a", 5, State.UP, State.UNKNOWN), Transition("b", 7, State.DOWN, State.UNKNOWN)])
        store.add_transitions([Transition("b", 7, State.UP, State.DOWN)])
        assert store.current_states() == {"a": (State.DOWN, 20), "b": (State.UP, 7)}
        assert store.prune_samples(16) == 2


def test_a_run_that_died_ends_at_its_last_heartbeat(tmp_path: Path) -> None:
    with Store(tmp_path / "y.db") as store:
        first = store.start_run("site-a", now=100)
        store.heartbeat(first, now=160)  # then the process was killed: no stop
        second = store.start_run("site-a", now=400)
        store.stop_run(second, now=500)
        assert store.agent_runs() == [("site-a", 100, 160), ("site-a", 400, 500)]


def test_pruning_goes_in_short_batches_and_removes_only_old_samples(tmp_path: Path) -> None:
    with Store(tmp_path / "y.db") as store:
        store.write_samples([Sample(f"d{i % 7}", "icmp", True, ts=float(i)) for i in range(1200)])
        assert store.prune_samples(1000.0, batch=100) == 1000
        assert store.db.execute("SELECT MIN(ts), COUNT(*) FROM samples").fetchone() == (1000.0, 200)
