"""A Splunk HTTP Event Collector for tests (Python's http.server), answering
as Splunk documents HEC ("Format events for HTTP Event Collector", "HTTP
Event Collector status codes"), failures included.

    python3 hec_receiver.py DIR TOKEN [--ack] [RESPONSE ...]

Listens on 127.0.0.1, an ephemeral port, HTTP/1.1 with keep-alive, and
prints "port N" on stdout once it accepts connections. It stops when its
stdin closes or on SIGTERM.

POST /services/collector/event takes a batch of concatenated JSON event
objects. Without `Authorization: Splunk TOKEN` it answers 401 code 2 (no
token) or 403 code 4 (another token); an event without "event" or with an
empty one is answered as Splunk does (400, code 12 or 13, with its
"invalid-event-number"; the events before it are indexed). Otherwise each
request is answered with the next RESPONSE, then with success once they are
used up:
  200              {"text":"Success","code":0}: every event indexed
  invalid:N        events before N indexed; 400 {"text":"Invalid data
                   format","code":6,"invalid-event-number":N}
  busy[:RETRY]     503 {"text":"Server is busy","code":9}, Retry-After: RETRY
  429[:RETRY]      429, Retry-After: RETRY
  index            400 {"text":"Incorrect index","code":7,"invalid-event-number":0}
  drop             the connection closed without an answer
  meet:N           every event indexed once N requests answered meet:N are in
                   progress at once (N senders side by side); else, after a
                   minute, 400 code 7 (nothing indexed)
With --ack, indexer acknowledgement is on, as Splunk documents it: an event
request without X-Splunk-Request-Channel is answered 400 code 10 ("Data
channel is missing"), a success carries an "ackId" (counted per channel from
0), and POST /services/collector/ack {"acks":[ID, ...]} answers
{"acks":{"ID":false|true}}: an ackId is false the first time it is asked
about and true from then on (so a client that does not poll never sees it).
Indexed events are appended to DIR/events.jsonl (one line each, as sent),
and a line of JSON to DIR/requests.jsonl for every request (n, path,
headers, events, answer) before it is answered.
"""
import gzip
import http.server
import json
import pathlib
import sys
import threading

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from meeting import Meeting  # noqa: E402


def split_events(body):
    """The concatenated JSON objects of a HEC batch (whitespace between)."""
    decoder = json.JSONDecoder()
    events, i = [], 0
    text = body.decode("utf-8")
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return events
        event, i = decoder.raw_decode(text, i)
        events.append(event)


def main():
    work = pathlib.Path(sys.argv[1])
    token = sys.argv[2]
    script = list(sys.argv[3:])
    ack = bool(script) and script[0] == "--ack"
    if ack:
        script.pop(0)
    channels = {}  # channel -> {"next": ackId, "asked": set of ackIds asked about}
    work.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()
    state = {"n": 0}
    meeting = Meeting()
    requests = open(work / "requests.jsonl", "a", buffering=1)
    indexed = open(work / "events.jsonl", "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def answer(self, code, body, retry_after=None):
            out = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(out)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding", "") == "gzip":
                body = gzip.decompress(body)
            auth = self.headers.get("Authorization", "")
            try:
                events = split_events(body)
            except ValueError:
                events = None
            channel = self.headers.get("X-Splunk-Request-Channel", "")
            with lock:
                state["n"] += 1
                if ack and self.path == "/services/collector/ack" and auth == "Splunk " + token:
                    asked = channels.setdefault(channel, {"next": 0, "asked": set()})["asked"]
                    ids = json.loads(body).get("acks", [])
                    result = {str(i): i in asked for i in ids}
                    asked.update(ids)
                    requests.write(json.dumps({
                        "n": state["n"], "path": self.path, "answer": "acks", "acks": result,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                    }) + "\n")
                    self.answer(200, {"acks": result})
                    return
                if self.path != "/services/collector/event":
                    answer = "404"
                elif not auth:
                    answer = "no-token"
                elif auth != "Splunk " + token:
                    answer = "bad-token"
                elif events is None:
                    answer = "not-json"
                elif ack and not channel:
                    answer = "no-channel"
                else:
                    answer = script.pop(0) if script else "200"
                    # A malformed event ends the batch where Splunk would.
                    for k, e in enumerate(events):
                        if "event" not in e or e["event"] in ("", {}, None):
                            if not answer.startswith("invalid:") or int(answer[8:]) > k:
                                answer = f"event:{k}:{12 if 'event' not in e else 13}"
                            break
                requests.write(json.dumps({
                    "n": state["n"], "path": self.path, "answer": answer,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "events": len(events or []),
                }) + "\n")
                accepted = []
                ack_id = None
                if answer == "200":
                    accepted = events
                    if ack:
                        c = channels.setdefault(channel, {"next": 0, "asked": set()})
                        ack_id = c["next"]
                        c["next"] += 1
                elif answer.startswith("invalid:") or answer.startswith("event:"):
                    accepted = events[:int(answer.split(":")[1])]
                for e in accepted:
                    indexed.write(json.dumps(e) + "\n")
            if answer.startswith("meet:"):
                if meeting.wait(int(answer[5:])):
                    answer = "200"
                    with lock:
                        for e in events:
                            indexed.write(json.dumps(e) + "\n")
                else:
                    answer = "index"
            if answer == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            name, _, arg = answer.partition(":")
            if name == "200" and ack_id is not None:
                self.answer(200, {"text": "Success", "code": 0, "ackId": ack_id})
            elif name == "200":
                self.answer(200, {"text": "Success", "code": 0})
            elif name == "no-channel":
                self.answer(400, {"text": "Data channel is missing", "code": 10})
            elif name == "invalid":
                self.answer(400, {"text": "Invalid data format", "code": 6,
                                  "invalid-event-number": int(arg)})
            elif name == "event":
                k, code = arg.split(":")
                text = "Event field is required" if code == "12" else \
                    "Event field cannot be blank"
                self.answer(400, {"text": text, "code": int(code),
                                  "invalid-event-number": int(k)})
            elif name == "busy":
                self.answer(503, {"text": "Server is busy", "code": 9}, arg or None)
            elif name == "429":
                self.answer(429, {"text": "Too many requests", "code": 9}, arg or None)
            elif name == "index":
                self.answer(400, {"text": "Incorrect index", "code": 7,
                                  "invalid-event-number": 0})
            elif name == "no-token":
                self.answer(401, {"text": "Token is required", "code": 2})
            elif name == "bad-token":
                self.answer(403, {"text": "Invalid token", "code": 4})
            elif name == "not-json":
                self.answer(400, {"text": "Invalid data format", "code": 6,
                                  "invalid-event-number": 0})
            else:
                self.answer(404, {"text": "The requested URL was not found", "code": 404})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"port {server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
