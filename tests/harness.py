"""harness.py — starts real httpd processes (Debian's apache2, modules from
`apxs -q LIBEXECDIR`) with a generated ServerRoot, sends real requests and
reads the real error log.  No mock of httpd anywhere.

A test builds an `Httpd`, writes files into `h.docroot`, gives config text,
starts it and asserts on `h.entries()` (our JSON entries, parsed strictly
from the raw error-log lines) and on the responses.
"""
import json
import os
import pwd
import grp
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

APACHE = os.environ.get("FX_APACHE", "/usr/sbin/apache2")
MODULE = os.environ.get("FX_MODULE") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "mod_forbidden_explain.so"))


def _libexecdir():
    try:
        return subprocess.check_output(["apxs", "-q", "LIBEXECDIR"],
                                       text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "/usr/lib/apache2/modules"


LIBEXEC = _libexecdir()

# The whole suite runs under another MPM with FX_MPM=prefork|worker|event.
DEFAULT_MPM = os.environ.get("FX_MPM", "event")


def httpd_env(extra=None):
    """Environment for apache2 invocations only (pytest itself must not get
    e.g. the preloaded ASan runtime): FX_HTTPD_ENV holds space-separated
    NAME=VALUE pairs (scripts/asan-test.sh sets LD_PRELOAD and ASAN_OPTIONS),
    extra a dict a test adds."""
    env = dict(os.environ)
    for pair in os.environ.get("FX_HTTPD_ENV", "").split():
        k, _, v = pair.partition("=")
        env[k] = v
    env.update(extra or {})
    return env
RUN_AS_ROOT = os.geteuid() == 0
SERVER_USER = "www-data"

# Modules most tests want; a test may ask for more with extra_modules.
BASE_MODULES = [
    "authz_core", "authz_host", "authz_user", "authn_core", "authn_file",
    "auth_basic", "access_compat", "alias", "dir", "autoindex", "mime",
    "rewrite", "env", "setenvif", "headers",
]

ENTRY_RE = re.compile(r"\[forbidden_explain:(\w+)\] .*?(\{.*)$")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def strict_json(text):
    """Parse one JSON object from the start of text with no leniency:
    NaN/Infinity and duplicate keys are refused.  Returns (obj, rest)."""
    def no_constants(name):
        raise ValueError("non-standard JSON constant " + name)

    def no_dupes(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                raise ValueError("duplicate key " + k)
            d[k] = v
        return d
    dec = json.JSONDecoder(parse_constant=no_constants,
                           object_pairs_hook=no_dupes, strict=True)
    obj, end = dec.raw_decode(text)
    return obj, text[end:]


class Response:
    def __init__(self, status, headers, body, raw):
        self.status = status
        self.headers = headers      # list of (name, value) in order
        self.body = body
        self.raw = raw

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    return Response(status, headers, body, raw)


class Httpd:
    """One throwaway httpd instance."""

    def __init__(self, name="t", mpm=None, with_module=True,
                 extra_modules=(), tmp_base=None):
        self.mpm = mpm or DEFAULT_MPM
        self.env = {}               # extra environment for apache2 only
        self.with_module = with_module
        self.extra_modules = list(extra_modules)
        base = tmp_base or tempfile.gettempdir()
        self.root = tempfile.mkdtemp(prefix="fx-%s-" % name, dir=base)
        os.chmod(self.root, 0o755)
        self.docroot = os.path.join(self.root, "htdocs")
        self.logs = os.path.join(self.root, "logs")
        self.conf_dir = os.path.join(self.root, "conf")
        for d in (self.docroot, self.logs, self.conf_dir):
            os.makedirs(d)
            os.chmod(d, 0o755)
        self.port = free_port()
        self.error_log = os.path.join(self.logs, "error_log")
        self.access_log = os.path.join(self.logs, "access_log")
        self.conf_file = os.path.join(self.conf_dir, "httpd.conf")
        self.started = False
        self.body = ""
        self.global_conf = ""
        # LoadModule this module before the others (as a2enmod's alphabetical
        # order does for mod_rewrite, mod_ssl, mod_setenvif, ...)
        self.module_first = False

    # -- configuration ----------------------------------------------------
    def write(self, rel, content, mode=0o644, owner=None):
        """Create a file under the ServerRoot (rel to root)."""
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
        os.chmod(path, mode)
        if owner and RUN_AS_ROOT:
            shutil.chown(path, *owner)
        return path

    def mkdir(self, rel, mode=0o755, owner=None):
        path = os.path.join(self.root, rel)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        if owner and RUN_AS_ROOT:
            shutil.chown(path, *owner)
        return path

    def conf(self, text):
        """Append configuration text (placeholders: {root} {docroot} {port})."""
        self.body += text.format(root=self.root, docroot=self.docroot,
                                 port=self.port) + "\n"

    def conf_line_of(self, needle, path=None):
        """1-based line number of the first line containing needle."""
        path = path or self.conf_file
        with open(path) as f:
            for i, line in enumerate(f, 1):
                if needle in line:
                    return i
        raise AssertionError("%r not in %s" % (needle, path))

    def render_conf(self):
        mods = ["mpm_" + self.mpm] + BASE_MODULES + self.extra_modules
        seen = set()
        lines = ["ServerRoot %s" % self.root,
                 "ServerName 127.0.0.1",
                 "Listen 127.0.0.1:%d" % self.port,
                 "PidFile %s/logs/httpd.pid" % self.root,
                 "DefaultRuntimeDir %s/logs" % self.root,
                 "Mutex file:%s/logs default" % self.root]
        ours = "LoadModule forbidden_explain_module %s" % MODULE
        if self.with_module and self.module_first:
            lines.append(ours)
        for m in mods:
            if m in seen:
                continue
            seen.add(m)
            lines.append("LoadModule %s_module %s/mod_%s.so" % (m, LIBEXEC, m))
        if self.with_module and not self.module_first:
            lines.append(ours)
        if RUN_AS_ROOT:
            lines += ["User %s" % SERVER_USER, "Group %s" % SERVER_USER]
        lines += [
            "ErrorLog %s" % self.error_log,
            "LogLevel warn",
            'LogFormat "%h %>s \\"%r\\" reason=%{FORBIDDEN_REASON}e at=%{FORBIDDEN_AT}e" fx',
            "CustomLog %s fx" % self.access_log,
            "TypesConfig /etc/mime.types",
            "DocumentRoot %s" % self.docroot,
            "DirectoryIndex index.html",
            "StartServers 1",
            "Timeout 20",
            "<Directory />",
            "    AllowOverride None",
            "    Require all denied",
            "</Directory>",
            '<Directory "%s">' % self.docroot,
            "    Options Indexes FollowSymLinks",
            "    AllowOverride None",
            "    Require all granted",
            "</Directory>",
        ]
        if self.mpm == "prefork":
            lines += ["MaxRequestWorkers 8", "MinSpareServers 1", "MaxSpareServers 2"]
        else:
            lines += ["ThreadsPerChild 8", "MaxRequestWorkers 16", "ServerLimit 2"]
        return "\n".join(lines) + "\n" + self.global_conf + self.body

    # -- lifecycle --------------------------------------------------------
    def configtest(self):
        with open(self.conf_file, "w") as f:
            f.write(self.render_conf())
        p = subprocess.run([APACHE, "-t", "-f", self.conf_file],
                           capture_output=True, text=True,
                           env=httpd_env(self.env))
        return p.returncode, p.stdout + p.stderr

    def start(self):
        with open(self.conf_file, "w") as f:
            f.write(self.render_conf())
        p = subprocess.run([APACHE, "-f", self.conf_file, "-k", "start"],
                           capture_output=True, text=True,
                           env=httpd_env(self.env))
        if p.returncode != 0:
            raise RuntimeError("httpd failed to start: %s%s\n%s" % (
                p.stdout, p.stderr, self.read_error_log()))
        self._wait_up()
        self.started = True
        return self

    def _wait_up(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("httpd did not listen: " + self.read_error_log())

    def pid(self):
        try:
            with open(os.path.join(self.logs, "httpd.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def graceful(self):
        gen_before = self.read_error_log().count("resuming normal operations")
        subprocess.run([APACHE, "-f", self.conf_file, "-k", "graceful"],
                       check=True, capture_output=True,
                       env=httpd_env(self.env))
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.read_error_log().count("resuming normal operations") > gen_before:
                break
            time.sleep(0.05)
        self._wait_up()

    def stop(self):
        """Stop httpd and every child of it, also when its configuration
        can no longer be parsed (a shared docroot already removed), so no
        test leaves a server behind."""
        if not self.started:
            return
        pid = self.pid()
        rc = subprocess.run([APACHE, "-f", self.conf_file, "-k", "stop"],
                            capture_output=True, env=httpd_env(self.env)).returncode
        if rc != 0 and pid:
            try:
                os.kill(pid, signal.SIGTERM)   # what -k stop sends
            except OSError:
                pass
        deadline = time.time() + 10
        while pid and time.time() < deadline:
            try:
                os.kill(pid, 0)
                time.sleep(0.05)
            except OSError:
                break
        else:
            if pid:
                # the daemonized parent leads its process group: take the
                # children with it
                for kill in (lambda: os.killpg(pid, signal.SIGKILL),
                             lambda: os.kill(pid, signal.SIGKILL)):
                    try:
                        kill()
                    except OSError:
                        pass
        self.started = False

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.cleanup()

    # -- requests ---------------------------------------------------------
    def request(self, path, method="GET", headers=None, source="127.0.0.1",
                body=b"", tls=False, timeout=10, raw_target=None):
        """Send one HTTP/1.1 request (Connection: close) and parse the
        answer.  path is sent as is (bytes allowed), so hostile targets
        reach the server unchanged."""
        target = raw_target if raw_target is not None else path
        if isinstance(target, str):
            target = target.encode("latin-1")
        given = {k.lower() for k in (headers or {})}
        hdrs = [(k, v) for k, v in (("Host", "127.0.0.1:%d" % self.port),
                                    ("Connection", "close"))
                if k.lower() not in given]
        for k, v in (headers or {}).items():
            hdrs.append((k, v))
        if body:
            hdrs.append(("Content-Length", str(len(body))))
        req = method.encode() + b" " + target + b" HTTP/1.1\r\n"
        for k, v in hdrs:
            req += k.encode() + b": " + (v if isinstance(v, bytes) else v.encode("latin-1")) + b"\r\n"
        req += b"\r\n" + body
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect(("127.0.0.1", self.port))
        if tls:
            ctx = tls if isinstance(tls, ssl.SSLContext) else _insecure_ctx()
            s = ctx.wrap_socket(s, server_hostname="localhost")
        s.sendall(req)
        chunks = []
        while True:
            try:
                d = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not d:
                break
            chunks.append(d)
        s.close()
        return parse_response(b"".join(chunks))

    def get(self, path, **kw):
        return self.request(path, **kw)

    # -- logs -------------------------------------------------------------
    def read_error_log(self):
        try:
            with open(self.error_log, "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def entries(self, settle=True):
        """Every forbidden_explain entry in the error log, parsed strictly
        from the raw line as it sits in the file."""
        if settle:
            time.sleep(0.15)  # log_transaction runs after the response
        out = []
        for line in self.read_error_log().splitlines():
            m = ENTRY_RE.search(line)
            if not m:
                continue
            obj, rest = strict_json(m.group(2))
            # Only httpd's own ", referer: ..." suffix may follow the object.
            assert rest == "" or rest.startswith(", referer: "), line
            out.append(obj)
        return out

    def entries_for(self, uri, settle=True):
        return [e for e in self.entries(settle) if decode(e.get("uri", "")) == uri]

    def access_lines(self):
        time.sleep(0.1)
        try:
            with open(self.access_log) as f:
                return f.read().splitlines()
        except OSError:
            return []


# One section per common kind of 403, shared by the suites that build a
# site with every kind: /deny (Require), /compat (Order/Deny), /noindex
# (-Indexes), /nosym (-FollowSymLinks), /ht (.htaccess rewrites) and a
# server-context RewriteRule [F] for /srvforbid.
KINDS_CONF = """
<Directory "{docroot}/deny">
    Require all denied
</Directory>
<Directory "{docroot}/compat">
    Order Deny,Allow
    Deny from all
</Directory>
<Directory "{docroot}/noindex">
    Options -Indexes
</Directory>
<Directory "{docroot}/nosym">
    Options -FollowSymLinks
</Directory>
<Directory "{docroot}/ht">
    AllowOverride FileInfo
</Directory>
RewriteEngine On
RewriteRule ^/srvforbid - [F]
"""


def one_entry(h, uri):
    """The single entry for uri; fails with the error log's tail when there
    is none or more than one."""
    got = h.entries_for(uri)
    assert len(got) == 1, (uri, got, h.read_error_log()[-3000:])
    return got[0]


def decode(value):
    """Undo the entries' percent-encoding of string values."""
    from urllib.parse import unquote_to_bytes
    return unquote_to_bytes(value).decode("utf-8", "surrogateescape")


def field(e, key):
    """e[key] decoded when it is a string, as is otherwise (None if absent)."""
    v = e.get(key)
    return decode(v) if isinstance(v, str) else v


def response_and_entry(h, send):
    """Run send() (one request to h); return its response and the single
    entry it added, or None: more than one fails."""
    before = len(h.entries(settle=False))
    resp = send()
    entries = h.entries()[before:]
    assert len(entries) <= 1, entries
    return resp, (entries[0] if entries else None)


def _insecure_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def server_ids():
    pw = pwd.getpwnam(SERVER_USER)
    return pw.pw_uid, pw.pw_gid, grp.getgrgid(pw.pw_gid).gr_name


def decoded(v):
    """An error-log entry (or any value of it) with every string, also in
    lists and objects, percent-decoded: what ForbiddenExplainLog and
    problem+json hold for valid UTF-8 (standard JSON, no decoding step)."""
    if isinstance(v, str):
        return decode(v)
    if isinstance(v, list):
        return [decoded(x) for x in v]
    if isinstance(v, dict):
        return {k: decoded(x) for k, x in v.items()}
    return v


# -- applying an entry's "fix" mechanically (shared by the hint tests) ------

def _edit(lines, op):
    """Apply one insert/replace/delete op to a list of lines (1-based line
    numbers of the original file)."""
    kind = op["op"]
    if kind == "insert":
        at = op["after_line"]
        assert 0 <= at <= len(lines), op
        lines[at:at] = decode(op["text"]).split("\n")
    elif kind == "replace":
        i = op["line"] - 1
        assert decode(op["old"]) in lines[i], (op, lines[i])
        lines[i] = decode(op["new"])
    elif kind == "delete":
        i = op["line"] - 1
        assert decode(op["old"]) in lines[i], (op, lines[i])
        del lines[i]
    else:
        raise AssertionError("unknown op %r" % op)


def _line_of(op):
    return op.get("after_line", op.get("line", 0))


def fixed_copy(a, fix, with_module=False):
    """A copy of site a with fix applied, served by a new httpd (stock by
    default).  Returns the started Httpd; the caller cleans it up."""
    b = Httpd(name="fixed", with_module=with_module,
                      extra_modules=a.extra_modules)
    subprocess.run(["cp", "-a", a.root + "/.", b.root], check=True)
    for f in os.listdir(b.logs):
        os.unlink(os.path.join(b.logs, f))

    def here(path):
        path = decode(path)
        assert path.startswith(a.root + "/"), path     # never outside
        return b.root + path[len(a.root):]

    with open(a.conf_file) as f:
        conf = f.read().split("\n")
    edits = {}
    for op in fix:
        if op["op"] == "run":
            argv = [decode(x) for x in op["argv"]]
            argv = [here(x) if x.startswith(a.root + "/") else x for x in argv]
            assert argv[0] in ("chmod", "chgrp", "chown", "setfacl"), argv
            subprocess.run(argv, check=True)
        elif op["op"] == "append" and decode(op["file"]) == a.conf_file:
            conf += decode(op["text"]).split("\n")
        elif op["op"] == "append":
            with open(here(op["file"]), "a") as f:
                f.write(decode(op["text"]) + "\n")
        else:
            edits.setdefault(decode(op["file"]), []).append(op)
    for path, ops in edits.items():
        # bottom-up, so every line number still means the original line
        ops.sort(key=_line_of, reverse=True)
        if path == a.conf_file:
            for op in ops:
                _edit(conf, op)
            continue
        with open(here(path)) as f:
            lines = f.read().split("\n")
        for op in ops:
            _edit(lines, op)
        with open(here(path), "w") as f:
            f.write("\n".join(lines))
    text = "\n".join(line for line in conf
                     if with_module or "forbidden_explain_module" not in line)
    text = text.replace(a.root, b.root).replace(
        "127.0.0.1:%d" % a.port, "127.0.0.1:%d" % b.port)
    b.render_conf = lambda: text
    b.start()
    return b


# -- ForbiddenExplainRepeat (issue 16) ---------------------------------------
# The module writes repeats of a cause in its window as short lines by
# default (compact).  The suites written before that assert on a full entry
# for every 403, so a server of the harness runs with
# `ForbiddenExplainRepeat full` unless its test sets `h.repeat` to another
# mode, or to None for the module's own default (tests/test_repeat.py does).
# <IfModule> keeps the line harmless for stock servers and fixed_copy().
Httpd.repeat = "full"
_render_conf_without_repeat = Httpd.render_conf


def _render_conf_with_repeat(self):
    # before the test's own text, so that a test counting the lines the
    # harness renders first (test_authz_diff) counts these too
    text = _render_conf_without_repeat(self)
    tail = self.global_conf + self.body
    if self.repeat and self.with_module and text.endswith(tail):
        text = (text[:len(text) - len(tail)]
                + "<IfModule mod_forbidden_explain.c>\n"
                  "ForbiddenExplainRepeat %s\n</IfModule>\n" % self.repeat
                + tail)
    return text


Httpd.render_conf = _render_conf_with_repeat
