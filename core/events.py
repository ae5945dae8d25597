"""Pushed events: what an SNMP trap or a syslog line said, and what yunwei takes it to mean.

A receiver (``receivers/``) turns a datagram or a line into an ``Event``; the daemon stores it,
asks for a confirming probe when it hints that something went down, and hands it to the
components (alerting opens or clears a fault from it). The meaning fields are all optional:
an event nobody has a rule for is stored and searchable, and does nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

EventKind = Literal["trap", "syslog"]
Hint = Literal["up", "down"]


@dataclass(slots=True)
class Event:
    """One received trap or syslog message.

    - ``name``: the meaning's name (``linkDown``, ``upsTrapOnBattery``, ``LINK_STATE``) or, for
      a trap without one, its OID; ``oid`` is the trap OID (traps) or the program (syslog);
    - ``varbinds``: OID → value as text (traps); ``message``: the text (syslog);
    - ``hint``: the ``subject`` went down or came back up (None: neither);
    - ``subject``: what the hint is about: ``""`` the device itself, an interface name, or a
      UPS condition such as ``on_battery``;
    - ``metric``/``value``: the sample metric the event speaks for (``if.GE0/0/1.oper_up`` = 0,
      ``on_battery`` = 1), so a confirming probe can agree or disagree and a threshold rule on
      that metric makes the same fault, not a second one;
    - ``level``: a fixed fault level (None: the alerting level rules decide);
    - ``confirm``: a "down" event waits for the confirming probe before it opens a fault
      (False: it opens at once, the poll confirms or clears it later, as for a UPS on battery).
    """

    kind: EventKind
    source: str
    at: float
    name: str
    device: str | None = None
    oid: str = ""
    varbinds: dict[str, str] = field(default_factory=dict)
    message: str = ""
    hint: Hint | None = None
    subject: str = ""
    metric: str | None = None
    value: float | None = None
    level: int | None = None
    text: str = ""
    confirm: bool = True
    severity: int | None = None  # syslog severity 0..7

    @property
    def fault_key(self) -> str:
        """The key of the fault this event opens or clears (one per device and subject)."""
        return f"event:{self.device}:{self.subject or self.name}"

    @property
    def summary(self) -> str:
        """One line for logs and the CLI."""
        return self.text or self.message or self.name
