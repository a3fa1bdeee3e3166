"""The HTTP toolkit plugins share: the retry rules, the fake clock, the ASGI bridge, the
cassette convention and the extra check (``backorder.http``, ``backorder.testing.cassettes``)."""

from __future__ import annotations

import json
import random

import httpx
import pytest
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException

from backorder.errors import PlatformError, PluginLoadError
from backorder.http import (
    FAULT_HEADER,
    FakeClock,
    Pacer,
    PlatformCallError,
    PlatformHttp,
    RetryPolicy,
    SyncASGITransport,
    needs_extra,
)
from backorder.testing import cassettes

BASE = "https://api.shop.test/v1"


class ShopError(PlatformCallError):
    PLATFORM, LABEL = "shop", "Shop"


class ShopAmbiguous(ShopError):
    pass


class Script:
    """A platform that answers from a script: each entry a status, (status, headers) or an
    exception class; every request is kept."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, type) and issubclass(answer, Exception):
            raise answer("scripted", request=request)
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        return httpx.Response(status, headers=headers, json={"title": f"answer {status}"})


def shop(script: Script, clock: FakeClock, **options) -> PlatformHttp:
    return PlatformHttp(
        BASE, error=ShopError, ambiguous=ShopAmbiguous, transport=httpx.MockTransport(script),
        clock=clock, rng=random.Random(7), **options,
    )  # fmt: skip


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ------------------------------------------------------------------------------ the policy
def test_backoff_is_jittered_under_doubling_capped_ceilings():
    policy = RetryPolicy(backoff=0.5, max_backoff=3.0)
    assert [policy.backoff_ceiling(n) for n in range(4)] == [0.5, 1.0, 2.0, 3.0]
    rng = random.Random(1)
    waits = [policy.backoff_delay(2, rng) for _ in range(200)]
    assert all(0 <= w <= 2.0 for w in waits) and len(set(waits)) > 100  # spread, not fixed


def test_retry_after_in_seconds_or_as_a_date_is_capped():
    policy = RetryPolicy(max_retry_after=30)
    assert policy.retry_after_delay("7") == 7.0
    assert policy.retry_after_delay("3600") == 30.0
    assert policy.retry_after_delay("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert policy.retry_after_delay("Fri, 01 Jan 2100 00:00:00 GMT") == 30.0
    assert policy.retry_after_delay(None) is None and policy.retry_after_delay("soon") is None


# --------------------------------------------------------------------------- the session
def test_a_429_waits_its_retry_after_and_is_sent_again_even_for_a_post(clock):
    script = Script((429, {"Retry-After": "7"}), 201)
    http = shop(script, clock)
    assert http.request("POST", "/orders", json={"qty": 1}).status_code == 201
    assert len(script.seen) == 2 and clock.sleeps == [7.0]
    assert (http.stats.throttled, http.stats.retries) == (1, 0)


def test_5xx_is_retried_for_reads_with_backoff_and_never_for_a_post(clock):
    script = Script(503, 502, 200)
    http = shop(script, clock)
    assert http.request("GET", "/items/7").status_code == 200
    assert len(clock.sleeps) == 2 and 0 < clock.sleeps[0] <= 0.5 and 0 < clock.sleeps[1] <= 1.0
    script = Script(503, 200)
    with pytest.raises(ShopAmbiguous, match="HTTP 503: answer 503; it may have been applied"):
        shop(script, clock).request("POST", "/orders")
    assert len(script.seen) == 1


def test_a_call_marked_safe_is_retried_and_one_marked_unsafe_is_not(clock):
    script = Script(500, 200)
    assert shop(script, clock).request("POST", "/search", safe=True).status_code == 200
    script = Script(httpx.ReadTimeout, 200)
    with pytest.raises(ShopAmbiguous, match="no response: ReadTimeout"):
        shop(script, clock).request("PUT", "/stock", safe=False, json={"qty": 3})
    assert len(script.seen) == 1


def test_a_connection_that_never_opened_is_retried_whatever_the_call(clock):
    script = Script(httpx.ConnectError, httpx.ConnectTimeout, 201)
    assert shop(script, clock).request("POST", "/orders").status_code == 201
    assert len(script.seen) == 3


def test_giving_up_raises_a_platform_error_naming_the_call(clock):
    script = Script(503, 503, 503)
    http = shop(script, clock, policy=RetryPolicy(retries=2))
    with pytest.raises(ShopError) as raised:
        http.request("GET", "/items", params={"page": 2, "token": "s3cret"})
    error = raised.value
    assert isinstance(error, PlatformError) and not isinstance(error, ShopAmbiguous)
    assert (error.platform, error.status, error.url) == (
        "shop", 503, f"{BASE}/items?page=2&token=***"
    )
    assert str(error) == (
        f"Shop GET {BASE}/items?page=2&token=***: HTTP 503: answer 503 (gave up after 3 attempts)"
    )
    assert len(script.seen) == 3


def test_a_refusal_is_raised_at_once(clock):
    script = Script(404)
    with pytest.raises(ShopError, match=r"GET \S+/items/9: HTTP 404: answer 404$"):
        shop(script, clock).request("GET", "/items/9")
    assert len(script.seen) == 1 and clock.sleeps == []


def test_the_pacer_waits_before_calls_and_decides_the_wait_after_a_429(clock):
    class Window(Pacer):
        def before_call(self) -> float:
            clock.sleep(2.0)
            return 2.0

        def wait_after_429(self, response):
            return 0.0  # before_call waits the window out

    script = Script((429, {"Retry-After": "30"}), 200)
    http = shop(script, clock, pacer=Window())
    http.request("GET", "/items")
    assert clock.sleeps == [2.0, 2.0] and http.stats.rate_waits == 4.0


# ------------------------------------------------------------------------ the fake clock
def test_the_fake_clock_moves_only_when_slept():
    clock = FakeClock(start=100.0)
    clock.sleep(2.5)
    clock.sleep(0)
    assert (clock.now(), clock.sleeps, clock.slept) == (102.5, [2.5], 2.5)


# ------------------------------------------------------------------------ the ASGI bridge
def counting_app(done: list[str]):
    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        done.append(body.decode())
        headers = [(b"content-type", b"application/json")]
        if scope["path"] == "/lost":
            headers.append((FAULT_HEADER.encode(), b"timeout"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps({"n": len(done)}).encode()})

    return app


def test_the_bridge_serves_an_app_in_process_and_loses_answers_on_the_fault():
    done: list[str] = []
    with httpx.Client(transport=SyncASGITransport(counting_app(done))) as client:
        assert client.post("http://sandbox.test/ok", content=b"first").json() == {"n": 1}
        with pytest.raises(httpx.ReadTimeout):
            client.post("http://sandbox.test/lost", content=b"second")
    assert done == ["first", "second"]  # the lost answer's work was done


# ---------------------------------------------------------------------- the cassette rule
def test_cassettes_replay_only_and_record_without_credentials(tmp_path, monkeypatch):
    done: list[str] = []
    transport = SyncASGITransport(counting_app(done))

    def call(client: httpx.Client) -> dict:
        url = "http://sandbox.test/items?page=1"
        return client.get(url, headers={"X-Auth-Token": "t0k"}).json()

    monkeypatch.setenv(cassettes.RECORD_ENV, "1")
    with (
        cassettes.recorder(tmp_path).use_cassette("c.yaml"),
        httpx.Client(transport=transport) as client,
    ):
        assert call(client) == {"n": 1}
    recorded = (tmp_path / "c.yaml").read_text()
    assert "t0k" not in recorded and "x-auth-token" not in recorded.lower()

    monkeypatch.delenv(cassettes.RECORD_ENV)
    recorder = cassettes.recorder(tmp_path)
    assert recorder.record_mode == "none"
    with recorder.use_cassette("c.yaml"), httpx.Client(transport=transport) as client:
        assert call(client) == {"n": 1}  # replayed: the app was not called again
        with pytest.raises(CannotOverwriteExistingCassetteException):
            client.get("http://sandbox.test/items?page=2")
    assert len(done) == 1
    assert yaml.safe_load(recorded)["interactions"][0]["request"]["method"] == "GET"


# -------------------------------------------------------------------------- the extras
def test_a_missing_extra_names_the_install_command():
    with (
        pytest.raises(PluginLoadError, match=r"pip install 'backorder-shop\[sandbox\]'"),
        needs_extra("backorder-shop", "sandbox"),
    ):
        import backorder_no_such_web_server  # noqa: F401
