"""test_ssl.py — 403s from real mod_ssl over real TLS on 127.0.0.1 with
certificates made here by openssl: SSLRequireSSL over plain HTTP,
SSLRequire on a DN field (no client certificate, a certificate of the wrong
organisation, one from an untrusted CA), and a per-directory
SSLVerifyClient that TLS 1.3 post-handshake authentication cannot satisfy
(no certificate; an expired one)."""
import os

import pytest

import harness
import tlsutil
from harness import decode

REQ_EXPR = '%{SSL_CLIENT_S_DN_O} eq "Good Org" and %{SSL_CLIENT_VERIFY} eq "SUCCESS"'


def make_pki(d):
    tlsutil.make_ca(d, "ca", "FX Test CA")
    tlsutil.make_ca(d, "ca2", "Untrusted CA")
    tlsutil.make_leaf(d, "server", "/CN=localhost", ext=tlsutil.SERVER_EXT)
    tlsutil.make_leaf(d, "good", "/CN=alice/O=Good Org")
    tlsutil.make_leaf(d, "evil", "/CN=mallory/O=Evil Corp")
    tlsutil.make_leaf(d, "untrusted", "/CN=eve/O=Good Org", ca="ca2")
    # -days -1: notAfter lies before now, so the certificate has expired
    tlsutil.make_leaf(d, "expired", "/CN=old/O=Good Org", days="-1")
    tlsutil.readable(d)


@pytest.fixture(scope="module")
def h():
    h = harness.Httpd(name="ssl", extra_modules=["socache_shmcb", "ssl"])
    pki = os.path.join(h.root, "pki")
    make_pki(pki)
    h.tls_port = harness.free_port()
    h.pha_port = harness.free_port()
    h.conf("SSLSessionCache shmcb:{root}/logs/ssl_scache(512000)")
    h.conf("<Location /needssl>\n    SSLRequireSSL\n</Location>")
    for port, verify in ((h.tls_port, "optional_no_ca"), (h.pha_port, "none")):
        h.conf("Listen 127.0.0.1:%d" % port)
        h.conf("<VirtualHost 127.0.0.1:%d>\n"
               "    SSLEngine on\n"
               "    SSLCertificateFile %s/server.crt\n"
               "    SSLCertificateKeyFile %s/server.key\n"
               "    SSLCACertificateFile %s/ca.crt\n"
               "    SSLVerifyClient %s\n"
               "    SSLVerifyDepth 2\n"
               "</VirtualHost>" % (port, pki, pki, pki, verify))
    h.body += "<Location /secure>\n    SSLRequire " + REQ_EXPR + "\n</Location>\n"
    h.conf("<Location /pha>\n    SSLVerifyClient require\n</Location>")
    h.write("htdocs/secure/index.html", "secret")
    h.write("htdocs/pha/index.html", "pha")
    h.write("htdocs/needssl/index.html", "tls only")
    h.start()
    h.pki = pki
    yield h
    h.cleanup()


def tls_get(h, port, path, cert=None, pha=False):
    return tlsutil.tls_get(h.pki, port, path, cert=cert, pha=pha)


def entries(h, uri):
    return h.entries_for(uri)


def last_entry(h, uri, n):
    got = entries(h, uri)
    assert len(got) == n, (uri, got, h.read_error_log()[-3000:])
    return got[-1]


def test_sslrequiressl_over_plain_http(h):
    r = h.get("/needssl/")
    assert r.status == 403
    assert tls_get(h, h.tls_port, "/needssl/").status == 200
    e = last_entry(h, "/needssl/", 1)
    assert e["reason"] == "ssl"
    assert e["module"] == "mod_ssl.c"
    assert e["phase"] == "access_checker"
    assert e["directive"] == "SSLRequireSSL"
    assert decode(e["file"]) == h.conf_file
    assert e["line"] == h.conf_line_of("    SSLRequireSSL")
    assert decode(e["section"]).startswith("<Location /needssl>")
    assert "AH02219" in decode(e["detail"])
    assert "ssl_client_verify" not in e


def check_require_entry(h, e):
    assert e["reason"] == "ssl"
    assert e["module"] == "mod_ssl.c"
    assert decode(e["directive"]) == "SSLRequire " + REQ_EXPR
    assert e["line"] == h.conf_line_of("SSLRequire %{SSL_CLIENT_S_DN_O}")
    assert "AH02229" in decode(e["detail"])


def test_sslrequire_good_client_passes(h):
    before = len(h.entries())
    r = tls_get(h, h.tls_port, "/secure/", cert="good")
    assert r.status == 200 and b"secret" in r.body
    assert len(h.entries()) == before


def test_sslrequire_without_client_certificate(h):
    r = tls_get(h, h.tls_port, "/secure/")
    assert r.status == 403
    e = last_entry(h, "/secure/", 1)
    check_require_entry(h, e)
    assert e["ssl_client_verify"] == "NONE"
    assert {k: decode(v) for k, v in e["ssl_vars"].items()} == {
        "SSL_CLIENT_S_DN_O": "", "SSL_CLIENT_VERIFY": "NONE"}
    assert "ssl_client_s_dn" not in e


def test_sslrequire_wrong_organisation(h):
    r = tls_get(h, h.tls_port, "/secure/", cert="evil")
    assert r.status == 403
    e = last_entry(h, "/secure/", 2)
    check_require_entry(h, e)
    assert e["ssl_client_verify"] == "SUCCESS"
    assert decode(e["ssl_vars"]["SSL_CLIENT_S_DN_O"]) == "Evil Corp"
    assert decode(e["ssl_client_s_dn"]) == "O=Evil Corp,CN=mallory"   # RFC 2253 order
    assert decode(e["ssl_client_i_dn"]) == "CN=FX Test CA"
    assert e["ssl_client_v_end"].endswith("GMT")


def test_sslrequire_untrusted_ca(h):
    r = tls_get(h, h.tls_port, "/secure/", cert="untrusted")
    assert r.status == 403
    e = last_entry(h, "/secure/", 3)
    check_require_entry(h, e)
    # optional_no_ca accepted the certificate without trusting it
    assert decode(e["ssl_client_verify"]) == ("FAILED:unable to verify the "
                                              "first certificate")
    assert decode(e["ssl_vars"]["SSL_CLIENT_S_DN_O"]) == "Good Org"
    assert decode(e["ssl_client_i_dn"]) == "CN=Untrusted CA"


def access_status(h, path):
    return [line.split()[1] for line in h.access_lines()
            if ('"GET %s HTTP/1.1"' % path) in line]


def test_per_dir_verify_client_without_certificate(h):
    r = tls_get(h, h.pha_port, "/pha/", pha=True)
    assert r is None or r.status == 403
    assert access_status(h, "/pha/") == ["403"]
    e = last_entry(h, "/pha/", 1)
    assert e["reason"] == "ssl"
    assert e["module"] == "mod_ssl.c"
    assert e["phase"] == "access_checker"
    assert e["directive"] == "SSLVerifyClient require"
    assert e["line"] == h.conf_line_of("    SSLVerifyClient require")
    assert decode(e["section"]).startswith("<Location /pha>")
    assert e["ah"] == "AH02263"
    assert "Client certificate missing" in decode(e["detail"])
    assert "post-handshake" in decode(e["hint"])


def test_per_dir_verify_client_expired_certificate(h):
    r = tls_get(h, h.pha_port, "/pha/", cert="expired", pha=True)
    assert r is None or r.status == 403
    assert access_status(h, "/pha/") == ["403", "403"]
    e = last_entry(h, "/pha/", 2)
    assert e["reason"] == "ssl"
    assert e["directive"] == "SSLVerifyClient require"
    assert e["ah"] == "AH02262"
    assert "Client verification failed" in decode(e["detail"])
    assert decode(e["ssl_verify_error"]) == "Error (10): certificate has expired"
