"""Errors a user can act on: bad input names its file, line and field and exits 2."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class InputProblem:
    """One thing wrong with a file the user gave us."""

    file: str
    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


@dataclass
class InputError(Exception):
    """Bad user input (config, inventory spreadsheet, ledger file, CLI value): exit code 2."""

    problems: list[InputProblem] = field(default_factory=list)

    @classmethod
    def single(cls, file: str, message: str, line: int | None = None, field: str | None = None) -> InputError:
        return cls([InputProblem(file=file, message=message, line=line, field=field)])

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
