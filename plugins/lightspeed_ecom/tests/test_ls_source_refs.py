"""fetch_levels names each reading: a later sync applies the platform's new figure."""


def test_each_sync_applies_the_current_figure(ls_service, ls_shop):
    service = ls_service()
    service.sync_from_platform()
    sku = service.items()[0].sku
    variant = next(v for v in ls_shop.variants.values() if v.get("sku") == sku)
    variant["stockLevel"] = 17  # "v{id}" alone as the ref made every later sync a no-op
    service.sync_from_platform()
    assert service.item(sku).on_hand == 17
