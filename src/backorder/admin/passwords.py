"""Password hashes: argon2id through argon2-cffi (the maintained binding, RFC 9106 defaults)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash to keep in the config (``[admin.users.NAME] password_hash``)."""
    return _hasher.hash(password)


@cache
def _stand_in() -> str:
    return _hasher.hash("a password nobody has")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown user (``None``) costs a verification
    too, so the answer's timing does not tell which user names exist."""
    try:
        return _hasher.verify(password_hash or _stand_in(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


__all__ = ["hash_password", "needs_rehash", "verify_password"]
