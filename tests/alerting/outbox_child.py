"""A stand-in agent for the crash tests: alerting on a real store, killed with SIGKILL by the test.

    python outbox_child.py CONFIG.yaml enqueue N   # N devices go down: faults, notices, outbox rows
    python outbox_child.py CONFIG.yaml deliver     # deliver until the outbox is empty

``YUNWEI_ALERTING_CRASH=before_send[:n]`` / ``after_send[:n]`` makes the outbox kill the process
at that point (see alerting.outbox).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from alerting.service import AlertingService  # noqa: E402
from core.model import State, Transition  # noqa: E402
from inventory.config import load_config  # noqa: E402
from store.db import open_store  # noqa: E402


def main() -> int:
    config_path, mode = sys.argv[1], sys.argv[2]
    inventory = load_config(config_path)
    store = open_store(inventory.data_dir)
    service = AlertingService(store, inventory)
    if mode == "enqueue":
        count = int(sys.argv[3])
        now = time.time()
        transitions = [Transition(f"dev-{i:03d}", now - 5, State.DOWN, State.UP, "timeout") for i in range(count)]
        store.add_transitions(transitions, agent="child")
        service.on_round([], transitions, now)
    deadline = time.monotonic() + 60
    while service.outbox.messages.channels_pending() and time.monotonic() < deadline:
        if service.outbox.deliver_due() == 0:
            time.sleep(0.05)
    pending = len(service.outbox.messages.rows("pending"))
    print(f"pending={pending}", flush=True)
    store.close()
    return 0 if pending == 0 else 3


if __name__ == "__main__":
    sys.exit(main())
