"""The platform push outbox: our decisions reach the platform even across a crash.

A change writes the pushes it calls for (which SKUs, why) in its own transaction; after
commit they are delivered through the store's platform (``Platform.apply_items``), and
whatever could not be delivered is retried by a worker pass (``backorder tick``, the loop
in ``backorder serve``). A platform that pushes nothing gets no rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from backorder import rules, storefront
from backorder.errors import PushIncomplete
from backorder.models import ItemState, ItemView
from backorder.storage import records, work_queue
from backorder.storage.schema import events, push_outbox, webhook_deliveries

if TYPE_CHECKING:
    from backorder.engine import StoreService
    from backorder.unit_of_work import UnitOfWork

log = logging.getLogger("backorder.outbox")

PUSH_CHUNK = 500
"""Products per outbox row (a multiple of every platform's batch size)."""


def product_chunks(changed: dict[str, ItemState | None], products: int) -> list[list[str]]:
    """SKUs in chunks of ``products`` whole products (all their variants together).

    Platforms update products and variants in fixed-size batches (BigCommerce: 10
    products, 50 variants); a product cut across two pushes, or a chunk whose product
    count is not a multiple of the batch size, costs extra calls.
    """
    by_product: dict[str, list[str]] = {}
    for sku, item in changed.items():  # a set-based change may know the SKU only
        by_product.setdefault((item and item.product_id) or sku, []).append(sku)
    groups = list(by_product.values())
    return [
        list(itertools.chain.from_iterable(groups[i : i + products]))
        for i in range(0, len(groups), products)
    ]


class PushOutbox:
    def __init__(self, service: StoreService) -> None:
        self.service = service

    def queue(self, conn: sa.Connection, uow: UnitOfWork, reason: str) -> list[int]:
        """Write the pushes a change calls for, inside the change's transaction.

        When the service sends them itself right after the commit (``inline_pushes``) they
        are written already claimed by it (``uow.push_claim``), with the lease running: the
        delivery needs no claiming transaction of its own, and should the process die
        before sending, a worker takes them when the lease ends.
        """
        if not uow.changed or not self.service.pushes:
            return []  # nobody to push to (the core platform, or no plugin loaded)
        now = self.service.clock()
        inline = self.service.inline_pushes
        token = uuid.uuid4().hex if inline else None
        claimed = (
            {"available_at": now + work_queue.LEASE, "attempts": 1, "claimed_by": token}
            if inline
            else {"available_at": now}
        )
        rows = [
            {"store": self.service.name, "reason": reason, "skus": chunk}
            | {"created_at": now}
            | claimed
            for chunk in product_chunks(uow.changed, PUSH_CHUNK)
        ]
        stmt = push_outbox.insert().returning(push_outbox.c.id, sort_by_parameter_order=True)
        ids = list(conn.execute(stmt, rows).scalars())
        if token is not None:  # as claim() returns them: attempts before this one
            uow.push_claim = (token, [
                SimpleNamespace(id=i, reason=reason, skus=row["skus"], attempts=0)
                for i, row in zip(ids, rows, strict=True)
            ])
        return ids

    def deliver(
        self,
        *,
        ids: Sequence[int] | None = None,
        limit: int = 100,
        now: dt.datetime | None = None,
        claimed: tuple[str, list[Any]] | None = None,
    ) -> tuple[int, int]:
        """Send pending pushes through the store's platform; ``(delivered, failed)``.

        Each push sends the items' state as it is now (a late push never sends stale
        data). Rows are claimed with a lease, so workers in several processes never send
        the same row at once; a failed push is retried later with backoff and the others
        still go. A push the platform took in part (:class:`~backorder.errors.PushIncomplete`)
        is retried for the SKUs it names only. ``claimed``: ``(token, rows)`` that
        :meth:`queue` wrote already claimed (no claiming transaction). The rows sent are
        finished together, in one transaction.
        """
        svc = self.service
        if not svc.pushes:
            return 0, 0
        platform = svc.platform
        now = now or svc.clock()
        if claimed is not None:
            token, rows = claimed
        else:
            token = uuid.uuid4().hex
            with svc.db.transaction() as conn:
                rows = work_queue.claim(
                    conn, push_outbox, svc.name, token, now=now, limit=limit, ids=ids
                )
        if not rows:
            return 0, 0
        outcomes: list[tuple[Any, Exception | None]] = []
        for row in rows:
            error: Exception | None = None
            try:
                views = self.views(row.skus)
                if views and platform.pushes:
                    try:
                        platform.apply_items(svc.store, views, row.reason)
                    except PushIncomplete as exc:  # the others were saved: publish them too
                        error = exc
                if views and svc.store.storefront.publish and getattr(
                    platform, "publishes", True
                ):
                    storefront.publish(platform, svc.store, views, row.reason)
            except Exception as exc:  # keep going: the row is retried after a backoff
                error = exc
            if error is not None:
                log.warning(
                    "store %s: push %s (%s) failed: %s", svc.name, row.id, row.reason, error
                )
            outcomes.append((row, error))
        with svc.db.transaction() as conn:
            finished = svc.clock()
            for row, error in outcomes:
                if isinstance(error, PushIncomplete):  # retry only what was not saved
                    not_saved = set(error.failed)
                    left = [sku for sku in row.skus if sku in not_saved]
                    conn.execute(
                        push_outbox.update().where(push_outbox.c.id == row.id).values(skus=left)
                    )
                work_queue.finish(conn, push_outbox, row, token, now=finished, error=error)
        failed = sum(error is not None for _, error in outcomes)
        return len(outcomes) - failed, failed

    def views(self, skus: Sequence[str]) -> list[ItemView]:
        """Current views of some SKUs, in the order given (unknown SKUs left out)."""
        svc = self.service
        with svc.db.read() as conn:
            loaded = records.load_items(conn, svc.name, skus=list(skus))
        return [rules.view(loaded[sku].item, svc.settings) for sku in skus if sku in loaded]

    def backlog(self) -> dict[str, int]:
        """Work waiting for this store: pushes, failing pushes, webhook deliveries, events."""
        name = self.service.name

        def count(table, *where) -> int:
            query = (
                sa.select(sa.func.count()).select_from(table).where(table.c.store == name, *where)
            )
            return int(conn.execute(query).scalar_one())

        pending = push_outbox.c.done_at.is_(None)
        with self.service.db.read() as conn:
            return {
                "pushes_pending": count(push_outbox, pending),
                "pushes_failing": count(push_outbox, pending, push_outbox.c.outcome.is_not(None)),
                "webhooks_pending": count(
                    webhook_deliveries, webhook_deliveries.c.done_at.is_(None)
                ),
                "events_pending": count(events, events.c.dispatched_at.is_(None)),
            }
