"""The frames of the bridge protocol (docs/bridge-protocol.md) as Python
objects, and the conversions between them and the wire.

On the wire every `seq` (and a gap's `count`) is a JSON string of decimal
digits; here they are ints. Nothing in this module does I/O.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union


class BridgeError(Exception):
    """What the bridge refused, or how a connection ended.

    `code` is the `error` frame's code (a string such as "forbidden") or a
    WebSocket close code (an int such as 4401); `message` the frame's message
    or the close reason; `retry_after_ms` is set for `rate_limited`; `frame`
    is the error frame (a dict) when there was one."""

    def __init__(self, code: Union[str, int, None], message: str = "",
                 retry_after_ms: Optional[int] = None,
                 frame: Optional[dict] = None):
        self.code = code
        self.message = message
        self.retry_after_ms = retry_after_ms
        self.frame = frame
        text = f"{code}" if not message else f"{code}: {message}"
        if retry_after_ms is not None:
            text += f" (retry after {retry_after_ms} ms)"
        super().__init__(text)

    @property
    def reason(self) -> str:
        """The close reason (the same as `message`)."""
        return self.message

    @property
    def is_close(self) -> bool:
        """True when `code` is a WebSocket close code, not an error frame's."""
        return isinstance(self.code, int)

    @classmethod
    def from_frame(cls, frame: Mapping[str, Any]) -> "BridgeError":
        retry = frame.get("retry_after_ms")
        try:
            retry = None if retry is None else int(retry)
        except (TypeError, ValueError):
            retry = None
        return cls(frame.get("code"), str(frame.get("message", "") or ""),
                   retry, dict(frame))


def seq_from_wire(value: Any) -> Optional[int]:
    """A `seq` (or `count`) from the wire: "123" (or, tolerated, 123) -> 123;
    None -> None. Anything else raises ValueError."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a sequence number: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value)
    raise ValueError(f"not a sequence number: {value!r}")


def seq_to_wire(value: Union[int, str]) -> str:
    """123 -> "123" (a string of decimal digits, as the wire wants)."""
    if isinstance(value, bool):
        raise ValueError(f"not a sequence number: {value!r}")
    if isinstance(value, str):
        if not (value.isdigit() and value.isascii()):
            raise ValueError(f"not a sequence number: {value!r}")
        return str(int(value))
    if isinstance(value, int) and value >= 0:
        return str(value)
    raise ValueError(f"not a sequence number: {value!r}")


def cursor_to_wire(cursor: Mapping[str, Union[int, str]]) -> Dict[str, str]:
    return {stream: seq_to_wire(seq) for stream, seq in cursor.items()}


def cursor_from_wire(cursor: Mapping[str, Any]) -> Dict[str, int]:
    return {stream: seq_from_wire(seq) for stream, seq in cursor.items()}


@dataclass
class Record:
    """One record of a `records` frame."""
    seq: int
    stream: str
    level: str = ""
    layer: str = ""
    logger: str = ""
    message: str = ""
    fields: Dict[str, Any] = field(default_factory=dict)
    redacted: List[Any] = field(default_factory=list)
    sub: List[str] = field(default_factory=list)
    time: str = ""
    service: str = ""
    tenant: str = ""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, stream: str, rec: Mapping[str, Any]) -> "Record":
        return cls(
            seq=seq_from_wire(rec.get("seq")),
            stream=str(rec.get("stream", stream)),
            level=str(rec.get("level", "")),
            layer=str(rec.get("layer", "")),
            logger=str(rec.get("logger", "")),
            message=str(rec.get("message", "")),
            fields=dict(rec.get("fields") or {}),
            redacted=list(rec.get("redacted") or []),
            sub=list(rec.get("sub") or []),
            time=str(rec.get("time", "")),
            service=str(rec.get("service", "")),
            tenant=str(rec.get("tenant", "")),
            raw=dict(rec),
        )


@dataclass
class Gap:
    """What a client will not get: `from_seq`..`to_seq` inclusive of `stream`,
    `count` of them (None for reason "restart", where both are unknown)."""
    stream: str
    from_seq: Optional[int]
    to_seq: Optional[int]
    count: Optional[int]
    reason: str
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, frame: Mapping[str, Any]) -> "Gap":
        return cls(
            stream=str(frame.get("stream", "")),
            from_seq=seq_from_wire(frame.get("from_seq")),
            to_seq=seq_from_wire(frame.get("to_seq")),
            count=seq_from_wire(frame.get("count")),
            reason=str(frame.get("reason", "")),
            raw=dict(frame),
        )


@dataclass
class Ack:
    """The bridge's answer to a `submit`."""
    id: Optional[str]
    accepted: int
    rejected: List[Dict[str, Any]] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, frame: Mapping[str, Any]) -> "Ack":
        rejected = []
        for r in frame.get("rejected") or []:
            r = dict(r)
            if "index" in r:
                try:
                    r["index"] = int(r["index"])
                except (TypeError, ValueError):
                    pass
            rejected.append(r)
        return cls(id=frame.get("id"), accepted=int(frame.get("accepted", 0)),
                   rejected=rejected, raw=dict(frame))


def parse_frame(text: Union[str, bytes]) -> Optional[dict]:
    """A frame from the bridge as a dict, or None when it is not a JSON
    object with a string `type` (such a frame is ignored)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return None
    return frame


def records_from_frame(frame: Mapping[str, Any]) -> List[Record]:
    """The Records of a `records` frame, in frame order."""
    stream = str(frame.get("stream", ""))
    return [Record.from_wire(stream, r) for r in frame.get("records") or []]


def dumps(frame: Mapping[str, Any]) -> str:
    """A frame as the compact JSON text sent on the wire."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
