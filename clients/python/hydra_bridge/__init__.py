"""Python client of the Hydra-Logger bridge (docs/bridge-protocol.md).

    from hydra_bridge import BridgeClient

    async with BridgeClient("ws://127.0.0.1:9020/ws", token="...") as c:
        await c.subscribe({"layers": ["APP"], "min_level": "warning"})
        async for item in c.events():   # Record or Gap
            print(item)
"""
from .client import BridgeClient, FATAL_CLOSE_CODES, PROTOCOL_VERSION
from .frames import (Ack, BridgeError, Gap, Record, cursor_from_wire,
                     cursor_to_wire, parse_frame, records_from_frame,
                     seq_from_wire, seq_to_wire)
from .intake import submit_http
from .tokens import (api_key_entry, b64url_decode, b64url_encode,
                     make_hs256_token, token_subprotocol)

__version__ = "0.1.0"

__all__ = [
    "Ack", "BridgeClient", "BridgeError", "FATAL_CLOSE_CODES", "Gap",
    "PROTOCOL_VERSION", "Record", "api_key_entry", "b64url_decode",
    "b64url_encode", "cursor_from_wire", "cursor_to_wire", "make_hs256_token",
    "parse_frame", "records_from_frame", "seq_from_wire", "seq_to_wire",
    "submit_http", "token_subprotocol",
]
