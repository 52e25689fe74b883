"""test_robustness.py — the module must change nothing it should not and
survive what production throws at it (issue 8).  Real httpd, real files,
real HTTP:

* hostile sweep: URLs, query strings, Referer, User-Agent, Basic-auth user
  names and file names with quotes, backslashes, CR/LF, %00, invalid UTF-8
  and values up to httpd's limits, against every kind of 403: exactly one
  strict one-line JSON entry per 403, every value exact or listed in
  "truncated", every response header valid (also the diagnostic header of
  trusted clients, parsed as an RFC 8941 Dictionary);
* restarts under load: wrk against the server while it takes ten
  `-k graceful` and one `-k restart`, under prefork, worker and event: no
  child dies of a signal and every 403 after each restart is explained
  exactly as before;
* differential: the same requests against stock httpd and httpd with the
  module (untrusted client) give identical status, headers (Date aside) and
  bodies;
* bad configuration: every module directive refuses bad values at start-up
  naming file and line, and httpd's own directives the module shadows fail
  exactly as they do without the module.
"""
import base64
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from urllib.parse import quote_from_bytes, unquote_to_bytes

import pytest

import harness

# --------------------------------------------------------------------------
# the site: one directory per kind of 403

SITE_CONF = harness.KINDS_CONF + r"""
# .htaccess files httpd must refuse (500) exactly as without the module
<Directory "{docroot}/htbad1">
    AllowOverride AuthConfig
</Directory>
<Directory "{docroot}/htbad2">
    AllowOverride FileInfo
</Directory>
<Directory "{docroot}/htbad3">
    AllowOverride FileInfo Limit
</Directory>
<Directory "{docroot}/authd">
    AuthType Basic
    AuthName "fx"
    AuthUserFile "{root}/users"
    AuthzSendForbiddenOnFailure On
    # authenticated, then refused: the entry names the (hostile) user
    Require user only-this-one
</Directory>
"""

# Bytes that must survive every layer: quotes, backslash, CR/LF, control
# bytes, DEL, a literal percent, invalid UTF-8 (lone continuation, overlong,
# surrogate, beyond U+10FFFF), valid UTF-8, space and tab.
NAMES = [
    b'q"uote',
    b"back\\slash",
    b"cr\rlf\nInjected: yes",
    b"ctl\x01\x07\x1b\x7f",
    b"pct%41%",
    b"bad\xff\xfe\xc3\x28\x80\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80",
    b"utf8-\xc3\xa9\xe2\x82\xac",
    b"sp ace\ttab",
    b"json}{\"a\":1,",
]
PASSWORD = "pw"
# Basic-auth user names (no ':' possible; httpd's config reader ends a
# line at LF and strips trailing white space).
USERS = [b'u"q\\b%25', b"u\xff\xfe\xc3\x28", b"u\x01\x1b\x7f", b"u\r" + b"x" * 10,
         b"u}{\"", b"L" * 5900]


def pct(b):
    return quote_from_bytes(b, safe="")


def build_site(h, headers=False):
    h.conf(SITE_CONF)
    h.write("htdocs/ok.txt", "ok\n")
    h.mkdir("htdocs/deny")
    h.mkdir("htdocs/compat")
    h.mkdir("htdocs/noindex")
    h.mkdir("htdocs/nosym")
    h.mkdir("htdocs/perm")
    h.mkdir("htdocs/authd")
    h.write("htdocs/authd/x", "x\n")
    h.mkdir("htdocs/private", mode=0o700, owner=("root", "root"))
    h.write("htdocs/target.txt", "t\n")
    h.write("htdocs/ht/.htaccess", "RewriteEngine On\nRewriteRule ^blocked - [F]\n")
    h.write("htdocs/htbad1/.htaccess", "Options +Indexes\n")
    h.write("htdocs/htbad1/x", "x\n")
    h.write("htdocs/htbad2/.htaccess", "RewriteEngine On\nRewriteRule ^x - [Bogus]\n")
    h.write("htdocs/htbad2/x", "x\n")
    h.write("htdocs/htbad3/.htaccess", "Order allow,deny\nAllow from 300.1.1.1/40\n")
    h.write("htdocs/htbad3/x", "x\n")
    d = h.docroot.encode()
    for n in NAMES:
        path = os.path.join(d, b"perm", n)
        with open(path, "wb") as f:
            f.write(b"secret\n")
        os.chmod(path, 0o000)
        os.symlink(os.path.join(d, b"target.txt"), os.path.join(d, b"nosym", n))
        os.mkdir(os.path.join(d, b"noindex", n))
        os.chmod(os.path.join(d, b"noindex", n), 0o755)
        with open(os.path.join(d, b"deny", n), "wb") as f:  # a real file
            f.write(b"denied\n")
    sha = "{SHA}" + base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
    with open(os.path.join(h.root, "users"), "wb") as f:
        for u in USERS:
            f.write(u + b":" + sha.encode() + b"\n")
    if headers:
        h.conf("ForbiddenExplainHeaders On\nForbiddenExplainTrustedClients 127.0.0.1")


def module_supports(make_httpd, text):
    """Does the module under test accept these directives?  (Features land
    in parallel; the trusted-header checks run once fx_wire is in.)"""
    h = make_httpd(name="probe")
    h.conf(text)
    rc, out = h.configtest()
    return rc == 0


# --------------------------------------------------------------------------
# checks shared by the sweeps

TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def assert_headers_valid(r):
    head = r.raw.partition(b"\r\n\r\n")[0]
    lines = head.split(b"\r\n")
    assert re.match(rb"^HTTP/1\.1 \d{3} [\x20-\x7e]*$", lines[0]), lines[0]
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        assert sep and TOKEN.match(name), line
        # field-value: VCHAR / obs-text / SP / HTAB only; no CR, LF, NUL
        assert not re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", value), line


class LogCursor:
    """New forbidden_explain lines of the error log since the last call."""

    def __init__(self, h):
        self.h = h
        self.off = os.path.getsize(h.error_log) if os.path.exists(h.error_log) else 0

    def take(self, want=1, timeout=10.0):
        deadline = time.time() + timeout
        while True:
            with open(self.h.error_log, "rb") as f:
                f.seek(self.off)
                data = f.read()
            complete = data[:data.rfind(b"\n") + 1]
            lines = [l for l in complete.split(b"\n") if b"[forbidden_explain:" in l]
            if len(lines) >= want or time.time() > deadline:
                self.off += len(complete)
                return lines
            time.sleep(0.02)


def send(h, *a, **kw):
    """h.request, failing with the error log's tail when the server closes
    the connection without an answer (a crashed child looks like that)."""
    try:
        return h.request(*a, **kw)
    except (IndexError, ValueError, OSError) as exc:
        time.sleep(0.3)
        tail = [l for l in h.read_error_log().splitlines()
                if "[forbidden_explain:" not in l][-15:]
        raise AssertionError("no answer (%r); error log:\n%s" % (exc, "\n".join(tail)))


def parse_entry_line(line):
    """The raw error-log line (bytes) → entry; strict JSON, log-safe, one
    line under httpd's MAX_STRING_LEN."""
    assert len(line) < 8192, len(line)
    text = line.decode("latin-1")
    obj_at = text.index("{")
    tail = text[obj_at:]
    obj, rest = harness.strict_json(tail)
    assert rest == "" or rest.startswith(", referer: "), rest[:200]
    body = tail[:len(tail) - len(rest)]
    assert all(0x20 <= ord(c) < 0x7f and c != "\\" for c in body), body
    return obj


def assert_exact_or_truncated(e, key, want):
    """want (bytes) is in e[key] exactly, or e lists key as truncated and
    holds a strict prefix of it."""
    assert key in e, (key, e)
    got = unquote_to_bytes(e[key])
    if got == want:
        return
    assert key in e.get("truncated", ()), (key, got[:200], want[:200])
    assert want.startswith(got) and len(got) < len(want), (key, got[:200], want[:200])


# --------------------------------------------------------------------------
# sf Dictionary parser (RFC 8941 §4.2), strict, for the diagnostic header

SF_KEY = re.compile(rb"[a-z*][a-z0-9_\-.*]*")
SF_TOKEN = re.compile(rb"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
SF_NUM = re.compile(rb"-?[0-9]{1,15}(\.[0-9]{1,3})?")


def _sf_bare(s, i):
    c = s[i:i + 1]
    if c == b'"':
        out = bytearray()
        i += 1
        while i < len(s):
            ch = s[i:i + 1]
            if ch == b"\\":
                nxt = s[i + 1:i + 2]
                assert nxt in (b'"', b"\\"), s
                out += nxt
                i += 2
            elif ch == b'"':
                return bytes(out), i + 1
            else:
                assert 0x20 <= s[i] <= 0x7e, s
                out += ch
                i += 1
        raise AssertionError("unterminated sf-string: %r" % s)
    if c == b"?":
        assert s[i + 1:i + 2] in (b"0", b"1"), s
        return s[i + 1:i + 2] == b"1", i + 2
    m = SF_NUM.match(s, i)
    if m:
        return m.group(0), m.end()
    m = SF_TOKEN.match(s, i)
    assert m, (s, i)
    return ("token", m.group(0)), m.end()


def _sf_params(s, i):
    while s[i:i + 1] == b";":
        i += 1
        while s[i:i + 1] == b" ":
            i += 1
        m = SF_KEY.match(s, i)
        assert m, s
        i = m.end()
        if s[i:i + 1] == b"=":
            _, i = _sf_bare(s, i + 1)
    return i


def parse_sf_dict(s):
    out = {}
    i = 0
    while i < len(s):
        m = SF_KEY.match(s, i)
        assert m, (s, i)
        key = m.group(0).decode()
        i = m.end()
        if s[i:i + 1] == b"=":
            i += 1
            if s[i:i + 1] == b"(":
                i += 1
                items = []
                while True:
                    while s[i:i + 1] == b" ":
                        i += 1
                    if s[i:i + 1] == b")":
                        i += 1
                        break
                    v, i = _sf_bare(s, i)
                    i = _sf_params(s, i)
                    items.append(v)
                    assert s[i:i + 1] in (b" ", b")"), s
                val = items
            else:
                val, i = _sf_bare(s, i)
        else:
            val = True
        i = _sf_params(s, i)
        out[key] = val
        while s[i:i + 1] in (b" ", b"\t"):
            i += 1
        if i == len(s):
            break
        assert s[i:i + 1] == b",", (s, i)
        i += 1
        while s[i:i + 1] in (b" ", b"\t"):
            i += 1
        assert i < len(s), "trailing comma"
    return out


def test_sf_parser_can_fail():
    """The oracle itself refuses what is not a Dictionary."""
    assert parse_sf_dict(b'a=1, b="x\\"y", c=(t "u");p=?1, d') == {
        "a": b"1", "b": b'x"y', "c": [("token", b"t"), b"u"], "d": True}
    for bad in (b'a="x\r"', b'A=1', b'a=1,', b'a="\\n"', b'a=(1', b'a=1 b=2'):
        with pytest.raises(AssertionError):
            parse_sf_dict(bad)


# --------------------------------------------------------------------------
# 1. hostile sweep

def kinds():
    """(kind, target bytes, expected decoded uri, extra headers, user)."""
    out = []
    for n in NAMES:
        p = pct(n).encode()
        out += [
            ("authz", b"/deny/" + p, b"/deny/" + n, {}, None),
            ("compat", b"/compat/" + p, b"/compat/" + n, {}, None),
            ("rewrite-server", b"/srvforbid/" + p, b"/srvforbid/" + n, {}, None),
            ("rewrite-htaccess", b"/ht/blocked-" + p, b"/ht/blocked-" + n, {}, None),
            ("fs-dir", b"/private/" + p, b"/private/" + n, {}, None),
            ("fs-file", b"/perm/" + p, b"/perm/" + n, {}, None),
            ("symlink", b"/nosym/" + p, b"/nosym/" + n, {}, None),
            ("no-index", b"/noindex/" + p + b"/", b"/noindex/" + n + b"/", {}, None),
            ("query", b"/deny/q?" + p + b"=" + p, b"/deny/q", {}, None),
            ("referer", b"/deny/r", b"/deny/r", {"Referer": b"http://x/" + n.replace(b"\r", b"").replace(b"\n", b"")
                                                  .replace(b"\x01", b"").replace(b"\x07", b"").replace(b"\x1b", b"").replace(b"\x7f", b"")}, None),
            ("user-agent", b"/compat/ua", b"/compat/ua", {"User-Agent": b"UA " + n.replace(b"\r", b"").replace(b"\n", b"")
                                                          .replace(b"\x01", b"").replace(b"\x07", b"").replace(b"\x1b", b"").replace(b"\x7f", b"")}, None),
        ]
    for u in USERS:
        out.append(("basic-user", b"/authd/x", b"/authd/x", {}, u))
    # httpd's limits: request line 8190, header field 8190
    long_path = b"/".join([b"L" * 200] * 39)
    out += [
        ("long-uri-authz", b"/deny/" + long_path, b"/deny/" + long_path, {}, None),
        ("long-uri-rewrite", b"/srvforbid/" + pct(b'"\\\xff' * 900).encode(),
         b"/srvforbid/" + b'"\\\xff' * 900, {}, None),
        ("long-query", b"/deny/q?" + b"%22" * 2700, b"/deny/q", {}, None),
        ("long-referer", b"/deny/lr", b"/deny/lr", {"Referer": b'"\\\xff' * 2700}, None),
        ("long-ua", b"/compat/lu", b"/compat/lu", {"User-Agent": b"\\" * 8100}, None),
    ]
    return out


KINDS = kinds()


def basic(user):
    return b"Basic " + base64.b64encode(user + b":" + PASSWORD.encode())


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    probe = harness.Httpd(name="probe")
    probe.conf("ForbiddenExplainHeaders On\nForbiddenExplainTrustedClients 127.0.0.1")
    rc, _ = probe.configtest()
    probe.cleanup()
    h = harness.Httpd(name="hostile")
    build_site(h, headers=(rc == 0))
    h.wire = rc == 0
    h.conf("ForbiddenExplainLog logs/fx.json")
    h.start()
    yield h
    h.cleanup()


@pytest.mark.parametrize("case", range(len(KINDS)),
                         ids=["%s-%d" % (k[0], i) for i, k in enumerate(KINDS)])
@pytest.mark.parametrize("source", ["127.0.0.1", "127.0.0.2"],
                         ids=["trusted", "untrusted"])
def test_hostile_request_gets_one_exact_entry(hostile_site, case, source):
    h = hostile_site
    kind, target, want_uri, hdrs, user = KINDS[case]
    headers = dict(hdrs)
    if user is not None:
        headers["Authorization"] = basic(user)
    cur = LogCursor(h)
    r = send(h, None, raw_target=target, headers=headers, source=source)
    assert r.status == 403, (kind, r.status, r.raw[:300], h.read_error_log()[-2000:])
    assert_headers_valid(r)
    lines = cur.take(1)
    assert len(lines) == 1, (kind, lines)
    e = parse_entry_line(lines[0])
    assert e["status"] == 403
    assert e["reason"] and e["module"] and e["phase"]
    assert_exact_or_truncated(e, "uri", want_uri)
    if user is not None:
        assert_exact_or_truncated(e, "user", user)
    if kind in ("fs-file", "symlink") and "path" in e:
        assert_exact_or_truncated(e, "path", os.path.join(h.docroot.encode(), want_uri[1:]))
    # No second line for the same request turns up late.
    assert cur.take(1, timeout=0.05) == []

    fx = [v for k, v in r.headers if k.lower() == "forbidden-explain"]
    if source == "127.0.0.2" or not h.wire:
        assert fx == [], "untrusted client got the diagnostic header"
        return
    assert len(fx) == 1, r.headers
    d = parse_sf_dict(fx[0].encode("latin-1"))
    assert d, fx
    if "uri" in d and isinstance(d["uri"], bytes):
        got = unquote_to_bytes(d["uri"].decode("latin-1"))
        cut = d.get("truncated")
        if got != want_uri:
            assert cut, (got[:100], want_uri[:100])
            assert want_uri.startswith(got)


def test_nul_in_path_is_refused_by_httpd_and_logs_nothing(hostile_site):
    """%00 never reaches a 403 (httpd answers 404 before any access check):
    no entry, no crash."""
    h = hostile_site
    cur = LogCursor(h)
    for t in (b"/deny/nul%00byte", b"/private/%00", b"/srvforbid%00x"):
        r = h.request(None, raw_target=t)
        assert r.status in (400, 404), (t, r.status)
        assert_headers_valid(r)
    assert cur.take(1, timeout=0.3) == []


def test_no_child_died_during_the_sweep(hostile_site):
    log = hostile_site.read_error_log()
    assert "exit signal" not in log, [l for l in log.splitlines() if "exit signal" in l]


def test_own_log_has_the_same_entries_strictly(hostile_site):
    """ForbiddenExplainLog gets one strict JSON line (RFC 8259, UTF-8) per
    403 (written in one write of at most PIPE_BUF-sized lines), the same
    entries as the error log."""
    h = hostile_site
    time.sleep(0.2)
    with open(os.path.join(h.logs, "fx.json"), "rb") as f:
        raw = f.read()
    assert raw.endswith(b"\n")
    lines = raw[:-1].split(b"\n")
    own = []
    for line in lines:
        assert len(line) <= 4000, len(line)
        # standard JSON (docs/wire.md): strict UTF-8, no raw control byte
        assert all(c >= 0x20 and c != 0x7f for c in line), line[:200]
        obj, rest = harness.strict_json(line.decode("utf-8"))
        assert rest == ""
        own.append(obj)
    logged = h.entries(settle=False)
    assert len(own) == len(logged) > 100
    assert [e["request_id"] for e in own] == [e["request_id"] for e in logged]


def test_every_hostile_line_is_in_the_access_log(hostile_site):
    """mod_log_config sees the reason of every 403 of the sweep above (runs
    after it in file order; on its own it checks a fresh request)."""
    h = hostile_site
    h.request(None, raw_target=b"/deny/" + pct(NAMES[0]).encode())
    lines = h.access_lines()
    denied = [l for l in lines if " 403 " in l]
    assert denied
    assert all(re.search(r"reason=[a-z-]+ ", l) and "reason=- " not in l for l in denied), \
        [l for l in denied if "reason=- " in l][:3]


# --------------------------------------------------------------------------
# 2. graceful restarts under load, every MPM

WRK_LUA = """
local paths = {"/ok.txt", "/deny/a", "/compat/b", "/srvforbid", "/ht/blocked", "/private/x", "/nope"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""
STRESS_URIS = ["/deny/a", "/compat/b", "/srvforbid", "/ht/blocked", "/private/x",
               "/perm/" + pct(NAMES[0]), "/nosym/" + pct(NAMES[1])]


PER_REQUEST_KEYS = ("request_id", "time", "timestamp", "pid", "tid", "duration")


def _stable(e):
    return {k: v for k, v in e.items() if k not in PER_REQUEST_KEYS}


def _restart(h, how):
    before = h.read_error_log().count("resuming normal operations")
    subprocess.run([harness.APACHE, "-f", h.conf_file, "-k", how], check=True,
                   capture_output=True, env=harness.httpd_env(h.env))
    deadline = time.time() + 20
    while time.time() < deadline:
        if h.read_error_log().count("resuming normal operations") > before:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("no new generation after -k %s" % how)
    h._wait_up()


def _crash_frames(core):
    """The crashing thread's frames of a core of apache2, as gdb prints
    them ("" when gdb is missing, which the caller treats as unknown)."""
    if not shutil.which("gdb"):
        return ""
    p = subprocess.run(["gdb", "-batch", "-ex", "bt 30", harness.APACHE, core],
                       capture_output=True, text=True, timeout=120)
    frames = []
    for l in p.stdout.splitlines():
        # gdb prints frame #0 once when loading the core and again in bt
        if l.startswith("#") and l not in frames:
            frames.append(l)
    return "\n".join(frames)


def _is_event_restart_race(frames):
    """httpd's own race, not this module's: on an ungraceful restart the
    event MPM's main thread closes the worker threads' sockets
    (close_worker_sockets) while a worker may be releasing its connection,
    and crashes in apr_os_sock_get.  Stock httpd without this module shows
    the same crash under the same load once its requests take a little
    longer (LogLevel debug): 6 of 40 restarts on this machine."""
    lines = frames.splitlines()
    return (len(lines) >= 2 and "apr_os_sock_get" in lines[0]
            and "mod_mpm_event.so" in lines[1]
            and "mod_forbidden_explain" not in frames)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed (scripts/deps.sh)")
@pytest.mark.parametrize("mpm", ["prefork", "worker", "event"])
def test_graceful_and_restart_under_wrk(make_httpd, mpm, tmp_path):
    import resource
    h = make_httpd(name="stress-" + mpm, mpm=mpm)
    build_site(h)
    cores = h.mkdir("cores", mode=0o777)
    h.conf("CoreDumpDirectory %s" % cores)
    # A crashing child leaves a core to tell whose crash it was.
    core_limit = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (core_limit[1], core_limit[1]))
    try:
        h.start()
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, core_limit)

    def explain_all():
        got = {}
        for uri in STRESS_URIS:
            cur = LogCursor(h)
            r = h.get(uri, source="127.0.0.3")
            assert r.status == 403, (uri, r.status)
            mine = []
            for line in cur.take(1):
                e = parse_entry_line(line)
                if e.get("client_ip") == "127.0.0.3":
                    mine.append(e)
            # wrk's own 403s interleave; ours is recognised by client_ip
            deadline = time.time() + 10
            while not mine and time.time() < deadline:
                for line in cur.take(1, timeout=0.2):
                    e = parse_entry_line(line)
                    if e.get("client_ip") == "127.0.0.3":
                        mine.append(e)
            assert len(mine) == 1, (uri, mine)
            got[uri] = _stable(mine[0])
        return got

    baseline = explain_all()
    for uri, e in baseline.items():
        assert e["reason"] not in ("unknown", None), (uri, e)

    lua = tmp_path / "paths.lua"
    lua.write_text(WRK_LUA)
    wrk = subprocess.Popen(["wrk", "-t2", "-c8", "-d120s", "-s", str(lua),
                            "http://127.0.0.1:%d/" % h.port],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.0)
        for n in range(10):
            _restart(h, "graceful")
            assert explain_all() == baseline, "after graceful %d" % (n + 1)
        # graceful restarts never crash a child
        log = h.read_error_log()
        assert "exit signal" not in log, [l for l in log.splitlines() if "exit signal" in l][:5]
        _restart(h, "restart")
        assert explain_all() == baseline, "after restart"
        time.sleep(0.5)
    finally:
        wrk.send_signal(signal.SIGINT)
        try:
            out = wrk.communicate(timeout=10)[0].decode("latin-1", "replace")
        except subprocess.TimeoutExpired:
            wrk.kill()
            out = wrk.communicate()[0].decode("latin-1", "replace")
    log = h.read_error_log()
    crashed = [l for l in log.splitlines() if "exit signal" in l]
    if crashed:
        # Only the ungraceful restart may have met httpd's own race, and
        # every core must show exactly that crash.
        found = [os.path.join(cores, f) for f in os.listdir(cores)]
        assert found, ("a child crashed and left no core to examine", crashed[:3])
        for core in found:
            frames = _crash_frames(core)
            assert _is_event_restart_race(frames), (core, frames, crashed[:3])
    assert "AH00060" not in log  # "seg fault or similar nasty error detected"
    m = re.search(r"(\d+) requests in", out)
    assert m and int(m.group(1)) > 100, out
    # Every line the module wrote during the storm is still strict JSON.
    for line in log.encode("latin-1").split(b"\n"):
        if b"[forbidden_explain:" in line:
            parse_entry_line(line)


# --------------------------------------------------------------------------
# 3. differential: stock httpd vs httpd with the module, untrusted client

DIFF_TARGETS = [
    b"/ok.txt", b"/", b"/noindex", b"/noindex/", b"/nope", b"/deny/", b"/deny/x",
    b"/compat/x", b"/srvforbid", b"/ht/blocked", b"/ht/ok", b"/private/x",
    b"/authd/x", b"/deny/%00", b"/deny/..%2f..%2fetc", b"/%2e%2e/x", b"*",
    b"/htbad1/x", b"/htbad2/x", b"/htbad3/x",
] + [b"/perm/" + pct(n).encode() for n in NAMES] \
  + [b"/nosym/" + pct(n).encode() for n in NAMES] \
  + [b"/noindex/" + pct(n).encode() + b"/" for n in NAMES] \
  + [b"/deny/" + b"L" * 300, b"/srvforbid?" + b"%22" * 2000]


def _requests():
    reqs = []
    for t in DIFF_TARGETS:
        reqs.append(("GET", t, {}))
    reqs += [
        ("HEAD", b"/deny/x", {}),
        ("POST", b"/deny/x", {"Content-Type": "text/plain"}),
        ("OPTIONS", b"/deny/x", {}),
        ("OPTIONS", b"*", {}),
        ("PUT", b"/compat/x", {}),
        ("GET", b"/ok.txt", {"Range": "bytes=0-1"}),
        ("GET", b"/ok.txt", {"If-None-Match": "*"}),
        ("GET", b"/deny/x", {"Accept": "application/problem+json"}),
        ("GET", b"/deny/x", {"Referer": '"\\\xff', "User-Agent": "x" * 4000}),
        ("GET", b"/authd/x", {"Authorization": basic(USERS[0])}),
        ("GET", b"/authd/x", {"Authorization": basic(b"nobody")}),
        ("GET", b"/authd/x", {"Authorization": b"Basic !!!"}),
        ("GET", b"/ok.txt", {"X-Forwarded-For": "10.0.0.1"}),
    ]
    return reqs


def _norm(h, r):
    raw = r.raw.replace(b":%d" % h.port, b":PORT")
    resp = harness.parse_response(raw)
    headers = [(k, v) for k, v in resp.headers if k.lower() != "date"]
    return resp.status, headers, resp.body


def _twin_sites(make_httpd, extra_conf="", site_conf=SITE_CONF, builder=build_site):
    # stock first: the fixture stops servers in creation order, and stock
    # cannot even parse its configuration once mod's docroot is removed.
    stock = make_httpd(name="diff-stock", with_module=False)
    mod = make_httpd(name="diff-mod")
    builder(mod)
    if extra_conf:
        mod.conf(extra_conf)
    # Same files (same ETag and Last-Modified), same configuration text.
    shutil.rmtree(stock.docroot)
    stock.docroot = mod.docroot
    if os.path.exists(os.path.join(mod.root, "users")):
        shutil.copy(os.path.join(mod.root, "users"), os.path.join(stock.root, "users"))
    # the module's own directives are unknown to stock httpd
    stock.conf("\n".join(l for l in site_conf.splitlines()
                          if "ForbiddenExplain" not in l))
    mod.start()
    stock.start()
    return mod, stock


def _assert_same(mod, stock, source="127.0.0.1", requests=None, count_entries=True):
    diffs = []
    for method, target, hdrs in requests or _requests():
        a = mod.request(None, method=method, raw_target=target, headers=hdrs, source=source)
        b = stock.request(None, method=method, raw_target=target, headers=hdrs, source=source)
        if _norm(mod, a) != _norm(stock, b):
            diffs.append((method, target[:80], _norm(mod, a), _norm(stock, b)))
    assert not diffs, diffs[:3]
    # ...and the module did explain the 403s it saw.
    n403 = sum(1 for l in mod.access_lines() if " 403 " in l)
    assert n403 >= 5
    if count_entries:
        assert len(mod.entries()) == n403


def test_differential_module_changes_no_response(make_httpd):
    mod, stock = _twin_sites(make_httpd)
    _assert_same(mod, stock)


def test_differential_foundation_site(make_httpd):
    """The foundation suite's site and requests (every 403 kind it tests,
    its hostile URIs, ErrorDocument, Satisfy Any, ForbiddenExplain Off)."""
    import test_foundation as tf
    mod, stock = _twin_sites(make_httpd, site_conf=tf.SITE_CONF,
                             builder=tf.build_site)
    reqs = [("GET", u.encode(), {}) for u in sorted(tf.EXPECTED)]
    reqs += [("GET", t, {}) for t in tf.HOSTILE]
    reqs += [("GET", u, {}) for u in (b"/ok.txt", b"/errdoc", b"/quiet/x.txt",
                                      b"/satany/x.txt", b"/idx/", b"/noindex/a.txt")]
    reqs += [("HEAD", u.encode(), {}) for u in sorted(tf.EXPECTED)]
    _assert_same(mod, stock, requests=reqs, count_entries=False)


def test_differential_untrusted_client_with_headers_on(make_httpd):
    """Diagnostic headers configured, but the client is not trusted: the
    responses are still byte-for-byte stock (Date aside)."""
    if not module_supports(make_httpd, "ForbiddenExplainHeaders On\n"
                           "ForbiddenExplainTrustedClients 192.0.2.1"):
        pytest.skip("ForbiddenExplainHeaders not in this build yet")
    mod, stock = _twin_sites(make_httpd, "ForbiddenExplainHeaders On\n"
                             "ForbiddenExplainTrustedClients 192.0.2.1")
    _assert_same(mod, stock)


def test_differential_can_fail(make_httpd):
    """The comparison sees a difference when there is one."""
    mod, stock = _twin_sites(make_httpd, "Header always set X-Diff 1")
    with pytest.raises(AssertionError):
        _assert_same(mod, stock)


def test_stock_log_lines_unchanged(make_httpd):
    """Apache's own error-log lines are the same with and without the
    module (timestamps, pids and ports aside)."""
    mod, stock = _twin_sites(make_httpd)
    for method, target, hdrs in _requests():
        mod.request(None, method=method, raw_target=target, headers=hdrs)
        stock.request(None, method=method, raw_target=target, headers=hdrs)
    time.sleep(0.3)

    def own_lines(h, roots):
        out = []
        for l in h.read_error_log().splitlines():
            if "[forbidden_explain:" in l or "AH00" in l and ("resuming" in l or "Command line" in l):
                continue
            l = re.sub(r"^\[[^\]]*\] ", "", l)
            l = re.sub(r"\[pid \d+(:tid \d+)?\] ", "", l)
            l = re.sub(r"\[client 127\.0\.0\.1:\d+\] ", "", l)
            for root in roots:
                l = l.replace(root, "ROOT")
            l = l.replace(":%d" % h.port, ":PORT")
            out.append(l)
        return out
    # the docroot is shared: it lives under mod.root for both
    stock_lines = own_lines(stock, (mod.root, stock.root))
    mod_lines = own_lines(mod, (mod.root,))
    assert len(stock_lines) > 10
    assert mod_lines == stock_lines


# --------------------------------------------------------------------------
# 4. bad configuration

# (directive line, context) — each must be refused with file and line.
BAD = [
    ("ForbiddenExplain Maybe", "server"),
    ("ForbiddenExplain", "server"),
    ("ForbiddenExplainLog \"\"", "server"),
    ("ForbiddenExplainLog |", "server"),
    ("ForbiddenExplainLog a b", "server"),
    ("ForbiddenExplainLog /tmp/x", "directory"),
    ("ForbiddenExplainLogLevel loud", "server"),
    ("ForbiddenExplainLogLevel", "server"),
    ("ForbiddenExplainHeaders Perhaps", "server"),
    ("ForbiddenExplainTrustedClients 300.1.1.1", "server"),
    ("ForbiddenExplainTrustedClients 10.0.0.0/33", "server"),
    ("ForbiddenExplainTrustedClients 2001:db8::/129", "server"),
    ("ForbiddenExplainTrustedClients 10.0.0.0/", "server"),
    ("ForbiddenExplainTrustedClients not-an-address", "server"),
    ("ForbiddenExplainTrustedClients \"expr=%{REMOTE_ADDR} -bogus 1\"", "server"),
    ("ForbiddenExplainRequestId Sometimes", "server"),
    ("ForbiddenExplainRedact \"(unclosed\"", "server"),
    ("ForbiddenExplainRedact \"\"", "server"),
    ("ForbiddenExplainRedact x nosuchflag", "server"),
    ("ForbiddenExplainReasonHeader \"Bad Header\"", "server"),
]
# httpd's own directives the module records: their errors must stay
# httpd's, exactly as without the module.
SHADOWED_BAD = [
    "Options +Bogus", "Options Bogus", "Options +Indexes Includes", "AllowOverride Bogus",
    "Order sideways", "Allow from", "Allow sideways all", "Deny from 300.1.1.1/40",
    "Satisfy Sometimes", "AuthMerging Maybe", "AuthzSendForbiddenOnFailure Maybe",
    "RewriteEngine Maybe", "RewriteOptions Bogus", "RewriteCond %{HTTP_HOST}",
    "RewriteRule \"(unclosed\" -", "RewriteRule ^x - [Bogus]",
    "Require", "Require bogusprovider x", "Require ip 300.1.1.1",
    "Require expr \"%{REMOTE_ADDR} -bogus 1\"", "Require all sideways",
    "<RequireAll>\n</RequireAll>", "<RequireAny>\nRequire not ip 10.0.0.1\n</RequireAny>",
]
# Odd but valid: accepted by both, identically.
SHADOWED_ODD = ["Options", "DirectoryIndex", "Require user", "Order allow,deny",
                "Options -Indexes +FollowSymLinks", "RewriteRule ^x - [F,L]"]


def _write_include(h, line, context):
    """The directive goes into an Include'd file at a known line, so the
    message must name that file and that line (not httpd.conf)."""
    pad = "# padding\n" * 6
    if context == "directory":
        text = pad + '<Directory "%s">\n%s\n</Directory>\n' % (h.docroot, line)
        lineno = 8
    else:
        text = pad + line + "\n"
        lineno = 7
    path = h.write("conf/extra/bad.conf", text)
    h.conf("Include %s" % path)
    return path, lineno


@pytest.mark.parametrize("line,context", BAD, ids=[b[0][:40] for b in BAD])
def test_bad_module_directive_refused_with_file_and_line(make_httpd, line, context):
    h = make_httpd(name="badconf")
    path, lineno = _write_include(h, line, context)
    rc, out = h.configtest()
    name = line.split()[0]
    if "Invalid command '%s'" % name in out:
        pytest.skip("%s not in this build yet" % name)
    assert rc != 0, (line, out)
    assert "line %d of %s" % (lineno, path) in out, out
    assert name.lower() in out.lower() or "ForbiddenExplain" in out, out
    # httpd refuses to start with it, too (not only -t).
    with pytest.raises(RuntimeError):
        h.start()


GOOD = [
    "ForbiddenExplain Off", "ForbiddenExplainLog logs/fx.json", "ForbiddenExplainLog off",
    "ForbiddenExplainLogLevel notice",
    "ForbiddenExplainHeaders On", "ForbiddenExplainTrustedClients 10.0.0.0/8 ::1 192.0.2.7",
    "ForbiddenExplainRequestId On",
]


@pytest.mark.parametrize("line", GOOD)
def test_good_module_directive_accepted(make_httpd, line):
    """The refusals above are about the values, not the directives."""
    h = make_httpd(name="goodconf")
    _write_include(h, line, "server")
    rc, out = h.configtest()
    if "Invalid command '%s'" % line.split()[0] in out:
        pytest.skip("not in this build yet")
    assert rc == 0, out


@pytest.mark.parametrize("line", SHADOWED_BAD)
def test_shadowed_directive_errors_are_httpds_own(make_httpd, line):
    outs = []
    for with_module in (False, True):
        h = make_httpd(name="shadowbad", with_module=with_module)
        path, lineno = _write_include(h, line, "directory")
        rc, out = h.configtest()
        outs.append((rc, out.replace(h.root, "ROOT")))
    (rc0, out0), (rc1, out1) = outs
    assert rc0 != 0, "stock httpd accepts %r; pick a bad value" % line
    assert rc1 == rc0 and out1 == out0, (line, out0, out1)


@pytest.mark.parametrize("line", SHADOWED_ODD)
def test_shadowed_odd_but_valid_lines_stay_valid(make_httpd, line):
    for with_module in (False, True):
        h = make_httpd(name="shadowodd", with_module=with_module)
        _write_include(h, line, "directory")
        rc, out = h.configtest()
        assert rc == 0, (with_module, line, out)
