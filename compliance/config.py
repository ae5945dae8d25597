"""The ``contracts:`` section of the config: contract files (paths relative to the config) or
contracts written inline.

.. code-block:: yaml

    contracts:
      - examples/contracts/municipal.yaml           # a path: the contract's id is read from the file
      - {id: hall, file: contracts/service_hall.yaml}
      - contract: {id: small, ...}                  # inline, same keys as a contract file
"""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from compliance.contract import Contract
from compliance.kinds import RULE_MODELS
from inventory.models import Strict


class ContractRef(Strict):
    """One entry of ``contracts:``: a file (with an optional id to call it by) or an inline contract."""

    id: str | None = None
    file: str | None = None
    contract: Contract | None = None

    @model_validator(mode="before")
    @classmethod
    def _path(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"file": value}
        return value

    @model_validator(mode="after")
    def _one(self) -> ContractRef:
        if (self.file is None) == (self.contract is None):
            raise ValueError("give a contract file (file: path) or an inline contract (contract: {...})")
        return self


ContractsSection = list[ContractRef]


# after compliance.contract rebuilt its models for a late rule kind, the entry that embeds a contract follows
RULE_MODELS.on_late_register(lambda: ContractRef.model_rebuild(force=True))  # type: ignore[misc]
