"""Encryption at rest for provider credentials, keyed from SECRET_KEY.

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`; the key is derived with HKDF so that
SECRET_KEY's other uses (token signing) never share key material with encryption.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["InvalidToken", "decrypt_json", "encrypt_json"]


@functools.cache
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"switchboard credentials v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_json(secret_key: str, value: dict[str, Any]) -> str:
    return _fernet(secret_key).encrypt(json.dumps(value).encode()).decode()


def decrypt_json(secret_key: str, token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(_fernet(secret_key).decrypt(token.encode()))
    return decoded
