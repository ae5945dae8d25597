"""Samples carry only declared metrics: an undeclared one is logged once per (collector, metric).

A metric a collector emits without declaring it (``Collector.metrics``) is invisible to
``yunwei check`` (a threshold rule naming it is refused) and reaches the exporters only as a
generic series, so it is a collector bug worth one warning, not one per round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from collectors.base import Collector, Target
from core.metrics import MetricTable
from core.model import Sample

log = logging.getLogger("yunwei.agent.metrics")


class UndeclaredMetrics:
    """Remembers which undeclared metrics were already reported."""

    def __init__(self) -> None:
        self.tables: dict[type[Collector], MetricTable] = {}
        self.reported: set[tuple[str, str]] = set()

    def check(self, collector: type[Collector], targets: Sequence[Target], samples: Sequence[Sample]) -> list[str]:
        """Log and return the metrics of these samples newly found undeclared."""
        table = self.tables.get(collector)
        if table is None:
            table = self.tables[collector] = collector.metric_table()
        by_key: dict[tuple[str, str], Target] | None = None
        found: list[str] = []
        for sample in samples:
            for name in sample.metrics:
                if table.find(name) is not None or (collector.name, name) in self.reported:
                    continue
                if by_key is None:  # option-named metrics (SNMP user OIDs) are looked up only now
                    by_key = {(t.device.id, t.probe.name): t for t in targets}
                target = by_key.get((sample.device, sample.probe))
                if target is not None and collector.metric_table(target.options).find(name) is not None:
                    continue
                self.reported.add((collector.name, name))
                found.append(name)
                log.warning(
                    "collector %s emitted metric %r that it does not declare (Collector.metrics); "
                    "threshold rules cannot name it and exporters show it only as yunwei_metric",
                    collector.name,
                    name,
                )
        return found
