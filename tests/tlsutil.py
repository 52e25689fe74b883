"""tlsutil.py — certificates made with the real openssl command line and a
TLS client over python's ssl module, shared by the tests that need mod_ssl
(test_ssl.py, test_authz_providers.py)."""
import os
import socket
import ssl
import subprocess

import harness

SERVER_EXT = "subjectAltName=DNS:localhost,IP:127.0.0.1\n"


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True)


def make_ca(d, name, cn):
    """A self-signed CA: d/name.key, d/name.crt."""
    os.makedirs(d, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", name + ".key", "-out", name + ".crt",
            "-subj", "/CN=" + cn, "-days", "30", cwd=d)


def make_leaf(d, name, subj, ca="ca", days="30", ext=None):
    """d/name.key and d/name.crt signed by d/ca; days may be negative
    (an already expired certificate)."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout",
            name + ".key", "-out", name + ".csr", "-subj", subj, cwd=d)
    args = ["x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt",
            "-CAkey", ca + ".key", "-CAcreateserial", "-out",
            name + ".crt", "-days", days]
    if ext:
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        args += ["-extfile", name + ".ext"]
    openssl(*args, cwd=d)


def readable(d):
    """The server's children (www-data) must read every file."""
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)


def tls_get(pki, port, path, cert=None, pha=False):
    """GET path over TLS 1.3 on 127.0.0.1:port, optionally presenting
    pki/cert.crt; None when the server closed without an answer."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if pha:
        ctx.post_handshake_auth = True
    if cert:
        ctx.load_cert_chain(os.path.join(pki, cert + ".crt"),
                            os.path.join(pki, cert + ".key"))
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
               % path).encode())
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ssl.SSLError, ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    s.close()
    # After a failed post-handshake authentication mod_ssl ends the TLS
    # connection with an alert, so the 403 may never reach the client.
    return harness.parse_response(data) if data else None
