"""Device types of the SSH inspection: default read-only commands, allow-lists and parsers.

One module per device family (``huawei``, ``comware`` for H3C/HPE ``hp_comware``, ``cisco``
for ``cisco_ios``, ``linux``); each gives ``COMMANDS`` (the defaults), ``allowed(command)``
(the allow-list: is this command read-only on that family?) and ``parse(outputs)`` (health
figures from the outputs by command). ``PROFILES`` maps netmiko device types to them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from collectors._ssh import cisco, comware, huawei, linux
from collectors._ssh.figures import Figures


@dataclass(frozen=True)
class Profile:
    device_type: str  # netmiko's name
    family: str
    commands: tuple[str, ...]
    allowed: Callable[[str], str | None]  # None when read-only, else why not
    parse: Callable[[dict[str, str]], Figures]
    rule: str  # what the allow-list accepts, for error messages


PROFILES: dict[str, Profile] = {
    "huawei": Profile("huawei", "Huawei VRP", huawei.COMMANDS, huawei.allowed, huawei.parse, huawei.RULE),
    "hp_comware": Profile("hp_comware", "H3C/HPE Comware", comware.COMMANDS, comware.allowed, comware.parse, comware.RULE),
    "cisco_ios": Profile("cisco_ios", "Cisco IOS", cisco.COMMANDS, cisco.allowed, cisco.parse, cisco.RULE),
    "linux": Profile("linux", "Linux", linux.COMMANDS, linux.allowed, linux.parse, linux.RULE),
}


def refuse_reason(device_type: str, command: str) -> str | None:
    """Why ``command`` may not be sent to a ``device_type`` device, or None when it is read-only."""
    profile = PROFILES[device_type]
    if not command.strip():
        return "an empty command"
    if any(ch in command for ch in "\r\n\x00"):
        return "a command may not contain line breaks"
    return profile.allowed(command.strip())


__all__ = ["PROFILES", "Figures", "Profile", "refuse_reason"]
