"""Secrets at rest: platform access tokens of installed stores, encrypted with Fernet.

A store installed through a platform's app flow (BigCommerce's one-click install) gets
its access token at run time; it is kept in the database only as a Fernet token
(AES-128-CBC + HMAC-SHA256, from the maintained ``cryptography`` package). The key comes
from the environment variable ``BACKORDER_SECRET_KEY`` and never from the database:
a copy of the database alone reveals no token.

Several keys may be given, comma-separated, newest first (``MultiFernet``): the first
encrypts, any decrypts, so a key is rotated by putting the new one in front and running
``rotate`` over the stored values.

Make a key with ``backorder admin new-secret-key``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from backorder.errors import ConfigError

ENV_KEY = "BACKORDER_SECRET_KEY"


class SecretBox:
    """Encrypts and decrypts a store's secrets (a small ``{name: value}`` mapping)."""

    def __init__(self, keys: str | None = None) -> None:
        raw = keys if keys is not None else os.environ.get(ENV_KEY, "")
        self._keys = [key.strip() for key in raw.split(",") if key.strip()]
        self._fernet = None

    @property
    def configured(self) -> bool:
        return bool(self._keys)

    def _box(self):
        if self._fernet is None:
            if not self._keys:
                raise ConfigError(
                    f"{ENV_KEY} is not set: installed stores keep their access tokens "
                    "encrypted with it (make one with `backorder admin new-secret-key`)"
                )
            try:
                from cryptography import fernet
            except ImportError:
                raise ConfigError(
                    "installed stores need the 'cryptography' package: "
                    "pip install 'backorder[server]'"
                ) from None
            try:
                self._fernet = fernet.MultiFernet([fernet.Fernet(k) for k in self._keys])
            except ValueError:
                raise ConfigError(
                    f"{ENV_KEY}: not a Fernet key (32 url-safe base64-encoded bytes)"
                ) from None
        return self._fernet

    def seal(self, secrets: Mapping[str, str]) -> str:
        """The secrets as one encrypted token (text, safe to store)."""
        return self._box().encrypt(json.dumps(dict(secrets)).encode()).decode("ascii")

    def open(self, token: str) -> dict[str, str]:
        """The secrets sealed in ``token``.

        :raises backorder.errors.ConfigError: no key here can open it (a wrong or rotated-out
            key, or a tampered value); the message never contains the token.
        """
        from cryptography.fernet import InvalidToken

        try:
            return json.loads(self._box().decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError):
            raise ConfigError(
                f"a stored secret cannot be opened with the key(s) in {ENV_KEY}"
            ) from None

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted with the first key."""
        return self._box().rotate(token.encode("ascii")).decode("ascii")


def new_key() -> str:
    """A fresh Fernet key for :data:`ENV_KEY`."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")
