"""POST /intake: submitting records over plain HTTP (what `sendBeacon`
does), with urllib only."""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple


def submit_http(base_url: str, records: Iterable[Mapping[str, Any]],
                token: Optional[str] = None, origin: Optional[str] = None,
                timeout: float = 5, token_in_query: bool = False,
                body: Optional[bytes] = None,
                context: Optional[ssl.SSLContext] = None
                ) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
    """POST {"type": "submit", "records": [...]} to <base_url>/intake.

    Returns (status, body, headers) for every answer, 4xx and 5xx included:
    `body` is the parsed JSON object (an `ack` for 202, an `error` otherwise;
    {"_raw": text} when the body is not JSON), `headers` a dict with
    lower-cased names. The token goes as `Authorization: Bearer <token>`, or
    as `?token=` with token_in_query. `body` replaces the JSON body (to send
    something malformed). `context`: the TLS context for an https bridge
    (for instance ssl.create_default_context(cafile=...)); the default
    verifies against the system's CA store."""
    url = base_url.rstrip("/") + "/intake"
    if token is not None and token_in_query:
        url += "?" + urllib.parse.urlencode({"token": token})
    if body is None:
        body = json.dumps({"type": "submit", "records": list(records)},
                          separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if token is not None and not token_in_query:
        headers["Authorization"] = f"Bearer {token}"
    if origin is not None:
        headers["Origin"] = origin
    request = urllib.request.Request(url, data=body, headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout,
                                    context=context) as response:
            status = response.status
            raw = response.read()
            answer_headers = response.headers
    except urllib.error.HTTPError as e:
        status = e.code
        raw = e.read() if e.fp is not None else b""
        answer_headers = e.headers
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text) if text else {}
        if not isinstance(parsed, dict):
            parsed = {"_raw": text}
    except ValueError:
        parsed = {"_raw": text}
    header_dict = {k.lower(): v for k, v in (answer_headers or {}).items()}
    return status, parsed, header_dict
