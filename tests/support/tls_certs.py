"""Throw-away TLS certificates for tests: a CA and a server certificate for
127.0.0.1 (and with --localhost for localhost too) signed by it, and with
--client a client certificate too, made with the openssl command (Debian's
openssl). The plugin download tests rely on localhost NOT being named, to
test a host name the certificate does not carry.

    python3 tls_certs.py DIR               writes DIR/ca.pem, DIR/server.pem, DIR/server.key
    python3 tls_certs.py DIR --localhost   the server certificate names localhost too
    python3 tls_certs.py DIR --client      and DIR/client.pem, DIR/client.key
"""
import pathlib
import subprocess
import sys


def make_certs(directory, localhost=False):
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
    names = "IP:127.0.0.1,DNS:localhost" if localhost else "IP:127.0.0.1"
    (d / "server.ext").write_text(f"subjectAltName={names}\n"
                                  "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", d / "server.csr", "-CA", d / "ca.pem", "-CAkey", d / "ca.key",
            "-CAcreateserial", "-out", d / "server.pem", "-days", "2", "-extfile",
            d / "server.ext")
    return d / "ca.pem", d / "server.pem", d / "server.key"


def make_client_cert(directory):
    """A client certificate signed by the CA make_certs() wrote in directory."""
    d = pathlib.Path(directory)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subprocess.run(["openssl", "req", "-new", *ec, "-keyout", d / "client.key", "-out",
                    d / "client.csr", "-subj", "/CN=hydra test client"],
                   check=True, capture_output=True)
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", d / "client.csr", "-CA", d / "ca.pem",
                    "-CAkey", d / "ca.key", "-CAcreateserial", "-out", d / "client.pem",
                    "-days", "2", "-extfile", d / "client.ext"],
                   check=True, capture_output=True)
    return d / "client.pem", d / "client.key"


if __name__ == "__main__":
    make_certs(sys.argv[1], localhost="--localhost" in sys.argv[2:])
    if "--client" in sys.argv[2:]:
        make_client_cert(sys.argv[1])
