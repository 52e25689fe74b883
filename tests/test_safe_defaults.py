"""test_safe_defaults.py — the defaults are safe (issue 14, "Safe
defaults"), against real httpd processes:

* the loopback default of ForbiddenExplainTrustedClients does not extend to
  requests relayed by a proxy: a real reverse proxy (a second httpd with
  mod_proxy_http) on 127.0.0.1 in front of the module's httpd; what comes
  back through it is byte-identical to what a stock backend sends;
* forwarding headers sent directly, and a mod_remoteip proxy configured
  (server-wide or in one <VirtualHost>), also end the default;
* an explicit ForbiddenExplainTrustedClients keeps meaning what it says;
* literals of `Require expr` that a request value is compared with are
  redacted in the error log and the own log by default;
* the fallback request id is opaque, unique under concurrency and equal
  between header and log.
"""
import concurrent.futures
import json
import os
import re
import socket

import pytest

import harness
from harness import decode, field

DENY_CONF = r'''
<IfModule forbidden_explain_module>
    ForbiddenExplainHeaders On
    ForbiddenExplainRequestId On
</IfModule>
<Directory "{docroot}/deny">
    Require all denied
</Directory>
<IfModule forbidden_explain_module>
<Location /explicit/>
    ForbiddenExplainTrustedClients 127.0.0.1
</Location>
</IfModule>
<Directory "{docroot}/explicit">
    Require all denied
</Directory>
'''

PROBLEM = {"Accept": "application/problem+json"}


def comparable(resp):
    """Status line, headers without Date, body."""
    head = resp.raw.partition(b"\r\n\r\n")[0].split(b"\r\n")
    return head[0], [l for l in head[1:] if not l.startswith(b"Date: ")], \
        resp.body


def backend(make, name, with_module):
    h = make(name=name, with_module=with_module)
    h.mkdir("htdocs/deny")
    h.write("htdocs/deny/x.txt", "x")
    h.mkdir("htdocs/explicit")
    h.write("htdocs/explicit/x.txt", "x")
    h.conf(DENY_CONF)
    return h


@pytest.fixture(scope="module")
def proxied():
    """A module backend, a stock backend, and one front httpd proxying
    /m/ to the first and /s/ to the second (mod_proxy adds
    X-Forwarded-For), /mv/ with ProxyAddHeaders Off and Via only."""
    made = []

    def make(**kw):
        made.append(harness.Httpd(**kw))
        return made[-1]
    try:
        yield _proxied(make)
    finally:
        for h in made:
            h.cleanup()


def _proxied(make):
    fx = backend(make, "safe-fx", True).start()
    stock = backend(make, "safe-stock", False).start()
    front = make(name="safe-front", with_module=False,
                 extra_modules=["proxy", "proxy_http"])
    front.conf("ProxyVia Off\n"
               "ProxyPass /m/ http://127.0.0.1:%d/\n"
               "ProxyPass /s/ http://127.0.0.1:%d/\n"
               "<Location /mv/>\n"
               "    ProxyAddHeaders Off\n"
               "</Location>\n"
               "ProxyPass /mv/ http://127.0.0.1:%d/\n"
               % (fx.port, stock.port, fx.port))
    front.start()
    return fx, stock, front


def test_loopback_default_still_trusts_direct_clients(proxied):
    fx, _, _ = proxied
    r = fx.request("/deny/x.txt")
    assert r.status == 403
    assert r.header("Forbidden-Explain") is not None, r.raw[:1500]


def test_clients_through_a_reverse_proxy_get_nothing(proxied):
    fx, stock, front = proxied
    for path in ("/deny/x.txt", "/deny/", "/nothere"):
        for hdrs in ({}, PROBLEM):
            a = front.request("/m" + path, headers=hdrs)
            b = front.request("/s" + path, headers=hdrs)
            assert a.header("Forbidden-Explain") is None, a.raw[:1500]
            sa, ha, ba = comparable(a)
            sb, hb, bb = comparable(b)
            assert sa == sb, path
            # the opaque id is the only addition (RequestId On is on)
            extra = [l for l in ha if l not in hb]
            assert all(l.startswith(b"Forbidden-Explain-Id: ") for l in extra)
            assert len(extra) == (1 if a.status == 403 else 0), (path, extra)
            assert [l for l in ha if l not in extra] == hb, (path, ha, hb)
            assert ba == bb, path
    # the log still explains them, with the proxy as the peer
    got = [e for e in fx.entries() if field(e, "uri") == "/deny/x.txt"]
    assert len(got) >= 2 and all(e["client_ip"] == "127.0.0.1" for e in got)


def test_via_alone_is_enough(proxied):
    fx, _, front = proxied
    r = front.request("/mv/deny/x.txt", headers={"Via": "1.1 front"})
    assert r.status == 403
    assert r.header("Forbidden-Explain") is None


def _haproxy():
    """Debian's haproxy on PATH, or FX_HAPROXY (e.g. a wrapper around one
    extracted with `apt-get download haproxy && dpkg-deb -x`, which starts
    no system service)."""
    import shutil
    return os.environ.get("FX_HAPROXY") or shutil.which("haproxy")


@pytest.mark.skipif(_haproxy() is None, reason="haproxy not installed "
                    "(apt-get install haproxy, or FX_HAPROXY=/path)")
def test_clients_through_haproxy_get_nothing(proxied, tmp_path):
    """haproxy with `option forwardfor` in front: same as stock."""
    import subprocess
    import time
    fx, stock, _ = proxied
    pf, ps = harness.free_port(), harness.free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(
        "defaults\n    mode http\n    timeout connect 5s\n"
        "    timeout client 10s\n    timeout server 10s\n"
        "    option forwardfor\n"
        "frontend m\n    bind 127.0.0.1:%d\n    default_backend bm\n"
        "frontend s\n    bind 127.0.0.1:%d\n    default_backend bs\n"
        "backend bm\n    server a 127.0.0.1:%d\n"
        "backend bs\n    server b 127.0.0.1:%d\n"
        % (pf, ps, fx.port, stock.port))
    p = subprocess.Popen([_haproxy(), "-db", "-f", str(cfg)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for port in (pf, ps):
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.5).close()
                    break
                except OSError:
                    time.sleep(0.05)
        for path in ("/deny/x.txt", "/deny/"):
            for hdrs in ({}, PROBLEM):
                a, b = _via(pf, path, hdrs), _via(ps, path, hdrs)
                assert a.status == 403 and a.header("Forbidden-Explain") is None
                sa, ha, ba = comparable(a)
                sb, hb, bb = comparable(b)
                extra = [l for l in ha if l not in hb]
                assert sa == sb and ba == bb
                # (haproxy writes header names in lower case)
                assert len(extra) == 1 and \
                    extra[0].lower().startswith(b"forbidden-explain-id: ")
                assert [l for l in ha if l not in extra] == hb
        # the explicit list still trusts the proxy, as documented
        r = _via(pf, "/explicit/x.txt", {})
        assert r.status == 403 and r.header("Forbidden-Explain") is not None
    finally:
        p.terminate()
        p.wait(10)


def _via(port, path, headers):
    """One request to a proxy listening on 127.0.0.1:port."""
    req = "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % path
    for k, v in headers.items():
        req += "%s: %s\r\n" % (k, v)
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.sendall((req + "\r\n").encode())
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return harness.parse_response(data)


@pytest.mark.parametrize("name,value", [
    ("X-Forwarded-For", "192.0.2.1"), ("Forwarded", "for=192.0.2.1"),
    ("Via", "1.1 haproxy"), ("X-Real-IP", "192.0.2.1"),
    ("x-forwarded-for", ""),
])
def test_forwarding_headers_end_default_trust(proxied, name, value):
    fx, _, _ = proxied
    r = fx.request("/deny/x.txt", headers={name: value})
    assert r.status == 403
    assert r.header("Forbidden-Explain") is None
    assert r.header("Cache-Control") is None
    r = fx.request("/deny/x.txt", headers=dict(PROBLEM, **{name: value}))
    assert r.header("Content-Type") == "text/html; charset=iso-8859-1"


def test_explicit_trust_still_trusts_the_proxy(proxied):
    """As documented: an explicit list means what it says, so the proxy's
    address trusts every client behind it."""
    fx, _, front = proxied
    r = front.request("/m/explicit/x.txt")
    assert r.status == 403
    assert r.header("Forbidden-Explain") is not None, r.raw[:1500]


def test_configured_remoteip_proxy_ends_default_trust(make_httpd):
    h = make_httpd(name="safe-rip", extra_modules=["remoteip"])
    h.mkdir("htdocs/deny")
    h.conf("ServerName main.test\n" + DENY_CONF)
    # one name-based vhost with a proxy, one without
    h.conf('<VirtualHost 127.0.0.1:{port}>\n'
           '    ServerName a.test\n'
           '    RemoteIPHeader X-Client\n'
           '    RemoteIPInternalProxy 127.0.0.9\n'
           '</VirtualHost>\n'
           '<VirtualHost 127.0.0.1:{port}>\n'
           '    ServerName b.test\n'
           '</VirtualHost>\n')
    h.start()
    ra = h.request("/deny/", headers={"Host": "a.test"})
    rb = h.request("/deny/", headers={"Host": "b.test"})
    assert ra.status == rb.status == 403
    assert ra.header("Forbidden-Explain") is None
    assert rb.header("Forbidden-Explain") is not None, rb.raw[:1500]
    h.stop()
    # server-wide
    h2 = make_httpd(name="safe-rip2", extra_modules=["remoteip"])
    h2.mkdir("htdocs/deny")
    h2.conf("RemoteIPTrustedProxy 127.0.0.9\n" + DENY_CONF)
    h2.start()
    r = h2.request("/deny/")
    assert r.status == 403 and r.header("Forbidden-Explain") is None
    assert r.header("Forbidden-Explain-Id")


# --------------------------------------------------------------------------
# the fallback request id (no mod_unique_id)

ID_RE = re.compile(r"^fx-[0-9a-f]{32}$")


def test_fallback_id_is_opaque_and_unique_under_concurrency(make_httpd):
    h = make_httpd(name="safe-id")
    h.mkdir("htdocs/deny")
    h.write("htdocs/deny/x.txt", "x")
    h.conf(DENY_CONF)
    h.conf("ForbiddenExplainTrustedClients none")
    h.start()
    n = int(os.environ.get("FX_ID_REQUESTS", "400"))

    def one(i):
        # keep-alive pairs too: two requests on one connection
        r = h.request("/deny/x.txt?n=%d" % i)
        assert r.status == 403
        return r.header("Forbidden-Explain-Id")
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(one, range(n)))
    assert all(i and ID_RE.match(i) for i in ids), ids[:5]
    assert len(set(ids)) == n
    # opaque: nothing stable (time, pid) leads the id, as it did before
    assert len({i[3:11] for i in ids}) > n * 0.95
    assert not any(("-%d-" % p) in i for i in ids for p in (h.pid() or 0,))
    # header and log agree, one entry per request
    for _ in range(30):
        logged = [e["request_id"] for e in h.entries()
                  if field(e, "uri") == "/deny/x.txt"]
        if len(logged) >= n:
            break
    assert sorted(logged) == sorted(ids)


def test_fallback_id_differs_per_request_on_one_connection(make_httpd):
    """Two requests on one keep-alive connection get different ids, each
    equal to its own log entry."""
    import socket
    h = make_httpd(name="safe-id-ka")
    h.mkdir("htdocs/deny")
    h.conf(DENY_CONF)
    h.conf("ForbiddenExplainTrustedClients none")
    h.start()
    s = socket.create_connection(("127.0.0.1", h.port))
    req = ("GET /deny/ HTTP/1.1\r\nHost: x\r\n\r\n" * 2 +
           "GET /deny/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    s.sendall(req.encode())
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    ids = re.findall(rb"Forbidden-Explain-Id: (\S+)", data)
    assert len(ids) == 3 and len(set(ids)) == 3, data[:3000]
    logged = [e["request_id"] for e in h.entries()]
    assert sorted(logged) == sorted(i.decode() for i in ids)


# --------------------------------------------------------------------------
# secrets in Require expr are redacted in the log by default

SECRETS_CONF = r'''
ForbiddenExplainLog logs/fx.json
<Directory "{docroot}/api">
    Require expr "%{{HTTP:X-Api-Key}} == 'k-7f3a9c'"
</Directory>
<Directory "{docroot}/cookie">
    Require expr %{{HTTP_COOKIE}} =~ /sess=zz9q/
</Directory>
<Directory "{docroot}/query">
    Require expr "%{{QUERY_STRING}} == 'token=q77x' || req('X-Tok') in {{ 'tk-a1', 'tk-b2' }}"
</Directory>
<Directory "{docroot}/ip">
    Require expr "-R '10.9.9.0/24'"
</Directory>
<Directory "{docroot}/show">
    Require expr "%{{HTTP:X-Api-Key}} == 'show-me-1'"
</Directory>
<Location /show/>
    ForbiddenExplainRedact expr-literals wire
</Location>
'''

SECRETS = ("k-7f3a9c", "sess=zz9q", "token=q77x", "tk-a1", "tk-b2")


def test_compared_literals_redacted_in_both_logs(make_httpd):
    h = make_httpd(name="safe-secret")
    for d in ("api", "cookie", "query", "ip", "show"):
        h.mkdir("htdocs/" + d)
    h.conf(SECRETS_CONF)
    h.start()
    for path, hdrs in (("/api/", {"X-Api-Key": "wrong"}),
                       ("/cookie/", {"Cookie": "sess=nope"}),
                       ("/query/?token=no", {"X-Tok": "no"}),
                       ("/ip/", {}), ("/show/", {})):
        assert h.request(path, headers=hdrs).status == 403
    got = {field(e, "uri"): e for e in h.entries()}
    assert set(got) == {"/api/", "/cookie/", "/query/", "/ip/", "/show/"}
    api = got["/api/"]
    assert field(api, "directive") == \
        "Require expr \"%{HTTP:X-Api-Key} == '[redacted]'\""
    assert "[redacted]" in field(api, "detail") + field(api, "hint")
    assert field(got["/cookie/"], "directive") == \
        "Require expr %{HTTP_COOKIE} =~ /[redacted]/"
    q = field(got["/query/"], "directive")
    assert q.count("[redacted]") == 3 and "req('X-Tok')" in q, q
    # a literal not compared with a request value stays readable
    assert field(got["/ip/"], "directive") == "Require expr \"-R '10.9.9.0/24'\""
    # ... and `expr-literals wire` shows them in the log
    assert "'show-me-1'" in field(got["/show/"], "directive")
    # no secret anywhere in the error log or the own log, in any encoding
    with open(os.path.join(h.logs, "fx.json")) as f:
        own = f.read()
    assert own.count("\n") == 5
    for text in (h.read_error_log(), own):
        for s in SECRETS:
            assert s not in text and s not in decode(text), s
    assert "show-me-1" in own

