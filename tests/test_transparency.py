"""test_transparency.py — loading the module changes what no configuration
means (issue 14): <IfDirective>, <IfModule>, validity, DUMP_RUN_CFG /
DUMP_INCLUDES / DUMP_MODULES are the same with and without it, whatever
order the modules load in; and where a directive sits is still found when
the module loads before the modules it explains, and however deep the
sections around it nest."""
import difflib
import os
import shutil
import subprocess
import tempfile

import pytest

import harness
from harness import APACHE, LIBEXEC, MODULE, one_entry, field

# Every directive the module explains, and its own.
EXPLAINED = [
    "Options", "AllowOverride", "DirectoryIndex", "SetHandler", "AddHandler",
    "RemoveHandler", "Order", "Allow", "Deny", "Satisfy", "Require",
    "AuthMerging", "AuthzSendForbiddenOnFailure", "RewriteEngine",
    "RewriteOptions", "RewriteBase", "RewriteCond", "RewriteRule",
    "SSLRequireSSL", "SSLRequire", "SSLVerifyClient", "SSLOptions",
    "ProxyBlock", "AllowCONNECT", "SetEnvIf", "BrowserMatchNoCase",
    "SecRuleEngine", "Redirect", "RedirectMatch", "RedirectTemp",
    "RedirectPermanent",
]
OURS = ["ForbiddenExplain", "ForbiddenExplainLog"]

# Module sets: none of the explained modules, each alone, all together.
MODULE_SETS = [
    [], ["access_compat"], ["authz_core"], ["rewrite"], ["ssl"], ["proxy"],
    ["dir", "mime", "setenvif"],
    ["access_compat", "authz_core", "authz_host", "rewrite", "ssl", "proxy",
     "dir", "mime", "setenvif", "alias"],
]


def _define(name):
    return "FXHAS_" + name.upper()


def _conf_text(root, modules, ours):
    lines = ["ServerRoot %s" % root, "ServerName 127.0.0.1",
             "Listen 127.0.0.1:%d" % harness.free_port(),
             "PidFile %s/httpd.pid" % root, "ErrorLog %s/error_log" % root,
             "DefaultRuntimeDir %s" % root,
             "LoadModule mpm_event_module %s/mod_mpm_event.so" % LIBEXEC]
    load_ours = "LoadModule forbidden_explain_module %s" % MODULE
    # a comment where the module is not loaded: line numbers stay the same
    lines.append(load_ours if ours == "first" else "# -")
    for m in modules:
        lines.append("LoadModule %s_module %s/mod_%s.so" % (m, LIBEXEC, m))
    lines.append(load_ours if ours == "last" else "# -")
    for name in EXPLAINED:
        lines += ["<IfDirective %s>" % name, "  Define %s" % _define(name),
                  "</IfDirective>",
                  "<IfDirective !%s>" % name,
                  "  Define NOT_%s" % _define(name), "</IfDirective>"]
    for m in MODULE_SETS[-1]:
        lines += ["<IfModule mod_%s.c>" % m, "  Define MOD_%s" % m.upper(),
                  "</IfModule>"]
    lines.append("Include %s/extra.conf" % root)
    return "\n".join(lines) + "\n"


def _run(root, text, *flags):
    conf = os.path.join(root, "httpd.conf")
    with open(conf, "w") as f:
        f.write(text)
    p = subprocess.run([APACHE, "-f", conf] + list(flags),
                       capture_output=True, text=True,
                       env=harness.httpd_env())
    out = [l for l in (p.stdout + p.stderr).splitlines()
           if "forbidden_explain" not in l and "ForbiddenExplain" not in l]
    # httpd prints its Mutex table in hash order, which varies run to run
    mutexes = sorted(l for l in out if l.startswith("Mutex "))
    out = [l for l in out if not l.startswith("Mutex ")] + mutexes
    return p.returncode, "\n".join(out)


@pytest.fixture
def root():
    d = tempfile.mkdtemp(prefix="fx-transp-")
    with open(os.path.join(d, "extra.conf"), "w") as f:
        f.write("# included\n")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("modules", MODULE_SETS,
                         ids=["+".join(s) or "none" for s in MODULE_SETS])
def test_same_meaning_with_and_without(root, modules):
    results = {}
    for ours in ("none", "first", "last"):
        text = _conf_text(root, modules, ours)
        results[ours] = [_run(root, text, "-t", "-D", "DUMP_RUN_CFG"),
                         _run(root, text, "-t", "-D", "DUMP_INCLUDES"),
                         _run(root, text, "-M")]
    base = results["none"]
    assert base[0][0] == 0, base[0][1]
    defines = [l for l in base[0][1].splitlines() if l.startswith("Define:")]
    # the guards really were evaluated: each name is either defined or not
    for name in EXPLAINED:
        assert ("Define: " + _define(name) in defines) != \
               ("Define: NOT_" + _define(name) in defines), name
    for ours in ("first", "last"):
        for got, want in zip(results[ours], base):
            assert got == want, (ours, modules, "\n".join(difflib.unified_diff(
                want[1].splitlines(), got[1].splitlines(), lineterm="")))


def test_ifdirective_guard_from_the_issue(root):
    """Valid without mod_ssl, with the module loaded first or last."""
    with open(os.path.join(root, "extra.conf"), "w") as f:
        f.write("<IfDirective SSLRequireSSL>\n  SSLRequireSSL\n</IfDirective>\n"
                "<IfDirective Order>\n  Order deny,allow\n</IfDirective>\n")
    for ours in ("none", "first", "last"):
        rc, out = _run(root, _conf_text(root, ["authz_core"], ours), "-t")
        assert rc == 0, (ours, out)


def test_unknown_directive_refused_alike(root):
    """Order without mod_access_compat: the same refusal either way."""
    with open(os.path.join(root, "extra.conf"), "w") as f:
        f.write("<Directory /tmp>\n  Order deny,allow\n</Directory>\n")
    got = {ours: _run(root, _conf_text(root, ["authz_core"], ours), "-t")
           for ours in ("none", "first", "last")}
    assert got["none"][0] != 0
    assert "Invalid command 'Order'" in got["none"][1]
    assert got["first"] == got["none"] and got["last"] == got["none"]


# -- the module loaded before the modules it explains ----------------------

LOCATED = '''
<Directory "{docroot}/compat">
    Order deny,allow
    Deny from all
</Directory>
<Directory "{docroot}/noidx">
    Options -Indexes
</Directory>
<Directory "{docroot}/htrw">
    AllowOverride FileInfo Options
</Directory>
'''


def _located(make_httpd, first):
    h = make_httpd(name="first" if first else "last")
    h.module_first = first
    h.conf(LOCATED)
    h.mkdir("htdocs/compat")
    h.write("htdocs/compat/x.txt", "x\n")
    h.mkdir("htdocs/noidx")
    h.write("htdocs/htrw/.htaccess",
            "# rules\nRewriteEngine On\nRewriteRule ^x\\.txt$ - [F]\n")
    h.write("htdocs/htrw/x.txt", "x\n")
    h.start()
    got = {}
    for uri in ("/compat/x.txt", "/noidx/", "/htrw/x.txt"):
        assert h.get(uri).status == 403, uri
        e = one_entry(h, uri)
        got[uri] = (field(e, "directive"), field(e, "file"), e.get("line"),
                    field(e, "section"))
    return h, got


def test_located_when_loaded_first(make_httpd):
    h_last, last = _located(make_httpd, first=False)
    h_first, first = _located(make_httpd, first=True)
    conf = os.path.basename(h_last.conf_file)
    d, f, line, _ = last["/compat/x.txt"]
    assert d == "Deny from all" and f.endswith(conf)
    assert line == h_last.conf_line_of("Deny from all")
    d, f, line, _ = last["/noidx/"]
    assert d == "Options -Indexes" and line == h_last.conf_line_of("Options -Indexes")
    d, f, line, section = last["/htrw/x.txt"]
    assert d.startswith("RewriteRule ^x") and f.endswith("/htrw/.htaccess")
    assert line == 3
    # the same answers, with this server's own paths, when loaded first
    for uri, (d, f, line, section) in last.items():
        d1, f1, line1, section1 = first[uri]
        assert (d1, line1) == (d, line), uri
        assert f1.replace(h_first.root, h_last.root) == f, uri
        assert (section1 or "").replace(h_first.root, h_last.root) == (section or "")


# -- deep nesting ------------------------------------------------------------

def test_sixteen_nested_sections_over_included_files(make_httpd):
    """A <Directory> including a <Files> including six <If> including eight
    Require containers, each level in its own file (issue 14: the section
    chain wrote past a stack array and the child died)."""
    h = make_httpd(name="deep")
    h.mkdir("htdocs/deep")
    h.write("htdocs/deep/x.txt", "x\n")
    levels = (['<Directory "%s/deep">' % h.docroot, "<Files x.txt>"]
              + ['<If "true">'] * 6 + ["<RequireAll>"] * 8)
    closing = (["</Directory>", "</Files>"] + ["</If>"] * 6
               + ["</RequireAll>"] * 8)
    for i, (open_, close) in enumerate(zip(levels, closing)):
        inner = ("Include %s/conf/deep%d.conf" % (h.root, i + 1)
                 if i + 1 < len(levels) else "Require ip 10.9.9.9")
        h.write("conf/deep%d.conf" % i, "%s\n%s\n%s\n" % (open_, inner, close))
    h.conf("Include {root}/conf/deep0.conf")
    h.start()
    for _ in range(3):
        assert h.get("/deep/x.txt").status == 403
    log = h.read_error_log()
    assert "AH00052" not in log and "stack smashing" not in log
    entries = h.entries_for("/deep/x.txt")
    assert len(entries) == 3
    e = entries[0]
    assert field(e, "directive") == "Require ip 10.9.9.9"
    assert field(e, "file") == os.path.join(h.root, "conf", "deep15.conf")
    section = field(e, "section")
    assert section.count(" > ") == 15, section
    for i in range(16):
        assert "deep%d.conf" % i in section, (i, section)


# -- Debian's own configuration, as shipped --------------------------------

@pytest.mark.skipif(not os.path.exists("/etc/apache2/apache2.conf"),
                    reason="Debian's apache2 configuration is not installed")
def test_debian_configuration_same_with_and_without():
    """/etc/apache2/apache2.conf with the modules Debian enables plus every
    packaged conf-available snippet: -t and the DUMP_* outputs are the same
    with the module loaded before (-C) or after (-c) everything else.
    Read only: no server is started."""
    snippets = "IncludeOptional /etc/apache2/conf-available/*.conf"
    load = "LoadModule forbidden_explain_module %s" % MODULE

    def run(extra, *flags):
        p = subprocess.run(
            ["bash", "-c", 'source /etc/apache2/envvars && exec "$@"', "sh",
             APACHE, "-d", "/etc/apache2", "-f", "/etc/apache2/apache2.conf",
             "-c", snippets] + extra + list(flags),
            capture_output=True, text=True, env=harness.httpd_env(),
            cwd="/etc/apache2")
        out = [l for l in (p.stdout + p.stderr).splitlines()
               if "forbidden_explain" not in l]
        return p.returncode, sorted(out)

    for flags in (["-t"], ["-t", "-D", "DUMP_RUN_CFG"],
                  ["-t", "-D", "DUMP_INCLUDES"], ["-t", "-D", "DUMP_VHOSTS"],
                  ["-M"]):
        base = run([], *flags)
        assert base[0] == 0, (flags, base[1][-5:])
        assert run(["-C", load], *flags) == base, flags
        assert run(["-c", load], *flags) == base, flags


def test_require_containers_deeper_than_sixteen(make_httpd):
    """A <RequireAny> whose rules all fail, inside 17 <RequireAll>: the
    failed container is named at its line (a 16-entry array cut the tree and
    named nothing)."""
    h = make_httpd(name="deepaz")
    h.mkdir("htdocs/dz")
    h.write("htdocs/dz/x.txt", "x\n")
    body = ['<Directory "{docroot}/dz">']
    for _ in range(17):
        body += ["<RequireAll>", "Require all granted"]
    body += ["<RequireAny>", "Require ip 10.9.9.9", "Require ip 10.9.9.8",
             "</RequireAny>"]
    body += ["</RequireAll>"] * 17 + ["</Directory>"]
    h.conf("\n".join(body))
    h.start()
    assert h.get("/dz/x.txt").status == 403
    e = one_entry(h, "/dz/x.txt")
    assert field(e, "directive") == "<RequireAny>"
    assert e.get("line") == h.conf_line_of("<RequireAny>")
    assert [r["line"] for r in e["responsible"]] == [
        h.conf_line_of("Require ip 10.9.9.9"), h.conf_line_of("Require ip 10.9.9.8")]
