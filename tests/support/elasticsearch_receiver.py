"""An Elasticsearch bulk API receiver for tests, answering as Elasticsearch
documents (elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html):
POST /_bulk or /INDEX/_bulk, NDJSON action and document lines.

    python3 elasticsearch_receiver.py DIR [RESPONSE ...]

Implements `create`: a document is stored by its _id (201 "created"); a
_id already stored answers 409 version_conflict_engine_exception. The
mapping has fields.count as a long: a document whose fields.count is a
string that is not a number answers 400 mapper_parsing_exception. The
response: {"took","errors","items":[{"create":{"_index","_id","status",
"result"|"error":{"type","reason"}}}]}, items in order.

Each POST takes the next RESPONSE first: "ok" (the above), CODE[:RETRY]
(that status for the whole request, Retry-After: RETRY when given, nothing
stored), "items429:I,J" (the items at those positions, from 0, answered
429 es_rejected_execution_exception and not stored; the rest as "ok"),
"store-drop" (stored as "ok", then the connection closed without an
answer). Stored documents go to DIR/docs.jsonl: {"_index","_id","doc"}.
"""
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from http_receiver_base import serve  # noqa: E402


def main():
    args = sys.argv[1:]
    work = pathlib.Path(args.pop(0))
    work.mkdir(parents=True, exist_ok=True)
    docs_file = open(work / "docs.jsonl", "a", buffering=1)
    stored = {}

    def handle(path, headers, body, answer):
        if answer not in ("ok", "store-drop") and not answer.startswith("items429:"):
            code, _, retry = answer.partition(":")
            h = {"Content-Type": "application/json"}
            if retry:
                h["Retry-After"] = retry
            err = {"error": {"type": "test_receiver_exception",
                             "reason": f"test receiver says {code}"}, "status": int(code)}
            return int(code), h, json.dumps(err).encode()
        parts = path.strip("/").split("/")
        if parts[-1] != "_bulk" or len(parts) > 2:
            return 404, {"Content-Type": "application/json"}, b'{"error":"no handler"}'
        default_index = parts[0] if len(parts) == 2 else None
        throttled = set()
        if answer.startswith("items429:"):
            throttled = {int(i) for i in answer[9:].split(",")}
        lines = body.decode().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        else:  # the bulk API requires a final newline
            return 400, {"Content-Type": "application/json"}, json.dumps({
                "error": {"type": "illegal_argument_exception",
                          "reason": "The bulk request must be terminated by a newline [\\n]"},
                "status": 400}).encode()
        items = []
        for k in range(0, len(lines), 2):
            action = json.loads(lines[k])
            (op, meta), = action.items()
            doc = json.loads(lines[k + 1])
            index = meta.get("_index", default_index)
            _id = meta["_id"]
            item = {"_index": index, "_id": _id}
            count = doc.get("fields", {}).get("count")
            if op != "create":
                item.update(status=400, error={"type": "illegal_argument_exception",
                                               "reason": f"test receiver only creates, not {op}"})
            elif k // 2 in throttled:
                item.update(status=429, error={
                    "type": "es_rejected_execution_exception",
                    "reason": "rejected execution of coordinating operation"})
            elif (index, _id) in stored:
                item.update(status=409, error={
                    "type": "version_conflict_engine_exception",
                    "reason": f"[{_id}]: version conflict, document already exists "
                              "(current version [1])"})
            elif isinstance(count, str) and not count.lstrip("-").isdigit():
                item.update(status=400, error={
                    "type": "mapper_parsing_exception",
                    "reason": f"failed to parse field [fields.count] of type [long] in "
                              f"document with id '{_id}'. Preview of field's value: '{count}'"})
            else:
                stored[(index, _id)] = doc
                docs_file.write(json.dumps({"_index": index, "_id": _id, "doc": doc}) + "\n")
                item.update(status=201, result="created", _version=1)
            items.append({op: item})
        if answer == "store-drop":
            return None
        out = {"took": 1, "errors": any(i[next(iter(i))]["status"] >= 300 for i in items),
               "items": items}
        return 200, {"Content-Type": "application/json"}, json.dumps(out).encode()

    serve(work, args, handle)


if __name__ == "__main__":
    main()
