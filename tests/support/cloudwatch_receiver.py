"""A CloudWatch Logs endpoint for tests (Python's http.server): PutLogEvents
and CreateLogStream as the CloudWatch Logs API reference documents them
(the awsJson1_1 protocol), with AWS Signature Version 4 checked by
recomputing it, failures included.

    python3 cloudwatch_receiver.py DIR [--no-stream] [RESPONSE ...]

Listens on 127.0.0.1, an ephemeral port, HTTP/1.1 with keep-alive, and
prints "port N" on stdout once it accepts connections. It stops when its
stdin closes or on SIGTERM. The credentials it verifies signatures with are
$AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY (the test's, inherited).

Every request must be a POST with Content-Type application/x-amz-json-1.1,
X-Amz-Target Logs_20140328.<Action> and a valid SigV4 Authorization header
(service "logs"); a bad or missing signature is answered 400
InvalidSignatureException (IncompleteSignatureException when absent), as AWS
does. A PutLogEvents batch that breaks the documented rules (events not in
chronological order, spanning 24 hours or more, over 10,000 events or
1,048,576 bytes counting each message's UTF-8 bytes + 26, an empty message)
is answered 400 InvalidParameterException. With --no-stream the log stream
does not exist until a CreateLogStream makes it (ResourceNotFoundException
until then). Otherwise each PutLogEvents is answered with the next RESPONSE,
then with success:
  200                   {} : every event stored
  reject:A:B:C          200 with rejectedLogEventsInfo {tooOldLogEventEndIndex:
                        A (exclusive), expiredLogEventEndIndex: B (exclusive),
                        tooNewLogEventStartIndex: C (inclusive)}; "-" leaves
                        one out; the other events stored
  throttle              400 ThrottlingException "Rate exceeded"
  unavailable[:RETRY]   503 ServiceUnavailableException, Retry-After: RETRY
  notfound              400 ResourceNotFoundException
Stored events are appended to DIR/events.jsonl ({timestamp, message, group,
stream}); every request to DIR/requests.jsonl (n, action, headers, events,
bytes, answer) before it is answered.
"""
import hashlib
import hmac
import http.server
import json
import os
import pathlib
import sys
import threading
import time
from datetime import datetime, timezone


def sign_key(secret, date, region, service):
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_signature(method, path, headers, body, access_key, secret):
    """None when the request's SigV4 Authorization header is the one these
    credentials make, else why not (the AWS error type and message)."""
    auth = headers.get("authorization")
    if not auth:
        return ("IncompleteSignatureException", "Authorization header missing")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return ("IncompleteSignatureException", "unsupported algorithm")
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    akid, date, region, service, terminal = parts["Credential"].split("/")
    if akid != access_key:
        return ("UnrecognizedClientException", "The security token included in the request is invalid.")
    if service != "logs" or terminal != "aws4_request":
        return ("InvalidSignatureException", "Credential should be scoped to service 'logs'.")
    amz_date = headers.get("x-amz-date", "")
    signed = parts["SignedHeaders"].split(";")
    for required in ("host", "x-amz-date"):
        if required not in signed:
            return ("InvalidSignatureException", f"{required} is not signed")
    if not amz_date.startswith(date):
        return ("InvalidSignatureException", "Date in Credential scope does not match")
    when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    if abs(time.time() - when.timestamp()) > 15 * 60:
        return ("InvalidSignatureException", "Signature expired")
    canonical_headers = "".join(
        name + ":" + " ".join(headers.get(name, "").split()) + "\n" for name in signed)
    canonical_request = "\n".join([
        method, path, "", canonical_headers, ";".join(signed),
        hashlib.sha256(body).hexdigest()])
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", amz_date, scope,
        hashlib.sha256(canonical_request.encode()).hexdigest()])
    expected = hmac.new(sign_key(secret, date, region, service), string_to_sign.encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["Signature"]):
        return ("InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.")
    return None


def batch_violation(events):
    """Why PutLogEvents would refuse this batch as a whole, or None."""
    if not events:
        return "logEvents is empty"
    if len(events) > 10000:
        return f"{len(events)} events, more than 10000"
    size = sum(len(e["message"].encode("utf-8")) + 26 for e in events)
    if size > 1048576:
        return f"{size} bytes, more than 1048576"
    stamps = [e["timestamp"] for e in events]
    if stamps != sorted(stamps):
        return "Log events in a single PutLogEvents request must be in chronological order."
    if stamps[-1] - stamps[0] >= 24 * 3600 * 1000:
        return "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
    if any(not e["message"] for e in events):
        return "a message is empty"
    return None


def main():
    args = sys.argv[1:]
    work = pathlib.Path(args.pop(0))
    stream_exists = True
    if args and args[0] == "--no-stream":
        stream_exists = False
        args.pop(0)
    script = args
    work.mkdir(parents=True, exist_ok=True)
    access_key = os.environ.get("AWS_ACCESS_KEY_ID", "")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    lock = threading.Lock()
    state = {"n": 0, "stream": stream_exists}
    requests = open(work / "requests.jsonl", "a", buffering=1)
    stored = open(work / "events.jsonl", "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def answer(self, code, body, retry_after=None):
            out = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(out)))
            self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-%012d" % state["n"])
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(out)

        def error(self, code, kind, message, retry_after=None):
            self.answer(code, {"__type": kind, "message": message}, retry_after)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            action = headers.get("x-amz-target", "").removeprefix("Logs_20140328.")
            try:
                request = json.loads(body)
            except ValueError:
                request = None
            with lock:
                state["n"] += 1
                answer = None
                problem = check_signature("POST", self.path, headers, body, access_key, secret)
                events = (request or {}).get("logEvents", []) if action == "PutLogEvents" else []
                if problem:
                    answer = "signature:" + problem[0]
                elif headers.get("content-type") != "application/x-amz-json-1.1" or request is None:
                    answer = "serialization"
                elif action == "CreateLogStream":
                    answer = "exists" if state["stream"] else "created"
                    state["stream"] = True
                elif action != "PutLogEvents":
                    answer = "unknown-operation"
                elif not state["stream"]:
                    answer = "notfound"
                elif batch_violation(events):
                    answer = "invalid:" + batch_violation(events)
                else:
                    answer = script.pop(0) if script else "200"
                requests.write(json.dumps({
                    "n": state["n"], "action": action, "answer": answer, "headers": headers,
                    "events": len(events),
                    "bytes": sum(len(e.get("message", "").encode("utf-8")) + 26 for e in events),
                    "timestamps": [e.get("timestamp") for e in events],
                }) + "\n")
                keep = []
                info = {}
                if answer == "200":
                    keep = events
                elif answer.startswith("reject:"):
                    old, expired, new = answer.split(":")[1:]
                    cut_old = max(int(old) if old != "-" else 0, int(expired) if expired != "-" else 0)
                    cut_new = int(new) if new != "-" else len(events)
                    keep = events[cut_old:cut_new]
                    if old != "-":
                        info["tooOldLogEventEndIndex"] = int(old)
                    if expired != "-":
                        info["expiredLogEventEndIndex"] = int(expired)
                    if new != "-":
                        info["tooNewLogEventStartIndex"] = int(new)
                for e in keep:
                    stored.write(json.dumps({
                        "timestamp": e["timestamp"], "message": e["message"],
                        "group": request["logGroupName"], "stream": request["logStreamName"],
                    }) + "\n")
            name, _, arg = answer.partition(":")
            if name == "signature":
                self.error(400 if arg != "UnrecognizedClientException" else 403, arg, problem[1])
            elif name == "serialization":
                self.error(400, "SerializationException", "not application/x-amz-json-1.1 JSON")
            elif name in ("exists",):
                self.error(400, "ResourceAlreadyExistsException",
                           "The specified log stream already exists")
            elif name == "created":
                self.answer(200, {})
            elif name == "unknown-operation":
                self.error(400, "UnknownOperationException", action)
            elif name == "notfound":
                self.error(400, "ResourceNotFoundException",
                           "The specified log stream does not exist.")
            elif name == "invalid":
                self.error(400, "InvalidParameterException", arg)
            elif name == "200":
                self.answer(200, {"nextSequenceToken": "1"})
            elif name == "reject":
                self.answer(200, {"nextSequenceToken": "1", "rejectedLogEventsInfo": info})
            elif name == "throttle":
                self.error(400, "ThrottlingException", "Rate exceeded")
            elif name == "unavailable":
                self.error(503, "ServiceUnavailableException", "The service is unavailable",
                           arg or None)
            else:
                self.error(500, "InternalFailure", answer)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"port {server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
