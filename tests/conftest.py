"""Shared fixtures of the core's tests. Store and plugin fixtures come from backorder.testing."""

import pytest
from core_support import PG_URL, pg_unavailable


@pytest.fixture(scope="session")
def pg_url() -> str:
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    return PG_URL
