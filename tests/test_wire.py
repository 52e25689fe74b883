"""test_wire.py — diagnostics on the wire (issue 6), against real httpd
processes: the Forbidden-Explain header parsed back with a strict RFC 8941
parser (tests/sf8941.py), problem+json bodies, trust by address (distinct
127.0.0.x sources, a real mod_remoteip with trusted and untrusted proxies,
IPv6 ::1) and by expr=, the opaque request id, redaction on and off,
hostile URLs, users and file names, and a byte-for-byte differential against
stock httpd (same configuration, same files, module not loaded) for
untrusted clients."""
import json
import os
import socket
from urllib.parse import unquote_to_bytes

import pytest

import harness
from harness import decode, strict_json
from sf8941 import Token, parse_dictionary, plain

TRUSTED = "127.0.0.2"
UNTRUSTED = "127.0.0.3"
PROXY_OK = "127.0.0.5"        # RemoteIPInternalProxy
PROXY_BAD = "127.0.0.6"       # not a trusted proxy
PROBLEM = {"Accept": "application/problem+json"}
SECRET = "hunter2-SECRET"

# Everything of ours sits in <IfModule>, so the very same text configures
# the stock server of the differential test.
CONF = r'''
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.5
AddHandler send-as-is asis
<IfModule forbidden_explain_module>
    ForbiddenExplainHeaders On
    ForbiddenExplainTrustedClients 127.0.0.2 192.0.2.0/24 ::1
</IfModule>
<Directory "{docroot}/deny">
    Require ip 10.0.0.0/8
</Directory>
<Directory "{docroot}/ed">
    Require ip 10.0.0.0/8
    ErrorDocument 403 /errdoc.html
</Directory>
<Directory "{docroot}/edtext">
    Require ip 10.0.0.0/8
    ErrorDocument 403 "custom refusal text"
</Directory>
<Directory "{docroot}/secret">
    Require expr "%{{HTTP:X-Api-Key}} == 'hunter2-SECRET'"
</Directory>
<Directory "{docroot}/backend">
    Require ip 10.0.0.0/8
</Directory>
<Directory "{docroot}/users">
    AuthType Basic
    AuthName "wire"
    AuthBasicProvider file
    AuthUserFile "{root}/conf/htpasswd"
    Require user alice
    AuthzSendForbiddenOnFailure On
</Directory>
ProxyPass /relay/ http://127.0.0.1:{port}/backend/
<IfModule forbidden_explain_module>
<Location /backend/>
    ForbiddenExplainHeaders Off
</Location>
<Location /tok/>
    ForbiddenExplainTrustedClients "expr=%{{HTTP:X-Debug-Token}} == 'sesame'"
</Location>
<Location /rid/>
    ForbiddenExplainRequestId On
</Location>
<Location /secret/regex/>
    ForbiddenExplainRedact "/tmp/[^/]+"
    ForbiddenExplainRedact "hunter\d"
</Location>
<Location /secret/logtoo/>
    ForbiddenExplainRedact expr-literals log
</Location>
<Location /secret/plain/>
    ForbiddenExplainRedact none
</Location>
<Location /quiet/>
    ForbiddenExplainHeaders Off
</Location>
</IfModule>
<Directory "{docroot}/tok">
    Require ip 10.0.0.0/8
</Directory>
<Directory "{docroot}/rid">
    Require ip 10.0.0.0/8
</Directory>
<Directory "{docroot}/rid/open">
    Require all granted
</Directory>
<Directory "{docroot}/quiet">
    Require ip 10.0.0.0/8
</Directory>
<Directory "{docroot}/ht">
    AllowOverride All
    Require ip 10.0.0.0/8
</Directory>
'''

ASIS = (b"Status: 403 Forbidden\r\nContent-Type: text/plain\r\n"
        b"X-App: 1\r\n\r\nthe application says no\n")
HOSTILE_NAME = b'q"b\\s\x01\xff%41 name.txt'


def populate(h):
    for d in ("deny", "ed", "edtext", "secret", "secret/regex",
              "secret/logtoo", "secret/plain", "backend", "tok", "rid",
              "rid/open", "quiet", "users", "files"):
        h.write("htdocs/%s/index.html" % d, "inside %s\n" % d)
    h.write("htdocs/index.html", "home\n")
    # a site owner must not be able to widen who is trusted
    h.write("htdocs/ht/.htaccess",
            "ForbiddenExplainTrustedClients 0.0.0.0/0 ::/0\n")
    h.write("htdocs/ht/index.html", "x")
    h.write("htdocs/errdoc.html", "<p>our own error page</p>\n")
    h.write("htdocs/app/no.asis", ASIS)
    # {SHA} entries: users with quotes, backslashes and high bytes
    import base64
    import hashlib
    sha = "{SHA}" + base64.b64encode(hashlib.sha1(b"pw").digest()).decode()
    lines = [b"alice:" + sha.encode(), b'b"o\\b\xff:' + sha.encode()]
    h.write("conf/htpasswd", b"\n".join(lines) + b"\n")
    # a file the server user cannot read, with a hostile name
    path = os.path.join(h.docroot.encode(), b"files", HOSTILE_NAME)
    with open(path, "wb") as f:
        f.write(b"x")
    os.chmod(path, 0o600)


def make(name, with_module, docroot=None):
    h = harness.Httpd(name=name, with_module=with_module,
                      extra_modules=["remoteip", "proxy", "proxy_http",
                                     "asis"])
    if docroot:
        h.docroot = docroot
    h.conf(CONF)
    return h


@pytest.fixture(scope="module")
def servers():
    fx = make("wire", True)
    populate(fx)
    stock = make("wire-stock", False, docroot=fx.docroot)
    try:
        fx.start()
        stock.start()
        yield fx, stock
    finally:
        fx.cleanup()
        stock.cleanup()


def explain(resp):
    """The Forbidden-Explain header parsed strictly, members unwrapped."""
    raw = resp.header("Forbidden-Explain")
    assert raw is not None, resp.raw[:2000]
    return plain(parse_dictionary(raw))


def pct(s):
    """The wire text rule undone: %HH back to bytes (as str)."""
    return decode(s)


def pct_all(v):
    """pct() applied to every string inside a value (raw lists and objects
    carry %HH-encoded strings in the log, plain ones in problem+json)."""
    if isinstance(v, str):
        return pct(v)
    if isinstance(v, list):
        return [pct_all(x) for x in v]
    if isinstance(v, dict):
        return {k: pct_all(x) for k, x in v.items()}
    return v


def raw_bytes(s):
    """The wire text rule undone, as the original bytes."""
    return unquote_to_bytes(s)


def entry_by_id(h, rid):
    for _ in range(20):
        found = [e for e in h.entries() if e.get("request_id") == rid]
        if found:
            assert len(found) == 1
            return found[0]
    raise AssertionError("no log entry with request_id %s" % rid)


def head_lines(resp):
    return resp.raw.partition(b"\r\n\r\n")[0].split(b"\r\n")


def assert_head_clean(resp):
    """No header line holds anything but printable ASCII."""
    for line in head_lines(resp):
        assert all(0x20 <= b <= 0x7e for b in line), line[:200]


# --------------------------------------------------------------------------
# trusted clients


def test_trusted_client_gets_exact_header(servers):
    fx, _ = servers
    r = fx.request("/deny/", source=TRUSTED)
    assert r.status == 403
    d = explain(r)
    line = fx.conf_line_of("Require ip 10.0.0.0/8")
    assert d["reason"] == "authz" and isinstance(d["reason"], Token)
    assert d["module"] == "mod_authz_core.c"
    assert d["phase"] == "access_checker_ex"
    assert d["at"] == "%s:%d" % (fx.conf_file, line)
    assert d["directive"] == "Require ip 10.0.0.0/8"
    assert d["client_ip"] == TRUSTED
    assert d["uri"] == "/deny/"
    assert "status" not in d and "file" not in d and "line" not in d
    assert list(d)[:4] == ["reason", "module", "phase", "at"]
    assert list(d)[-1] == "id"
    assert r.header("Cache-Control") == "private, no-store"
    assert r.header("Content-Type") == "text/html; charset=iso-8859-1"
    assert b"<h1>Forbidden</h1>" in r.body
    e = entry_by_id(fx, d["id"])
    assert e["directive"] == d["directive"] and e["line"] == line
    assert e["hint"] == d["hint"] and e["detail"] == d["detail"]
    assert len(r.header("Forbidden-Explain")) <= 4096
    assert_head_clean(r)


def test_untrusted_and_quiet_get_nothing(servers):
    fx, _ = servers
    for path, src in (("/deny/", UNTRUSTED), ("/deny/", "127.0.0.1"),
                      ("/quiet/", TRUSTED)):
        r = fx.request(path, source=src, headers=PROBLEM)
        assert r.status == 403
        assert r.header("Forbidden-Explain") is None, (path, src)
        assert r.header("Forbidden-Explain-Id") is None
        assert r.header("Cache-Control") is None
        assert r.header("Content-Type") == "text/html; charset=iso-8859-1"
    # ... while the log still explains every one of them
    assert any(e["client_ip"] == UNTRUSTED for e in fx.entries())


def test_non_403_responses_untouched(servers):
    fx, _ = servers
    for path, status in (("/", 200), ("/index.html", 200),
                         ("/nothing-here", 404), ("/users/", 401),
                         ("/rid/open/", 200)):
        r = fx.request(path, source=TRUSTED, headers=PROBLEM)
        assert r.status == status, path
        names = [k.lower() for k, _ in r.headers]
        assert "forbidden-explain" not in names
        assert "forbidden-explain-id" not in names
        assert "cache-control" not in names


def test_htaccess_cannot_widen_trust(servers):
    fx, _ = servers
    r = fx.request("/ht/", source=UNTRUSTED)
    assert r.status == 500
    assert r.header("Forbidden-Explain") is None
    assert "ForbiddenExplainTrustedClients not allowed here" in \
        fx.read_error_log()


# --------------------------------------------------------------------------
# trust: mod_remoteip, expr=, IPv6 and the loopback default


def test_remoteip_trusted_and_untrusted_proxies(servers):
    fx, _ = servers
    cases = [
        # (source, X-Forwarded-For, trusted?, client_ip in the entry)
        (PROXY_OK, "192.0.2.7", True, "192.0.2.7"),
        (PROXY_OK, UNTRUSTED, False, UNTRUSTED),
        (PROXY_BAD, "192.0.2.7", False, PROXY_BAD),
        (UNTRUSTED, TRUSTED, False, UNTRUSTED),
        (PROXY_OK, "192.0.2.99, 127.0.0.3", False, UNTRUSTED),
    ]
    for src, xff, trusted, client in cases:
        r = fx.request("/deny/", source=src,
                       headers={"X-Forwarded-For": xff})
        assert r.status == 403
        if trusted:
            d = explain(r)
            assert d["client_ip"] == client
            assert d["peer_ip"] == src
            assert entry_by_id(fx, d["id"])["client_ip"] == client
        else:
            assert r.header("Forbidden-Explain") is None, (src, xff)
    logged = {(e["client_ip"], e.get("peer_ip")) for e in fx.entries()}
    assert (UNTRUSTED, PROXY_OK) in logged
    assert (PROXY_BAD, None) in logged


def test_expr_trust(servers):
    fx, _ = servers
    r = fx.request("/tok/", source=UNTRUSTED,
                   headers={"X-Debug-Token": "sesame"})
    assert r.status == 403
    assert explain(r)["directive"] == "Require ip 10.0.0.0/8"
    for src, hdrs in ((UNTRUSTED, {"X-Debug-Token": "sesame!"}),
                      (TRUSTED, {}), (UNTRUSTED, {})):
        r = fx.request("/tok/", source=src, headers=hdrs)
        assert r.status == 403
        assert r.header("Forbidden-Explain") is None, (src, hdrs)
        # asking the expression must not add Vary for untrusted clients
        assert r.header("Vary") is None


def test_loopback_default_ipv6_and_graceful(make_httpd):
    # prefork here, event for the main server: both MPMs see the wire
    h = make_httpd(name="wire-default", mpm="prefork")
    port6 = harness.free_port()
    h.conf("Listen [::1]:%d" % port6)
    h.conf("ForbiddenExplainHeaders On")
    h.conf('<Directory "{docroot}/deny">\n  Require ip 10.0.0.0/8\n'
           '</Directory>')
    h.write("htdocs/deny/index.html", "x")
    h.start()

    def over_ipv6():
        s = socket.create_connection(("::1", port6), 5)
        s.sendall(b"GET /deny/ HTTP/1.1\r\nHost: x\r\nConnection: close"
                  b"\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return harness.parse_response(data)

    for _ in range(2):
        for src in ("127.0.0.1", "127.9.9.9"):
            assert explain(h.request("/deny/", source=src))["client_ip"] == src
        assert explain(over_ipv6())["client_ip"] == "::1"
        h.graceful()        # the default survives a new generation


# --------------------------------------------------------------------------
# problem+json


def problem(resp):
    """The problem document: RFC 8259 JSON in UTF-8 (strict UTF-8, no raw
    control byte), parsed strictly."""
    assert resp.header("Content-Type") == "application/problem+json"
    assert int(resp.header("Content-Length")) == len(resp.body)
    assert all(b >= 0x20 and b != 0x7f for b in resp.body), resp.body[:200]
    doc, rest = strict_json(resp.body.decode("utf-8"))
    assert rest == ""
    return doc


def test_problem_json_canned(servers):
    fx, _ = servers
    r = fx.request("/deny/", source=TRUSTED,
                   headers={"Accept": "text/html;q=0.9, "
                                      "application/problem+json"})
    assert r.status == 403
    doc = problem(r)
    d = explain(r)
    assert doc["type"] == "about:blank"
    assert doc["title"] == "Forbidden"
    assert doc["status"] == 403
    assert doc["instance"] == "urn:forbidden-explain:" + d["id"]
    assert doc["request_id"] == d["id"]
    assert doc["detail"] == d["detail"]
    assert doc["directive"] == "Require ip 10.0.0.0/8"
    assert doc["line"] == fx.conf_line_of("Require ip 10.0.0.0/8")
    assert doc["file"] == fx.conf_file
    e = entry_by_id(fx, d["id"])
    for k, v in e.items():
        if k in ("status", "detail", "truncated"):
            continue
        assert doc[k] == pct_all(v), k
    assert r.header("Cache-Control") == "private, no-store"
    # q=0 refuses it
    r = fx.request("/deny/", source=TRUSTED,
                   headers={"Accept": "application/problem+json;q=0"})
    assert r.header("Content-Type") == "text/html; charset=iso-8859-1"
    # HEAD: same headers, no body
    r = fx.request("/deny/", method="HEAD", source=TRUSTED, headers=PROBLEM)
    assert r.status == 403 and r.body == b""
    assert r.header("Content-Type") == "application/problem+json"
    assert explain(r)["reason"] == "authz"


def test_error_documents(servers):
    fx, _ = servers
    # local ErrorDocument: served by r->next, untouched without Accept
    r = fx.request("/ed/", source=TRUSTED)
    assert r.status == 403
    assert r.body == b"<p>our own error page</p>\n"
    assert explain(r)["directive"] == "Require ip 10.0.0.0/8"
    assert r.header("Cache-Control") == "private, no-store"
    # ... replaced whole with Accept, no stale entity headers
    r = fx.request("/ed/", source=TRUSTED, headers=PROBLEM)
    doc = problem(r)
    assert doc["uri"] == "/ed/" and doc["reason"] == "authz"
    for name in ("ETag", "Last-Modified", "Accept-Ranges"):
        assert r.header(name) is None, name
    # ErrorDocument text
    r = fx.request("/edtext/", source=TRUSTED)
    assert r.body == b"custom refusal text"
    assert explain(r)["uri"] == "/edtext/"
    assert problem(fx.request("/edtext/", source=TRUSTED,
                              headers=PROBLEM))["uri"] == "/edtext/"


def test_relayed_403s(servers):
    fx, _ = servers
    # a backend 403 relayed by mod_proxy (the backend's own scope is quiet)
    r = fx.request("/relay/", source=TRUSTED)
    assert r.status == 403
    d = explain(r)
    assert d["uri"] == "/relay/"
    assert entry_by_id(fx, d["id"])["uri"] == "/relay/"
    doc = problem(fx.request("/relay/", source=TRUSTED, headers=PROBLEM))
    assert doc["uri"] == "/relay/"
    # a handler that sets Status: 403 itself (mod_asis)
    r = fx.request("/app/no.asis", source=TRUSTED)
    assert r.status == 403
    assert r.body == b"the application says no\n"
    assert r.header("X-App") == "1"
    d = explain(r)
    assert d["uri"] == "/app/no.asis"
    assert entry_by_id(fx, d["id"])["uri"] == "/app/no.asis"
    r = fx.request("/app/no.asis", source=TRUSTED, headers=PROBLEM)
    assert problem(r)["uri"] == "/app/no.asis"
    # untrusted: nothing
    for path in ("/relay/", "/app/no.asis"):
        r = fx.request(path, source=UNTRUSTED, headers=PROBLEM)
        assert r.status == 403 and r.header("Forbidden-Explain") is None


# --------------------------------------------------------------------------
# the opaque request id


def test_request_id_for_everyone(servers):
    fx, _ = servers
    ids = []
    for src in (UNTRUSTED, TRUSTED):
        r = fx.request("/rid/", source=src, headers=PROBLEM)
        assert r.status == 403
        rid = r.header("Forbidden-Explain-Id")
        assert rid and all(0x21 <= ord(c) <= 0x7e for c in rid)
        assert entry_by_id(fx, rid)["client_ip"] == src
        ids.append(rid)
    assert ids[0] != ids[1]
    r = fx.request("/rid/", source=UNTRUSTED)
    assert r.header("Forbidden-Explain") is None
    assert r.header("Cache-Control") is None
    r = fx.request("/rid/", source=TRUSTED)
    assert explain(r)["id"] == r.header("Forbidden-Explain-Id")


# --------------------------------------------------------------------------
# redaction


def wire_text(resp):
    return resp.raw.decode("latin-1")


def test_redaction_default_regex_log_and_none(servers):
    fx, _ = servers
    # default: literals in Require expr never leave, and the log hides
    # those compared with a request value (issue 14: the key is compared
    # with a header here; tests/test_safe_defaults.py has the rest)
    r = fx.request("/secret/", source=TRUSTED)
    assert r.status == 403
    d = explain(r)
    assert d["directive"] == ("Require expr \"%{HTTP:X-Api-Key} == "
                              "'[redacted]'\"").replace("%", "%25")
    assert SECRET not in wire_text(r)
    r2 = fx.request("/secret/", source=TRUSTED, headers=PROBLEM)
    doc = problem(r2)
    assert SECRET not in wire_text(r2)
    assert "[redacted]" in json.dumps(doc["trail"])
    e = entry_by_id(fx, d["id"])
    assert SECRET not in pct(e["directive"])
    assert "'[redacted]'" in pct(e["directive"])

    # administrator regexes, wire only
    r = fx.request("/secret/regex/", source=TRUSTED, headers=PROBLEM)
    d, doc = explain(r), problem(r)
    assert d["path"] == "[redacted]/htdocs/secret/regex/"
    assert doc["path"] == "[redacted]/htdocs/secret/regex/"
    assert "/tmp/" not in wire_text(r)
    e = entry_by_id(fx, d["id"])
    assert pct(e["path"]) == fx.docroot + "/secret/regex/"

    # `log`: the log is redacted too
    r = fx.request("/secret/logtoo/", source=TRUSTED)
    d = explain(r)
    e = entry_by_id(fx, d["id"])
    assert SECRET not in json.dumps(e)
    assert pct(e["directive"]) == ("Require expr \"%{HTTP:X-Api-Key} == "
                                   "'[redacted]'\"")
    assert SECRET not in wire_text(r)

    # none: the administrator's own lab, everything shown
    r = fx.request("/secret/plain/", source=TRUSTED)
    assert pct(explain(r)["directive"]) == (
        "Require expr \"%{HTTP:X-Api-Key} == '" + SECRET + "'\"")


# --------------------------------------------------------------------------
# hostile input


HOSTILE_TARGETS = [
    b"/deny/%0d%0aSet-Cookie:%20x=1",
    b"/deny/%22quoted%22%5cback%5c",
    b"/deny/%ff%fe%c3%28invalid-utf8",
    b"/deny/%00nul",
    b"/deny/%25%2500",
    b"/deny/" + b"A%0d%0a" * 1400,            # 8 KB request target
    b"/deny/" + b"%22%5c" * 1300,
]


def test_hostile_urls_never_break_header_or_log(servers):
    fx, _ = servers
    seen = 0
    for target in HOSTILE_TARGETS:
        r = fx.request(target, source=TRUSTED, headers={
            # (httpd itself refuses control bytes in header values: 400)
            "Referer": "http://x/\"\\\xff\xc3(" + "r" * 3000,
            "Accept": "application/problem+json"})
        assert_head_clean(r)
        if r.status != 403:
            # httpd refuses %00 itself (404/400): nothing of ours
            assert r.header("Forbidden-Explain") is None
            continue
        seen += 1
        raw = r.header("Forbidden-Explain")
        assert len(raw) <= 4096
        d = explain(r)
        doc = problem(r)
        e = entry_by_id(fx, d["id"])
        true_uri = unquote_to_bytes(target)
        got = [raw_bytes(x["uri"]) for x in (d, e)]
        # problem+json is standard JSON: invalid UTF-8 as U+FFFD (docs/wire.md)
        true_text = true_uri.decode("utf-8", "replace")
        if len(target) < 1000:
            assert got == [true_uri] * 2
            assert doc["uri"] == true_text
        else:
            # each cut to its own bound, each a prefix of the real one
            assert "uri" in d["truncated"] and "uri" in doc["truncated"]
            assert all(true_uri.startswith(g) and len(g) > 200 for g in got)
            assert true_text.startswith(doc["uri"]) and len(doc["uri"]) > 200
    assert seen >= 5


def test_hostile_user_and_file_name(servers):
    fx, _ = servers
    import base64
    cred = base64.b64encode(b'b"o\\b\xff:pw').decode()
    r = fx.request("/users/", source=TRUSTED,
                   headers={"Authorization": "Basic " + cred})
    assert r.status == 403
    d = explain(r)
    assert pct(d["user"]).encode("utf-8", "surrogateescape") == b'b"o\\b\xff'
    assert_head_clean(r)
    e = entry_by_id(fx, d["id"])
    assert e["user"] == "b%22o%5Cb%FF"

    if not harness.RUN_AS_ROOT:
        pytest.skip("needs root to make a file the server user cannot read")
    quoted = "".join("%%%02X" % b for b in HOSTILE_NAME)
    r = fx.request("/files/" + quoted, source=TRUSTED, headers=PROBLEM)
    assert r.status == 403
    d = explain(r)
    assert pct(d["path"]).encode("utf-8", "surrogateescape") == \
        os.path.join(fx.docroot.encode(), b"files", HOSTILE_NAME)
    assert problem(r)["uri"] == \
        (b"/files/" + HOSTILE_NAME).decode("utf-8", "replace")
    assert_head_clean(r)


# --------------------------------------------------------------------------
# untrusted clients: byte for byte what stock httpd sends


DIFF_PATHS = ["/deny/", "/ed/", "/edtext/", "/secret/", "/relay/",
              "/app/no.asis", "/tok/", "/rid/", "/users/", "/nothing-here",
              "/index.html", b"/deny/%0d%0a%22%ff" + b"x" * 6000]


def comparable(resp):
    lines = head_lines(resp)
    return lines[0], [l for l in lines[1:] if not l.startswith(b"Date: ")], \
        resp.body


def test_untrusted_byte_for_byte_stock(servers):
    fx, stock = servers
    for path in DIFF_PATHS:
        for hdrs in (PROBLEM, {"X-Debug-Token": "wrong",
                               "X-Forwarded-For": TRUSTED}):
            a = fx.request(path, source=UNTRUSTED, headers=hdrs)
            b = stock.request(path, source=UNTRUSTED, headers=hdrs)
            sa, ha, ba = comparable(a)
            sb, hb, bb = comparable(b)
            assert sa == sb, path
            if path == "/rid/":
                # the only addition: the opaque id, right where we put it
                extra = [l for l in ha if l not in hb]
                assert len(extra) == 1 and \
                    extra[0].startswith(b"Forbidden-Explain-Id: fx-")
                ha = [l for l in ha if l not in extra]
            assert ha == hb, (path, ha, hb)
            assert ba == bb, path
    assert len([e for e in fx.entries() if e["client_ip"] == UNTRUSTED]) > 8


# --------------------------------------------------------------------------
# configuration errors


@pytest.mark.parametrize("line,needle", [
    ("ForbiddenExplainTrustedClients 10.0.0.0/33", "'10.0.0.0/33'"),
    ("ForbiddenExplainTrustedClients 127.0.0.1 not-an-address",
     "'not-an-address'"),
    ("ForbiddenExplainTrustedClients 10.1", "'10.1'"),
    ('ForbiddenExplainTrustedClients "expr=%{HTTP:X} =="', "expression"),
    ('ForbiddenExplainRedact "(unclosed"', "'(unclosed'"),
    ("ForbiddenExplainRedact secret wire", "'wire'"),
    ("ForbiddenExplainRedact expr-literals maybe", "'maybe'"),
    ("ForbiddenExplainRedact none log", "'log'"),
    ("ForbiddenExplainHeaders Perhaps", "ForbiddenExplainHeaders"),
])
def test_bad_values_refused_with_file_and_line(make_httpd, line, needle):
    h = make_httpd(name="wire-bad")
    h.body += "# filler\n" + line + "\n"     # verbatim, braces and all
    rc, out = h.configtest()
    assert rc != 0
    n = h.conf_line_of(line)
    assert "line %d of %s" % (n, h.conf_file) in out, out
    assert needle in out, out


# --------------------------------------------------------------------------
# over TLS: SSLRequire literals stay home


def test_tls_sslrequire_literal_redacted(make_httpd):
    import subprocess
    h = make_httpd(name="wire-tls", extra_modules=["socache_shmcb", "ssl"])
    pki = h.mkdir("pki")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", "server.key", "-out", "server.crt",
                    "-subj", "/CN=localhost", "-days", "30"], cwd=pki,
                   check=True, capture_output=True)
    for f in ("server.key", "server.crt"):
        os.chmod(os.path.join(pki, f), 0o644)
    h.conf("SSLSessionCache shmcb:{root}/logs/ssl_scache(512000)")
    h.conf("SSLEngine on\nSSLCertificateFile {root}/pki/server.crt\n"
           "SSLCertificateKeyFile {root}/pki/server.key")
    h.conf("ForbiddenExplainHeaders On")
    h.body += ('<Location /org/>\n    SSLRequire %{SSL_CLIENT_S_DN_O} eq '
               '"Org-Secret-42"\n</Location>\n')
    h.write("htdocs/org/index.html", "x")
    h.start()
    r = h.request("/org/", tls=True, headers=PROBLEM)
    assert r.status == 403
    d = explain(r)
    assert d["directive"] == 'SSLRequire %25{SSL_CLIENT_S_DN_O} eq ' \
                             '\"[redacted]\"'
    assert d["at"] == "%s:%d" % (h.conf_file, h.conf_line_of("SSLRequire"))
    assert "Org-Secret-42" not in r.raw.decode("latin-1")
    assert problem(r)["directive"] == pct(d["directive"])
    e = entry_by_id(h, d["id"])
    assert pct(e["directive"]) == \
        'SSLRequire %{SSL_CLIENT_S_DN_O} eq "Org-Secret-42"'
