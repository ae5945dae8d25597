"""The example contracts of spec/contracts.md, shipped inside the package.

``config.example.yaml`` names them as ``examples/contracts/*.yaml`` beside the config; after a
``pip install`` there is no checkout, so ``yunwei contracts init DIR`` writes them out
(``yunwei contracts init /etc/yunwei/examples/contracts``). In a checkout,
``examples/contracts/`` links to the same files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from core.errors import InputError
from inventory.files import atomic_write, write_text


def example_contracts() -> dict[str, str]:
    """File name → text of every shipped example contract."""
    folder = resources.files("compliance") / "contracts"
    return {item.name: item.read_text(encoding="utf-8") for item in sorted(folder.iterdir(), key=lambda i: i.name)
            if item.name.endswith(".yaml")}


def init_contracts(directory: str | Path, overwrite: bool = False) -> list[Path]:
    """Write the example contracts into ``directory``; an existing file is refused unless ``overwrite``."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError.single(str(directory), "is not a directory")
    contracts = example_contracts()
    if not overwrite:
        existing = [str(directory / name) for name in contracts if (directory / name).exists()]
        if existing:
            raise InputError.single(existing[0], "exists already (give --force to overwrite the example contracts)")
    written = []
    for name, text in contracts.items():
        atomic_write(directory / name, write_text(text))
        written.append(directory / name)
    return written
