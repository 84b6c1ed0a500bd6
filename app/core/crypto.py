"""Identity numbers at rest: encrypted, and findable without decrypting.

A database dump alone must not reveal anyone's personnummer. Orders keep the number inside their JSON data
(``EncryptedJSON``: every value under a key ``personnummer`` is encrypted with Fernet, AES-128-CBC with
HMAC-SHA256, from the well-kept ``cryptography`` package) and in a column used only to find a person's earlier
employments (``KeyedHash``: HMAC-SHA256 of the number, so equal numbers still match in SQL).

Keys come from ``LOTSEN_DATA_KEY``: one or more Fernet keys, comma-separated; the first encrypts, every one
decrypts (rotation: put the new key first, run ``flask --app wsgi forms rotate-key``, then drop the old one).
Without it the key is derived from ``LOTSEN_SECRET_KEY`` (a warning is logged in production).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, has_app_context
from sqlalchemy import JSON, String, type_coerce
from sqlalchemy.types import TypeDecorator

PREFIX = "enc:"
ENCRYPTED_FIELD = "personnummer"
UNREADABLE = "[okrypterbart]"


class DataKeys:
    def __init__(self, keys: list[bytes], derived: bool = False) -> None:
        self.keys, self.derived = keys, derived
        self.fernet = MultiFernet([Fernet(key) for key in keys])
        # one hash key per data key: a value is stored under the first and found under any (during a rotation)
        self.index_keys = [hashlib.sha256(b"lotsen identity number index:" + key).digest() for key in keys]

    def encrypt(self, text: str) -> str:
        return PREFIX + self.fernet.encrypt(text.encode()).decode()

    def decrypt(self, value: str) -> str:
        try:
            return self.fernet.decrypt(value[len(PREFIX):].encode()).decode()
        except InvalidToken:
            return UNREADABLE  # a key that is no longer configured: shown as such, never as an error page

    def keyed_hash(self, text: str) -> str:
        return hmac.new(self.index_keys[0], text.encode(), hashlib.sha256).hexdigest()

    def keyed_hashes(self, text: str) -> list[str]:
        return [hmac.new(key, text.encode(), hashlib.sha256).hexdigest() for key in self.index_keys]


def keys_from(data_key: str, secret_key: str) -> DataKeys:
    """The keys of ``LOTSEN_DATA_KEY`` (validated), or one derived from the secret key when it is empty."""
    raw = [part.strip() for part in (data_key or "").split(",") if part.strip()]
    derived = not raw
    if derived:
        raw = [derived_key(secret_key)]
    keys = [part.encode() for part in raw]
    for key in keys:
        Fernet(key)  # raises ValueError for a key that is not 32 url-safe base64 bytes
    return DataKeys(keys, derived)


def derived_key(secret_key: str) -> str:
    """The data key used while LOTSEN_DATA_KEY is empty (to keep it when moving to a key of one's own)."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"lotsen data key:" + secret_key.encode()).digest()).decode()


def new_key() -> str:
    return Fernet.generate_key().decode()


_fallback: DataKeys | None = None


def init_app(app) -> None:
    global _fallback
    app.extensions["lotsen_data_keys"] = _fallback = keys_from(app.config["LOTSEN_DATA_KEY"], app.config["SECRET_KEY"])


def data_keys() -> DataKeys:
    if has_app_context() and "lotsen_data_keys" in current_app.extensions:
        return current_app.extensions["lotsen_data_keys"]
    if _fallback is None:
        raise RuntimeError("no data keys: create the app first")
    return _fallback


def _walk(value: Any, change) -> Any:
    if isinstance(value, dict):
        return {key: change(item) if key == ENCRYPTED_FIELD and isinstance(item, str) and item else _walk(item, change)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, change) for item in value]
    return value


class EncryptedJSON(TypeDecorator):
    """JSON whose ``personnummer`` values are stored encrypted and read back in clear."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        keys = data_keys()
        return _walk(value, lambda text: text if text.startswith(PREFIX) else keys.encrypt(text))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        keys = data_keys()
        return _walk(value, lambda text: keys.decrypt(text) if text.startswith(PREFIX) else text)


class KeyedHash(TypeDecorator):
    """A value stored as its keyed hash (under the first key) and compared under every key:
    ``column == "19900101-2302"`` finds it, before and after a rotation; the table does not show it."""

    impl = String(64)
    cache_ok = True

    class Comparator(TypeDecorator.Comparator):
        def __eq__(self, other):
            if isinstance(other, str):
                return type_coerce(self.expr, String).in_(data_keys().keyed_hashes(other))
            return super().__eq__(other)

    comparator_factory = Comparator

    def process_bind_param(self, value, dialect):
        return None if value is None else data_keys().keyed_hash(value)


def unreadable(value: Any) -> bool:
    """Whether ``value`` (decrypted JSON) holds an identity number no configured key could decrypt."""
    found = []
    _walk(value, lambda text: found.append(text) or text)
    return UNREADABLE in found
