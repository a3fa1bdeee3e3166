"""The web app lets in only the right people, for their stores only, and says no safely.

Sign-in with argon2 hashes, signed session cookies (HttpOnly, SameSite, Secure over TLS),
CSRF tokens on every form, sign-in limits, a trusted proxy's header, security headers.
Every refusal is a 4xx, is logged without secrets, and changes nothing.
"""

from __future__ import annotations

import logging
import re

from admin_support import PASSWORD, build_shop, csrf_of

from backorder.admin.sessions import COOKIE


def _assigned(shop, sku: str, store: str = "shop") -> bool:
    return shop.service(store).item(sku).assigned


def test_a_store_page_asks_to_sign_in_and_a_wrong_password_is_refused(shop):
    client = shop.client()
    answer = client.get("/admin/shop/items?q=mug")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login?next=%2Fadmin%2Fshop%2Fitems%3Fq%3Dmug"
    token = csrf_of(client.get("/admin/login").text)
    wrong = client.post("/admin/login", data={"username": "alice", "password": "nope",
                                              "csrf_token": token})
    assert wrong.status_code == 401
    assert "The user name or password is not right." in wrong.text
    right = client.post("/admin/login", data={
        "username": "alice", "password": PASSWORD, "csrf_token": token,
        "next": "/admin/shop/items?q=mug",
    })
    assert right.status_code == 303 and right.headers["location"] == "/admin/shop/items?q=mug"
    page = client.get("/admin/shop/items?q=mug")
    assert page.status_code == 200 and "MUG-BLUE" in page.text and "TENT-2P" not in page.text


def test_sign_in_never_redirects_off_the_site(shop):
    for target in ("https://evil.example/", "//evil.example/", "/elsewhere"):
        client = shop.client()
        token = csrf_of(client.get("/admin/login").text)
        answer = client.post("/admin/login", data={
            "username": "alice", "password": PASSWORD, "csrf_token": token, "next": target,
        })
        assert answer.headers["location"] == "/admin/"


def test_failed_sign_ins_are_limited_even_with_the_right_password_after(shop, caplog):
    client = shop.client()
    token = csrf_of(client.get("/admin/login").text)
    for _ in range(5):
        client.post("/admin/login", data={"username": "alice", "password": "guess",
                                          "csrf_token": token})
    with caplog.at_level(logging.WARNING, logger="backorder.admin"):
        blocked = client.post("/admin/login", data={"username": "alice", "password": PASSWORD,
                                                    "csrf_token": token})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in blocked.text
    assert "too many failed sign-ins" in caplog.text and PASSWORD not in caplog.text
    other_user = client.post("/admin/login", data={"username": "root", "password": PASSWORD,
                                                   "csrf_token": token})
    assert other_user.status_code == 303  # the limit is per user and address


def test_session_cookie_is_signed_httponly_samesite_and_secure_over_tls(shop):
    plain = shop.client()
    plain.get("/admin/login")
    token = csrf_of(plain.get("/admin/login").text)
    answer = plain.post("/admin/login", data={"username": "alice", "password": PASSWORD,
                                              "csrf_token": token})
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie

    tls = shop.client(base_url="https://testserver")
    token = csrf_of(tls.get("/admin/login").text)
    answer = tls.post("/admin/login", data={"username": "alice", "password": PASSWORD,
                                            "csrf_token": token})
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith(COOKIE))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_a_forged_or_altered_session_cookie_is_not_a_session(shop):
    client = shop.signed_in()
    value = client.cookies[COOKIE]
    client.cookies.clear()
    client.cookies.set(COOKIE, value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert client.get("/admin/shop/").status_code == 303  # back to sign-in
    stranger = shop.client()
    stranger.cookies.set(COOKIE, "eyJ1IjoiYWxpY2UifQ.forged.signature")
    assert stranger.get("/admin/shop/").status_code == 303


def test_pages_carry_a_strict_content_security_policy_and_no_inline_script(shop):
    client = shop.signed_in()
    for path in ("/admin/shop/", "/admin/shop/items", "/admin/shop/settings",
                 "/admin/shop/report", "/admin/shop/import", "/admin/login"):
        answer = client.get(path)
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp and "frame-ancestors 'self'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "SAMEORIGIN"
        assert answer.headers["cache-control"] == "no-store"
        assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text), path
        assert not re.search(r"\son[a-z]+=", answer.text), f"inline handler on {path}"
        assert not re.search(r'\sstyle="', answer.text), f"inline style on {path}"


def test_every_input_has_a_label(shop):
    client = shop.signed_in()
    for path in ("/admin/shop/items", "/admin/shop/items/TENT-2P", "/admin/shop/settings",
                 "/admin/shop/report", "/admin/shop/import", "/admin/login"):
        html = client.get(path).text
        labelled = set(re.findall(r'<label for="([^"]+)"', html))
        for tag in re.finditer(r"<(input|select|textarea)\b([^>]*)>", html):
            attrs = tag.group(2)
            if 'type="hidden"' in attrs:
                continue
            found = re.search(r'\bid="([^"]+)"', attrs)
            assert found and found.group(1) in labelled, f"{path}: unlabelled {tag.group(0)}"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(shop, caplog):
    client = shop.signed_in()
    with caplog.at_level(logging.WARNING, logger="backorder.admin"):
        answer = client.post("/admin/shop/items/assign", data={"sku": "STOVE"})
        wrong = client.post("/admin/shop/items/assign",
                            data={"sku": "STOVE", "csrf_token": "not-the-token"})
    assert answer.status_code == 403 and wrong.status_code == 403
    assert not _assigned(shop, "STOVE")
    assert "missing or wrong CSRF token" in caplog.text
    assert client.cookies[COOKIE] not in caplog.text


def test_another_stores_id_in_the_url_is_refused_and_changes_nothing(shop, caplog):
    client = shop.signed_in("alice")  # alice may open "shop" only
    _html, token = shop.page(client, "/admin/shop/items")
    with caplog.at_level(logging.WARNING, logger="backorder.admin"):
        assert client.get("/admin/other/items").status_code == 403
        assert client.get("/admin/no-such-store/").status_code == 403  # no existence leak
        answer = client.post("/admin/other/items/assign", data={"sku": "STOVE",
                                                                "csrf_token": token})
    assert answer.status_code == 403
    assert not _assigned(shop, "STOVE", "other")
    assert "user may not open store 'other'" in caplog.text and "alice" in caplog.text
    root = shop.signed_in("root")
    assert root.get("/admin/no-such-store/").status_code == 404
    assert root.get("/admin/other/").status_code == 200


def test_a_session_opened_for_one_store_does_not_open_another(shop):
    """A platform's sign-in (BigCommerce's load) limits the session to its store."""
    from starlette.requests import Request
    from starlette.responses import Response

    web = shop.app.state.web
    response = Response()
    scope = {"type": "http", "scheme": "http", "headers": [], "path": "/", "method": "GET"}
    web.sign_in(Request(scope), response, "root", stores=["shop"], embedded=True)
    client = shop.client()
    cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    client.cookies.set(COOKIE, cookie)
    assert client.get("/admin/shop/").status_code == 200
    assert client.get("/admin/other/").status_code == 403  # root could, this session cannot


def test_a_trusted_proxys_user_header_signs_in_only_from_the_proxy(tmp_path, plugin_manager,
                                                                   monkeypatch):
    shop = build_shop(tmp_path, plugin_manager, monkeypatch,
                      trusted_user_header="X-Forwarded-User",
                      trusted_proxies=["10.0.0.0/8"])
    behind = shop.client(client=("10.1.2.3", 40000), headers={"X-Forwarded-User": "alice"})
    assert behind.get("/admin/shop/").status_code == 200
    assert behind.get("/admin/other/").status_code == 403
    direct = shop.client(client=("192.0.2.7", 40000), headers={"X-Forwarded-User": "root"})
    assert direct.get("/admin/shop/").status_code == 303  # the header is ignored
    unknown = shop.client(client=("10.1.2.3", 40000), headers={"X-Forwarded-User": "mallory"})
    assert unknown.get("/admin/shop/").status_code == 303
    shop.db.dispose()


def test_signing_out_ends_the_session(shop):
    client = shop.signed_in()
    _html, token = shop.page(client, "/admin/shop/")
    answer = client.post("/admin/logout", data={"csrf_token": token})
    assert answer.status_code == 303
    assert client.get("/admin/shop/").status_code == 303
