"""Every command and probe kind answers --help (what an engineer types first)."""

from __future__ import annotations

import pytest

from cli.main import COMMAND_MODULES, build_parser, main
from collectors import registry


def _commands() -> list[list[str]]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    commands = [[name] for name in subparsers.choices]
    commands += [["probe", kind] for kind in registry.names() if not kind.startswith("test_")]
    return commands


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_help_works(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([*command, "--help"])
    assert caught.value.code == 0
    assert "usage: yunwei" in capsys.readouterr().out


def test_every_command_module_is_listed_once() -> None:
    assert len(COMMAND_MODULES) == len(set(COMMAND_MODULES))


def test_a_usage_mistake_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["probe", "tcp"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "yunwei probe tcp: error: the following arguments are required: target (see yunwei probe tcp --help)"
    ]


def test_help_and_a_usage_mistake_import_no_command_module() -> None:
    """``yunwei --help`` lists every command without importing one (nor pydantic, nor the config)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('cli.commands.', 'pydantic', 'inventory.config', 'agent.', 'alerting.')))\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    for argv in (["--help"], ["-v", "statu"]):
        done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=60)
        assert "HEAVY []" in done.stderr, done.stderr
    listed = subprocess.run([sys.executable, "-m", "cli.main", "--help"], capture_output=True, text=True, timeout=60).stdout
    assert all(name in listed for name in ("status", "faults", "contracts", "record"))
