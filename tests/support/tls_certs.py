"""Throw-away TLS certificates for tests: a CA and a server certificate for
127.0.0.1 signed by it, made with the openssl command (Debian's openssl).

    python3 tls_certs.py DIR   writes DIR/ca.pem, DIR/server.pem, DIR/server.key
"""
import pathlib
import subprocess
import sys


def make_certs(directory):
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", *ec, "-keyout", d / "ca.key", "-out", d / "ca.pem", "-days", "2",
            "-subj", "/CN=hydra test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", *ec, "-keyout", d / "server.key", "-out", d / "server.csr",
            "-subj", "/CN=127.0.0.1")
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n"
                                  "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", d / "server.csr", "-CA", d / "ca.pem", "-CAkey", d / "ca.key",
            "-CAcreateserial", "-out", d / "server.pem", "-days", "2", "-extfile",
            d / "server.ext")
    return d / "ca.pem", d / "server.pem", d / "server.key"


if __name__ == "__main__":
    make_certs(sys.argv[1])
