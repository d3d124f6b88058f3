"""An OTLP/HTTP logs receiver for tests (Python's http.server), answering as
the OTLP specification documents (opentelemetry.io/docs/specs/otlp,
"OTLP/HTTP"), failures included.

    python3 otlp_receiver.py [--tls] DIR [RESPONSE ...]

Listens on 127.0.0.1, an ephemeral port, HTTP/1.1 with keep-alive (with
--tls: https, a throw-away CA in DIR/ca.pem made by tls_certs.py), and
prints "port N" on stdout once it accepts connections. It stops when its
stdin closes or on SIGTERM.

Each POST is answered with the next RESPONSE in order, then with a plain
success once they are used up:
  200               success (an empty ExportLogsServiceResponse)
  partial:N:TEXT    success with partial_success {rejected_log_records: N,
                    error_message: TEXT}
  CODE[:RETRY]      HTTP CODE (400, 429, 503 ...) with a google.rpc.Status
                    body, and Retry-After: RETRY when given
  drop              the connection closed without an answer
  meet:N            success once N requests answered meet:N are in progress
                    at once (N senders sending side by side); 500 if they
                    are not within a minute
Bodies are encoded as the request was: protobuf for application/x-protobuf,
JSON for application/json.

Every request's body (decompressed when Content-Encoding is gzip or zstd)
is saved as DIR/body-NNNN.bin (NNNN from 0001), and a line of JSON appended
to DIR/requests.jsonl (n, time, path, content_type, content_encoding,
answer, decode_error, headers) before it is answered: once the client has
its answer, the files are there. A body that does not decompress is
answered 400, whatever RESPONSE was next.
"""
import gzip
import http.server
import json
import pathlib
import ssl
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from meeting import Meeting  # noqa: E402
from tls_certs import make_certs  # noqa: E402


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def pb_field(number, wire_type, payload):
    if wire_type == 0:
        return varint(number << 3) + varint(payload)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def main():
    args = sys.argv[1:]
    tls = args and args[0] == "--tls"
    if tls:
        args = args[1:]
    work = pathlib.Path(args[0])
    work.mkdir(parents=True, exist_ok=True)
    script = list(args[1:])
    lock = threading.Lock()
    state = {"n": 0}
    meeting = Meeting()
    log = open(work / "requests.jsonl", "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def log_message(self, format, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            # A body the collector cannot decode is a 400, as the
            # Collector's HTTP receivers answer it.
            encoding = self.headers.get("Content-Encoding", "")
            decode_error = ""
            try:
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "zstd":
                    import zstandard  # python3-zstandard
                    body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
                elif encoding:
                    raise ValueError(f"unsupported Content-Encoding {encoding!r}")
            except Exception as e:  # noqa: BLE001: any failure to decode
                decode_error = f"{type(e).__name__}: {e}"
            json_body = self.headers.get("Content-Type", "").startswith("application/json")
            with lock:
                state["n"] += 1
                n = state["n"]
                if decode_error:
                    answer = "400"
                else:
                    answer = script.pop(0) if script else "200"
                (work / f"body-{n:04d}.bin").write_bytes(body)
                log.write(json.dumps({
                    "n": n, "time": time.time(), "path": self.path,
                    "content_type": self.headers.get("Content-Type", ""),
                    "content_encoding": self.headers.get("Content-Encoding", ""),
                    "answer": answer, "decode_error": decode_error,
                    "client_port": self.client_address[1],
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                }) + "\n")
            if answer.startswith("meet:"):
                answer = "200" if meeting.wait(int(answer[5:])) else "500"
            if answer == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            headers = {}
            if answer.startswith("partial:"):
                _, count, text = answer.split(":", 2)
                code = 200
                if json_body:
                    out = json.dumps({"partialSuccess": {"rejectedLogRecords": count,
                                                         "errorMessage": text}}).encode()
                else:
                    out = pb_field(1, 2, pb_field(1, 0, int(count))
                                   + pb_field(2, 2, text.encode()))
            elif answer == "200":
                code = 200
                out = b"{}" if json_body else b""
            else:
                parts = answer.split(":", 1)
                code = int(parts[0])
                if len(parts) > 1:
                    headers["Retry-After"] = parts[1]
                message = f"test receiver says {code}"
                grpc_code = {400: 3, 429: 8, 503: 14}.get(code, 2)
                if json_body:
                    out = json.dumps({"code": grpc_code, "message": message}).encode()
                else:
                    out = pb_field(1, 0, grpc_code) + pb_field(2, 2, message.encode())
            self.send_response(code)
            self.send_header("Content-Type",
                             "application/json" if json_body else "application/x-protobuf")
            self.send_header("Content-Length", str(len(out)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(out)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls:
        _, cert, key = make_certs(work)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"port {server.server_address[1]}", flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)
    server.shutdown()


if __name__ == "__main__":
    main()
