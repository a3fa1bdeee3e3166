"""The sandbox's fault switches: failures it answers on purpose, and stale stock-item reads.

A :class:`Fault` hits the next ``times`` requests whose method and path match (``path``
as in ``/V1/stockItems/MB-01``, shell wildcards allowed, the ``/rest/{store}`` prefix
left off). ``status`` 429 answers ``Too Many Requests`` with ``Retry-After``; 500/502/503/504
answer ``sandbox fault`` and change nothing; ``"timeout"`` lets the request do its work and
marks the response with ``x-sandbox-fault: timeout``, which the core's
:class:`backorder.http.SyncASGITransport` turns into :class:`httpx.ReadTimeout` — applied,
but the answer never arrives (over real HTTP the header is all there is).

Stale reads (``SandboxStore.stale_reads = N``): after each write of a stock item, its next
N reads answer the item as it was before the write.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FAULT_STATUSES = (429, 500, 502, 503, 504)


FaultStatus = Literal[429, 500, 502, 503, 504, "timeout"]
"""What a fault answers: an HTTP status, or a response lost after the work was done."""


class Fault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str = "*"
    path: str = Field(min_length=1)
    status: FaultStatus
    times: int = Field(default=1, ge=0)
    retry_after: int = Field(default=1, ge=0)
    """The ``Retry-After`` seconds of a 429."""

    def matches(self, method: str, path: str) -> bool:
        wanted = self.method.upper()
        return self.times > 0 and wanted in ("*", method) and fnmatchcase(path, self.path)


def take_fault(faults: list[Any], method: str, path: str) -> Fault | None:
    """The first fault that hits this request, with one of its ``times`` used up.

    Entries may be plain dicts (``store.faults.append({...})``); they are validated here.
    """
    for index, entry in enumerate(faults):
        fault = entry if isinstance(entry, Fault) else Fault.model_validate(entry)
        faults[index] = fault
        if fault.matches(method, path):
            fault.times -= 1
            return fault
    return None
