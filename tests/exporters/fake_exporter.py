"""A test-only exporter: one module plus its registration, nothing central edited.

It writes one line per sample of every round to a file (``path``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from exporters.base import Exporter, register
from inventory.models import Strict


class CsvSettings(Strict):
    enabled: bool = True
    path: str = Field(pattern=r"\.csv$", description="file the samples are appended to")


@register
class CsvExporter(Exporter):
    """Append every sample as ``device,probe,up`` to a CSV file."""

    name = "test_csv"
    Settings = CsvSettings

    async def start(self, agent: Any) -> None:
        self.file = Path(self.settings.path).open("a", encoding="utf-8")  # noqa: SIM115 - closed in stop()

    def submit(self, result: Any) -> None:
        for sample in result.samples:
            self.file.write(f"{sample.device},{sample.probe},{int(sample.ok)}\n")
        self.file.flush()

    async def stop(self) -> None:
        self.file.close()
