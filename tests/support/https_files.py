"""An https file server on 127.0.0.1 for tests (Python's http.server and ssl).

    python3 https_files.py ROOT CERTDIR

Makes a throw-away CA and server certificate in CERTDIR (tls_certs.py),
serves the files under ROOT on an ephemeral port, and prints "port N" on
stdout once it accepts connections. It stops when its stdin closes or on
SIGTERM. Besides files it answers:
  /status/NNN          with HTTP status NNN and a short body;
  /redirect-http/PATH  with a 302 to http://127.0.0.1:PORT/PATH (plain http).
Each request is appended to CERTDIR/requests.log ("GET /path").
"""
import http.server
import pathlib
import ssl
import sys
import threading

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from tls_certs import make_certs  # noqa: E402


def main():
    root, cert_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    _, cert, key = make_certs(cert_dir)
    log = open(cert_dir / "requests.log", "a", buffering=1)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format, *args):
            pass

        def do_GET(self):
            log.write(f"GET {self.path}\n")
            if self.path.startswith("/status/"):
                code = int(self.path.split("/")[2])
                body = f"status {code}\n".encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if self.path.startswith("/redirect-http/"):
                port = self.server.server_address[1]
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{port}/"
                                 + self.path[len("/redirect-http/"):])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # The handshake happens on the first read, in the request's thread, so a
    # client that refuses the certificate never stalls the accepting thread.
    server.socket = context.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"port {server.server_address[1]}", flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)
    server.shutdown()


if __name__ == "__main__":
    main()
