"""Malformed webhook JSON under a valid signature is a 400 naming the body; under a wrong
one, a 401: every platform authenticates first, then parses (issue 17). The core platform's
token is covered in test_ops_server.py; these are the platforms that sign the body itself."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from starlette.testclient import TestClient

from backorder.config import parse_config
from backorder.plugins import make_manager
from backorder.server import create_app

SECRET = "s3cret"
BODY = b'{"kind": "stock", not json'


def magento_hmac(body: bytes) -> dict[str, str]:
    from backorder_magento.webhook import SIGNATURE_HEADER

    return {SIGNATURE_HEADER: "sha256=" + hmac.new(SECRET.encode(), body, "sha256").hexdigest()}


def lightspeed_md5(body: bytes) -> dict[str, str]:
    return {"x-signature": hashlib.md5(body + SECRET.encode()).hexdigest()}


def bigcommerce_header(body: bytes) -> dict[str, str]:
    return {"X-Backorder-Secret": SECRET}


STORES = {
    "mage": ("backorder_magento", {"platform": "magento",
                                   "connection": {"webhook_secret": SECRET}}, magento_hmac),
    "ls": ("backorder_lightspeed_ecom", {"platform": "lightspeed_ecom",
                                         "connection": {"api_key": "k", "api_secret": SECRET}},
           lightspeed_md5),
    "bc": ("backorder_bigcommerce", {"platform": "bigcommerce",
                                     "connection": {"store_hash": "abc", "webhook_secret": SECRET}},
           bigcommerce_header),
}


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.delenv("BACKORDER_PLUGINS", raising=False)
    monkeypatch.setenv("BACKORDER_ADMIN_KEY", "k" * 32)
    stores = {name: spec for name, (_, spec, _) in STORES.items()}
    config = parse_config({"database": f"sqlite:///{tmp_path}/wh.db", "stores": stores})
    return TestClient(create_app(config, pm=make_manager(), worker=False))


@pytest.mark.parametrize("store", sorted(STORES))
def test_malformed_json_with_a_valid_signature_is_400_and_with_a_wrong_one_401(client, store):
    module, _, sign = STORES[store]
    pytest.importorskip(module)
    signed = client.post(f"/webhooks/{store}", content=BODY, headers=sign(BODY))
    assert signed.status_code == 400, signed.text
    assert "body" in signed.json()["error"] and "JSON" in signed.json()["error"]
    forged = {name: "0" * 8 for name in sign(BODY)}
    unsigned = client.post(f"/webhooks/{store}", content=BODY, headers=forged)
    assert unsigned.status_code == 401, unsigned.text
