"""What the test receivers share (loki_receiver.py, elasticsearch_receiver.py):
an HTTP/1.1 server with keep-alive on 127.0.0.1 and an ephemeral port that
prints "port N" once it accepts connections and stops when its stdin
closes. Every request's body (gunzipped when Content-Encoding is gzip) is
saved as DIR/body-NNNN.bin, and a line of JSON appended to
DIR/requests.jsonl (n, time, path, answer, headers) before it is answered.
"""
import gzip
import http.server
import json
import sys
import threading
import time


def serve(work, script, handle):
    """handle(path, headers, body, answer) -> (code, headers, body) or None to
    drop the connection without an answer. `answer` is the next of `script`
    (then "ok")."""
    work.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()
    state = {"n": 0}
    log = open(work / "requests.jsonl", "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.headers.get("Content-Encoding", "") == "gzip":
                body = gzip.decompress(body)
            with lock:
                state["n"] += 1
                n = state["n"]
                answer = script.pop(0) if script else "ok"
                (work / f"body-{n:04d}.bin").write_bytes(body)
                log.write(json.dumps({
                    "n": n, "time": time.time(), "path": self.path, "answer": answer,
                    "client_port": self.client_address[1],
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                }) + "\n")
                result = handle(self.path, self.headers, body, answer)
            if result is None:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            code, headers, out = result
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"port {server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()
