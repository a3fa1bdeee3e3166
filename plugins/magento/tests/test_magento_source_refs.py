"""fetch_levels names each reading: a figure that comes back to an earlier value is applied."""

from backorder.engine import StoreService
from backorder.storage.db import Database


def test_a_figure_back_to_an_earlier_value_is_synced(tmp_path, plugin_manager, magento_sandbox,
                                                      magento_store):
    db = Database(f"sqlite:///{tmp_path}/refs.db")
    service = StoreService(db, magento_store, plugin_manager)
    try:
        seen = []
        for qty in (12, 3, 12):  # "qty:12" alone as the ref made the third sync a no-op
            magento_sandbox.items["MB-01"].qty = qty
            service.sync_from_platform()
            seen.append(service.item("MB-01").on_hand)
        assert seen == [12, 3, 12]
    finally:
        db.dispose()
