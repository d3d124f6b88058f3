"""What both pytest trees (python/tests and python/tests/integrations) do
with a logger's JSON-lines file: refuse an object with a key written twice,
and find records by message and fields. Each tree's conftest reads the
file with its own strictness and builds its logger its own way."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


def no_duplicate_keys(pairs: List[Any]) -> Dict[str, Any]:
    """json.loads' object_pairs_hook: fails on a key written twice."""
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set = set()
        duplicates = sorted({k for k, _ in pairs if k in seen or seen.add(k)})
        raise AssertionError(f"an object has duplicate keys {duplicates}: {pairs[:20]}")
    return record


def fields_of(record: Dict[str, Any]) -> Dict[str, Any]:
    """A record's fields (the json format leaves the key out when there are none)."""
    return record.get("fields", {})


class RecordQueries:
    """Finding records in what ``records()`` (flush, then read) returns;
    ``logger`` is the HydraLogger writing them."""

    logger: Any

    def records(self) -> List[Dict[str, Any]]:  # pragma: no cover - each log file reads its own
        raise NotImplementedError

    def messages(self) -> List[str]:
        return [r["message"] for r in self.records()]

    def find(self, message: Optional[str] = None, **fields: Any) -> List[Dict[str, Any]]:
        """The records with ``message`` (when given) whose fields include ``fields``."""
        return [r for r in self.records()
                if (message is None or r["message"] == message)
                and all(fields_of(r).get(k) == v for k, v in fields.items())]

    def one(self, message: Optional[str] = None, **fields: Any) -> Dict[str, Any]:
        found = self.find(message, **fields)
        assert len(found) == 1, (message, fields, self.records())
        return found[0]

    def close(self) -> None:
        self.logger.close()
