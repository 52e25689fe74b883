"""test_whatif_tls.py — the simulator's TLS facts (issue 15, docs/whatif.md
"TLS"), against real requests over real TLS (mod_ssl, certificates made
here with openssl).

  * SSLRequireSSL, Require ssl, Require ssl-verify-client, SSLRequire on
    %{SSL_CLIENT_S_DN_CN}, Require expr on it, RewriteCond %{HTTPS} !=on
    [F]: for a plain client, a TLS client without certificate, with bob's
    and with alice's, the simulator's verdict and status equal the real
    request's — the plain probe asked over plain http and over https, the
    TLS probes through tools/fx-can-i --cert over a real handshake;
  * the same plain probe over HTTP/2 (the h2 master connection's TLS state
    must not leak into a plain probe);
  * tls facts given: equal to the connection's -> simulated; different ->
    an error answer where a rule reads them, a note where none does; an
    https probe asked over plain http is not answered with a verdict where
    a rule reads TLS;
  * a probe under a per-directory SSLVerifyClient require is refused and
    the simulator's connection is not renegotiated (TLS 1.3 with
    post-handshake authentication offered, and TLS 1.2): the next probe on
    the same connection still sees no client certificate.
"""
import http.client
import json
import os
import socket
import ssl
import subprocess

import pytest

import harness
import tlsutil

HERE = os.path.dirname(os.path.abspath(__file__))
FX_CAN_I = os.path.join(HERE, "..", "tools", "fx-can-i")

RULES = {
    "rssl": "    SSLRequireSSL\n",
    "reqssl": "    Require ssl\n",
    "rvc": "    Require ssl-verify-client\n",
    "sslreq": '    SSLRequire %{SSL_CLIENT_S_DN_CN} eq "bob"\n',
    "rexpr": "    Require expr %{SSL_CLIENT_S_DN_CN} == 'bob'\n",
}
CLIENTS = ("plain", "nocert", "bob", "alice")


@pytest.fixture(scope="module")
def h():
    h = harness.Httpd(name="wi-tls", extra_modules=["socache_shmcb", "ssl",
                                                     "http2"])
    pki = os.path.join(h.root, "pki")
    tlsutil.make_ca(pki, "ca", "FX Test CA")
    tlsutil.make_leaf(pki, "server", "/CN=localhost", ext=tlsutil.SERVER_EXT)
    tlsutil.make_leaf(pki, "bob", "/CN=bob/O=Org")
    tlsutil.make_leaf(pki, "alice", "/CN=alice/O=Org")
    tlsutil.readable(pki)
    h.pki = pki
    h.tls_port = harness.free_port()
    h.pha_port = harness.free_port()
    h.conf("SSLSessionCache shmcb:{root}/logs/ssl_scache(512000)")
    h.conf('<Location "/.fx-whatif">\n    SetHandler forbidden-explain-whatif\n'
           "    Require local\n    ForbiddenExplainTrustedClients 127.0.0.1\n"
           "</Location>")
    for port, verify, name in ((h.tls_port, "optional", "localhost"),
                               (h.pha_port, "none", "localhost"),
                               (h.tls_port, "none", "other.example")):
        if name == "localhost":
            h.conf("Listen 127.0.0.1:%d" % port)
        h.conf("<VirtualHost 127.0.0.1:%d>\n"
               "    ServerName %s\n"
               "    SSLEngine on\n"
               "    Protocols h2 http/1.1\n"
               "    SSLCertificateFile %s/server.crt\n"
               "    SSLCertificateKeyFile %s/server.key\n"
               "    SSLCACertificateFile %s/ca.crt\n"
               "    SSLVerifyClient %s\n"
               "</VirtualHost>" % (port, name, pki, pki, pki, verify))
    for name, rule in RULES.items():
        h.body += "<Location /%s>\n%s</Location>\n" % (name, rule)
        h.write("htdocs/%s/index.html" % name, name)
    h.body += ('<Directory "%s/rw">\n    RewriteEngine on\n'
               "    RewriteCond %%{HTTPS} !=on\n    RewriteRule ^ - [F]\n"
               "</Directory>\n" % h.docroot)
    h.write("htdocs/rw/index.html", "rw")
    # <If> on TLS facts: %{HTTPS} is read through httpd's public SSL API,
    # %{SSL_CLIENT_S_DN_CN} by mod_ssl's own lookup
    h.body += ("<Location /ifssl>\n    <If \"%{HTTPS} == 'on'\">\n"
               "        Require all denied\n    </If>\n</Location>\n"
               "<Location /ifdn>\n"
               "    <If \"%{SSL_CLIENT_S_DN_CN} == 'alice'\">\n"
               "        Require all denied\n    </If>\n</Location>\n")
    h.write("htdocs/ifssl/index.html", "ifssl")
    h.write("htdocs/ifdn/index.html", "ifdn")
    h.write("htdocs/free/index.html", "free")
    h.body += "<Location /pha>\n    SSLVerifyClient require\n</Location>\n"
    h.write("htdocs/pha/index.html", "pha")
    # only mod_dir's sub-request for the index file meets the directive
    h.body += ('<Directory "%s/phaidx">\n    <Files index.html>\n'
               "        SSLVerifyClient require\n    </Files>\n"
               "</Directory>\n" % h.docroot)
    h.write("htdocs/phaidx/index.html", "phaidx")
    h.start()
    yield h
    h.cleanup()


def ctx_for(h, cert=None, pha=False, tls12=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.post_handshake_auth = pha
    if cert:
        ctx.load_cert_chain(os.path.join(h.pki, cert + ".crt"),
                            os.path.join(h.pki, cert + ".key"))
    return ctx


def real(h, client, path):
    """The status a real client gets."""
    if client == "plain":
        return h.get(path).status
    r = tlsutil.tls_get(h.pki, h.tls_port, path,
                        cert=None if client == "nocert" else client)
    return r.status


def post_tls(h, port, probes, cert=None, pha=False, tls12=False):
    """POST each probe on ONE TLS connection (keep-alive); the answers."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=20,
                                       context=ctx_for(h, cert, pha, tls12))
    out = []
    try:
        for p in probes:
            conn.request("POST", "/.fx-whatif", body=json.dumps(p),
                         headers={"Content-Type": "application/json",
                                  "Host": "localhost"})
            r = conn.getresponse()
            body = r.read()
            assert r.status in (200, 400), (r.status, body)
            out.append(harness.strict_json(body.decode())[0])
    finally:
        conn.close()
    return out


def post_plain(h, p):
    r = h.request("/.fx-whatif", method="POST", body=json.dumps(p).encode(),
                  headers={"Content-Type": "application/json"})
    assert r.status in (200, 400), (r.status, r.body)
    return harness.strict_json(r.body.decode())[0]


def can_i(h, *args):
    p = subprocess.run(["/usr/bin/python3", FX_CAN_I, "--json"] + list(args),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode in (0, 1, 2), (p.returncode, p.stderr)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None, \
        p.stderr


def plain_probe(h, path):
    return {"method": "GET", "path": path, "host": "127.0.0.1",
            "scheme": "http", "port": h.port, "client_ip": "127.0.0.1"}


def tls_probe(h, path, **kw):
    p = {"method": "GET", "path": path, "host": "localhost",
         "scheme": "https", "port": h.tls_port, "client_ip": "127.0.0.1"}
    p.update(kw)
    return p


def status_of(a):
    assert a.get("verdict") in ("allowed", "denied"), a
    return a["status"]


PATHS = ["/%s/" % n for n in RULES] + ["/rw/", "/ifssl/", "/ifdn/", "/free/"]


def test_every_rule_every_client_matches_a_real_request(h):
    mismatches = []
    checked = 0
    for path in PATHS:
        want = {c: real(h, c, path) for c in CLIENTS}
        # the rules must tell the clients apart, or the test proves nothing
        if path != "/free/":
            assert len(set(want.values())) > 1, (path, want)
        # plain client: asked over plain http, over https, and by fx-can-i
        got = [status_of(post_plain(h, plain_probe(h, path))),
               status_of(post_tls(h, h.tls_port, [plain_probe(h, path)],
                                  cert="bob")[0])]
        rc, ans, err = can_i(h, "--url", "https://127.0.0.1:%d/.fx-whatif"
                             % h.tls_port, "--insecure", "--cert",
                             os.path.join(h.pki, "bob.crt"), "--key",
                             os.path.join(h.pki, "bob.key"), "--as",
                             "127.0.0.1", "GET", "http://127.0.0.1:%d%s"
                             % (h.port, path))
        got.append(status_of(ans))
        for g in got:
            checked += 1
            if g != want["plain"]:
                mismatches.append((path, "plain", want["plain"], got))
        for client in ("nocert", "bob", "alice"):
            args = ["--url", "https://127.0.0.1:%d/.fx-whatif" % h.tls_port,
                    "--insecure", "--as", "127.0.0.1"]
            if client != "nocert":
                args += ["--cert", os.path.join(h.pki, client + ".crt"),
                         "--key", os.path.join(h.pki, client + ".key")]
            rc, ans, err = can_i(h, *(args + ["GET", "https://localhost:%d%s"
                                              % (h.tls_port, path)]))
            checked += 1
            g = status_of(ans)
            assert rc == (0 if g < 400 else 1), (rc, ans)
            if g != want[client]:
                mismatches.append((path, client, want[client], g, ans))
            else:
                tls = ans["tls"]
                assert tls and tls["protocol"] == "TLSv1.3", ans
                if client == "nocert":
                    assert tls["verify"] == "NONE" and tls["client_dn"] == ""
                else:
                    assert tls["verify"] == "SUCCESS", ans
                    assert "CN=%s" % client in tls["client_dn"], ans
    assert not mismatches, mismatches
    assert checked == len(PATHS) * 6


def test_plain_probe_over_http2_does_not_see_the_master_tls(h):
    """curl speaks h2 to the TLS vhost: the probe's connection is a copy of
    an h2 stream, whose TLS state sits on its master connection."""
    if h.mpm == "prefork":
        pytest.skip("mod_http2 leaves HTTP/2 inactive under prefork")
    body = json.dumps(plain_probe(h, "/rssl/"))
    out = subprocess.run(
        ["curl", "-sk", "--http2", "-o", "-", "-w", "\n%{http_version}",
         "-H", "Content-Type: application/json", "--data-binary", body,
         "https://127.0.0.1:%d/.fx-whatif" % h.tls_port],
        capture_output=True, text=True, timeout=30)
    text, version = out.stdout.rsplit("\n", 1)
    assert version == "2", out
    a = json.loads(text)
    assert (a["verdict"], a["status"]) == ("denied", 403), a
    assert a["entry"]["directive"] == "SSLRequireSSL", a
    assert a["tls"] is None
    # and the https probe on that stream does see the TLS connection
    body = json.dumps(tls_probe(h, "/rssl/"))
    out = subprocess.run(
        ["curl", "-sk", "--http2", "-H", "Content-Type: application/json",
         "--data-binary", body, "https://127.0.0.1:%d/.fx-whatif"
         % h.tls_port], capture_output=True, text=True, timeout=30)
    a = json.loads(out.stdout)
    assert (a["verdict"], a["status"]) == ("allowed", 200), a


def test_given_tls_facts_are_checked(h):
    [conn] = post_tls(h, h.tls_port, [tls_probe(h, "/free/")], cert="bob")
    facts = conn["tls"]
    assert facts["verify"] == "SUCCESS" and "CN=bob" in facts["client_dn"]
    same, other, wrong_proto, irrelevant = post_tls(h, h.tls_port, [
        tls_probe(h, "/sslreq/", tls={k: facts[k] for k in
                                      ("client_dn", "verify", "protocol")}),
        tls_probe(h, "/sslreq/", tls={"client_dn": "CN=mallory,O=Org"}),
        tls_probe(h, "/rexpr/", tls={"protocol": "TLSv1.2"}),
        tls_probe(h, "/free/", tls={"client_dn": "CN=mallory,O=Org"}),
    ], cert="bob")
    assert (same["verdict"], same["status"]) == ("allowed", 200), same
    assert any("equal to them" in n for n in same["notes"]), same
    for a, rule in ((other, "SSLRequire"), (wrong_proto, "Require expr")):
        assert a["verdict"] == "error" and "status" not in a, a
        assert "differ from the connection's" in a["error"], a
        assert rule in a["error"] and "fx-can-i --cert" in a["error"], a
    assert (irrelevant["verdict"], irrelevant["status"]) == ("allowed", 200)
    assert any("did not matter" in n for n in irrelevant["notes"]), irrelevant
    # facts given for a plain probe differ from a plain connection's (none)
    p = plain_probe(h, "/rw/")
    p["tls"] = {"verify": "SUCCESS"}
    a = post_plain(h, p)
    assert a["verdict"] == "error" and "RewriteCond %{HTTPS}" in a["error"], a
    p = plain_probe(h, "/free/")
    p["tls"] = {"verify": "SUCCESS"}
    a = post_plain(h, p)
    assert a["verdict"] == "allowed", a
    # <If> sections reading TLS facts, also when they did not apply
    p = plain_probe(h, "/ifssl/")
    p["tls"] = {"verify": "SUCCESS"}
    a = post_plain(h, p)
    assert a["verdict"] == "error" and "<If \"%{HTTPS} == 'on'\">" in a["error"], a
    [a] = post_tls(h, h.tls_port, [tls_probe(h, "/ifdn/",
                                             tls={"client_dn": "CN=x"})],
                   cert="bob")
    assert a["verdict"] == "error" and "SSL_CLIENT_S_DN_CN" in a["error"], a
    # an https probe asked over plain http has no TLS connection at all
    a = post_plain(h, tls_probe(h, "/reqssl/"))
    assert a["verdict"] == "error" and "plain http" in a["error"], a
    assert "Require ssl" in a["error"], a
    a = post_plain(h, tls_probe(h, "/free/"))
    assert a["verdict"] == "allowed" and a["tls"] is None, a
    # a plain probe of the TLS port: mod_ssl answers a real one 400
    assert h.request("/free/", headers={"Host": "localhost"},
                     ).status == 200
    keep = h.port
    h.port = h.tls_port
    try:
        assert h.get("/free/").status == 400
    finally:
        h.port = keep
    a = post_plain(h, dict(plain_probe(h, "/free/"), port=h.tls_port,
                           host="localhost"))
    assert a["verdict"] == "error" and "SSLEngine on" in a["error"], a
    # another name-based virtual host of the TLS port, whose SSL setup is
    # not the handshake's: a real client of it would handshake with it.
    # mod_ssl >= 2.4.64 answers such a request 421 itself; before, nothing
    # did, and the simulator's handshake named no server (SNI)
    other = tls_probe(h, "/rvc/", host="other.example")
    [a, b] = post_tls(h, h.tls_port, [other, dict(other, path="/free/")],
                      cert="bob")
    assert a["verdict"] == "error", a
    sock = ctx_for(h, "bob").wrap_socket(
        socket.create_connection(("127.0.0.1", h.tls_port), timeout=10),
        server_hostname=None)           # no SNI, as fx-can-i to an address
    sock.sendall(b"GET /free/ HTTP/1.1\r\nHost: other.example\r\n"
                 b"Connection: close\r\n\r\n")
    data = b""
    while True:
        d = sock.recv(65536)
        if not d:
            break
        data += d
    sock.close()
    real_status = harness.parse_response(data).status
    assert (real_status == 421) == ("421" in a["error"]), (real_status, a)
    if "421" in a["error"]:
        assert "reach the simulator by the probe's host name" in a["error"]
        assert b["verdict"] == "error" and "421" in b["error"], b
    else:
        assert "named no server (SNI)" in a["error"], a
        assert "Require ssl-verify-client" in a["error"], a
        assert b["verdict"] == "allowed", b
    # unknown tls keys are input errors
    a = post_plain(h, tls_probe(h, "/free/", tls={"cn": "bob"}))
    assert 'unknown key "cn" in "tls"' in a["error"], a


@pytest.mark.parametrize("tls12", [False, True], ids=["tls1.3-pha", "tls1.2"])
def test_per_dir_verify_client_does_not_renegotiate(h, tls12):
    """The vhost on pha_port verifies no client: the handshake asks for no
    certificate.  A real client under /pha/ gets asked (post-handshake
    authentication or renegotiation); the probe must not make that
    happen on the simulator's connection, though the client offers it and
    holds bob's certificate."""
    probe = {"method": "GET", "path": "/pha/", "host": "localhost",
             "scheme": "https", "port": h.pha_port, "client_ip": "127.0.0.1"}
    after = dict(probe, path="/free/")
    refused, then = post_tls(h, h.pha_port, [probe, after], cert="bob",
                             pha=True, tls12=tls12)
    assert refused["verdict"] == "error", refused
    assert "SSLVerifyClient require" in refused["error"], refused
    assert "renegotiate" in refused["error"], refused
    assert "was stopped before the access phase" in refused["error"]
    # the connection was not asked for the certificate it could have given
    assert then["verdict"] == "allowed", then
    assert then["tls"]["verify"] == "NONE", then
    assert then["tls"]["client_dn"] == "", then
    assert then["tls"]["protocol"] == ("TLSv1.2" if tls12 else "TLSv1.3")
    # the index file's sub-request (mod_dir) is stopped the same way
    refused, then = post_tls(h, h.pha_port, [dict(probe, path="/phaidx/"),
                                             after], cert="bob", pha=True,
                             tls12=tls12)
    assert refused["verdict"] == "error", refused
    assert "SSLVerifyClient require" in refused["error"], refused
    assert "<Files index.html>" in refused["error"], refused
    assert then["tls"]["verify"] == "NONE", then
    # the same path as a plain probe is exact (no TLS, nothing to ask)
    a = post_tls(h, h.pha_port, [plain_probe(h, "/pha/")], cert="bob",
                 pha=True, tls12=tls12)[0]
    assert (a["verdict"], a["status"]) == ("allowed", 200), a


def test_defaults_and_fx_can_i_output(h):
    # no scheme, no port: the caller's connection (here TLS, bob's)
    bare = {"path": "/rvc/", "host": "localhost", "client_ip": "127.0.0.1"}
    a, b = post_tls(h, h.tls_port, [bare, dict(bare, port=h.port,
                                               host="127.0.0.1")],
                    cert="bob")
    assert (a["verdict"], a["status"]) == ("allowed", 200), a
    assert "CN=bob" in a["tls"]["client_dn"], a
    # another port without a scheme: http there (a plain client)
    assert (b["verdict"], b["status"], b["tls"]) == ("denied", 403, None), b
    # readable output names the facts used
    cert = os.path.join(h.pki, "alice.crt")
    key = os.path.join(h.pki, "alice.key")
    p = subprocess.run(["/usr/bin/python3", FX_CAN_I, "--url",
                        "https://127.0.0.1:%d/.fx-whatif" % h.tls_port,
                        "--cacert", os.path.join(h.pki, "ca.crt"), "--cert",
                        cert, "--key", key, "GET",
                        "https://localhost:%d/sslreq/" % h.tls_port],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stdout.startswith("DENIED 403"), p.stdout
    assert "SSLRequire" in p.stdout, p.stdout
    assert "tls:    TLSv1.3, client O=Org,CN=alice, verify SUCCESS" in p.stdout
    # a certificate cannot be presented over plain http
    p = subprocess.run(["/usr/bin/python3", FX_CAN_I, "--url",
                        "http://127.0.0.1:%d/.fx-whatif" % h.port, "--cert",
                        cert, "--key", key, "GET", "http://127.0.0.1/"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "need an https --url" in p.stderr, p
