"""A network device's CLI replaying recorded outputs, run by sshd as a ``ForceCommand``.

Usage: fake_cli.py TYPE DATA_DIR LOG

TYPE is ``huawei``, ``hp_comware`` or ``cisco_ios``: the prompt and the error message follow
that platform. A command with a recorded output (DATA_DIR/<slug>.txt) prints it; the session
set-up commands netmiko sends (``screen-length ...``, ``terminal length 0``) are accepted
silently; anything else gets the platform's "unrecognised command" error. Every line received
is appended to LOG, so a test can assert what was (and was not) sent.
"""

import re
import sys
from pathlib import Path

PROMPTS = {"huawei": "<HUAWEI-S5720>", "hp_comware": "<H3C-S5130S>", "cisco_ios": "SW-CORE#"}
ERRORS = {
    "huawei": "              ^\nError: Unrecognized command found at '^' position.",
    "hp_comware": "              ^\n % Unrecognized command found at '^' position.",
    "cisco_ios": "                    ^\n% Invalid input detected at '^' marker.",
}
SETUP = re.compile(r"^(screen-length \d+ temporary|screen-length disable|terminal length 0|terminal width \d+|)$")


def slug(command: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", command.lower()).strip("_")


def main() -> None:
    kind, data, log = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    prompt = PROMPTS[kind]
    out = sys.stdout
    out.write("\nInfo: The max number of VTY users is 5, and the number\n      of current VTY users on line is 1.\n" if kind == "huawei" else "\n")
    out.write(prompt)
    out.flush()
    for raw in sys.stdin:
        command = raw.strip()
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(command + "\n")
        if command in ("quit", "exit", "logout"):
            return
        recorded = data / f"{slug(command)}.txt"
        if SETUP.match(command):
            pass
        elif recorded.exists():
            out.write(recorded.read_text())
        else:
            out.write(ERRORS[kind] + "\n")
        out.write(prompt)
        out.flush()


if __name__ == "__main__":
    main()
