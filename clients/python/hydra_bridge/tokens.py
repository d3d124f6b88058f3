"""Tokens: base64url without padding, the `hydra.token.<...>` subprotocol
that carries a token where headers cannot (browsers), and HS256 JWTs as the
bridge accepts them (sub, role, tenant, exp)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Union

PROTOCOL_SUBPROTOCOL = "hydra.v1"
TOKEN_SUBPROTOCOL_PREFIX = "hydra.token."


def b64url_encode(data: Union[bytes, str]) -> str:
    """base64url (RFC 4648 §5) without `=` padding."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: Union[str, bytes]) -> bytes:
    """The inverse of b64url_encode (padding optional)."""
    if isinstance(text, bytes):
        text = text.decode("ascii")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_subprotocol(token: str) -> str:
    """The subprotocol that carries `token`: hydra.token.<base64url(token)>."""
    return TOKEN_SUBPROTOCOL_PREFIX + b64url_encode(token)


def make_hs256_token(secret: Union[bytes, str], sub: str, role: str,
                     tenant: str, exp_seconds_from_now: float = 3600) -> str:
    """A JWT signed with HMAC-SHA256: header {"alg":"HS256","typ":"JWT"},
    payload {"sub", "role", "tenant", "exp"} (exp = now + the given seconds,
    negative for a token already expired)."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {"sub": sub, "role": role, "tenant": tenant,
               "exp": int(time.time() + exp_seconds_from_now)}
    signing_input = (b64url_encode(json.dumps(header, separators=(",", ":")))
                     + "." +
                     b64url_encode(json.dumps(payload, separators=(",", ":"))))
    signature = hmac.new(secret, signing_input.encode("ascii"),
                         hashlib.sha256).digest()
    return signing_input + "." + b64url_encode(signature)


def api_key_entry(role: str, tenant: str, key: Union[bytes, str]) -> str:
    """The bridge's `api_keys` entry for `key`: "<role>:<tenant>:<sha256 hex>"."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    return f"{role}:{tenant}:{hashlib.sha256(key).hexdigest()}"
