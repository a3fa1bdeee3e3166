"""The backorder rules: pure functions of state and settings, free of I/O.

Every platform and every storage backend calls these; nothing here reads a clock,
a database or the network, so the rules are tested directly and reused as they are.
"""

from backorder.rules.availability import (
    backordered_units,
    backorders_allowed,
    below_low_stock,
    effective_policy,
    purchasable,
    salable_qty,
    status,
    view,
)
from backorder.rules.ordering import (
    BACKORDER_NOTICE,
    NOTICE_TOKENS,
    Notice,
    check_quantity,
    decide_line,
    default_notice,
    record_line,
    refuse_whole,
)
from backorder.rules.switching import disable, enable, receive_incoming, settle

__all__ = [
    "BACKORDER_NOTICE",
    "NOTICE_TOKENS",
    "Notice",
    "backordered_units",
    "backorders_allowed",
    "below_low_stock",
    "check_quantity",
    "decide_line",
    "default_notice",
    "disable",
    "effective_policy",
    "enable",
    "purchasable",
    "receive_incoming",
    "record_line",
    "refuse_whole",
    "salable_qty",
    "settle",
    "status",
    "view",
]

from backorder.rules.allocation import allocate

__all__ += ["allocate"]
