"""A Loki push API receiver for tests, answering as Loki documents and does
(grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs; the
distributor's validation): POST /loki/api/v1/push, a JSON body
{"streams":[{"stream":{labels},"values":[["<ns>","<line>"],...]}]}.

    python3 loki_receiver.py DIR [--max-age SECONDS] [--max-line BYTES] [RESPONSE ...]

Entries older than --max-age (reject_old_samples_max_age) or longer than
--max-line (max_line_size) are refused as Loki refuses them: the others are
stored, and the answer is 400 with Loki's messages ("entry for stream
'{...}' has timestamp too old: <RFC 3339>, oldest acceptable timestamp is:
...", "Max entry size 'N' bytes exceeded for stream '{...}' while adding an
entry with length 'M' bytes"), joined with "; ", each prefixed "N errors
like: " when there is more than one kind (Loki 3's grouped errors). Else 204.

Each POST takes the next RESPONSE first: "ok" (the above), CODE[:RETRY]
(that status, Retry-After: RETRY when given, nothing stored), "raw400:TEXT"
(a 400 with TEXT as its body, "\\n" a newline, nothing stored), "drop".
Stored entries go to DIR/entries.jsonl: {"tenant","stream","ts","line"}.
"""
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from http_receiver_base import serve  # noqa: E402


def go_labels(stream):
    return "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(stream.items())) + "}"


def rfc3339(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def main():
    args = sys.argv[1:]
    work = pathlib.Path(args.pop(0))
    max_age = None
    max_line = None
    while args and args[0].startswith("--"):
        flag = args.pop(0)
        if flag == "--max-age":
            max_age = float(args.pop(0))
        elif flag == "--max-line":
            max_line = int(args.pop(0))
    work.mkdir(parents=True, exist_ok=True)
    entries = open(work / "entries.jsonl", "a", buffering=1)

    def handle(path, headers, body, answer):
        if answer == "drop":
            return None
        if answer.startswith("raw400:"):
            return 400, {"Content-Type": "text/plain"}, answer[7:].replace("\\n", "\n").encode()
        if answer != "ok":
            code, _, retry = answer.partition(":")
            h = {"Content-Type": "text/plain"}
            if retry:
                h["Retry-After"] = retry
            return int(code), h, f"test receiver says {code}".encode()
        if path != "/loki/api/v1/push":
            return 404, {"Content-Type": "text/plain"}, b"404 page not found\n"
        request = json.loads(body)
        tenant = headers.get("X-Scope-OrgID", "")
        now = time.time()
        errors = []
        for s in request["streams"]:
            labels = go_labels(s["stream"])
            for ts, line in s["values"]:
                seconds = int(ts) // 1_000_000_000
                if max_age is not None and int(ts) < (now - max_age) * 1e9:
                    errors.append(f"entry for stream '{labels}' has timestamp too old: "
                                  f"{rfc3339(seconds)}, oldest acceptable timestamp is: "
                                  f"{rfc3339(int(now - max_age))}")
                elif max_line is not None and len(line.encode()) > max_line:
                    errors.append(f"Max entry size '{max_line}' bytes exceeded for stream "
                                  f"'{labels}' while adding an entry with length "
                                  f"'{len(line.encode())}' bytes")
                else:
                    entries.write(json.dumps({"tenant": tenant, "stream": s["stream"],
                                              "ts": ts, "line": line}) + "\n")
        if not errors:
            return 204, {}, b""
        grouped = {}
        for e in errors:
            grouped[e] = grouped.get(e, 0) + 1
        text = "; ".join(e if len(grouped) == 1 and n == 1 else f"{n} errors like: {e}"
                         for e, n in grouped.items())
        return 400, {"Content-Type": "text/plain; charset=utf-8"}, text.encode()

    serve(work, args, handle)


if __name__ == "__main__":
    main()
