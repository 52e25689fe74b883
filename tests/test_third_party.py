"""test_third_party.py — real configurations used as shipped, with httpd
itself as the oracle: the same site is served by stock httpd with
`LogLevel rewrite:trace4 authz_core:debug` and by httpd with the module at
the default level; for every 403 the rule the module names (directive, file,
line) must be the one httpd's own trace shows deciding.

Drupal core's .htaccess (tests/data/third_party/drupal/NOTE): its FilesMatch
protection, its dot-directory RewriteRule and its PHP-file RewriteRule."""
import os
import re
from urllib.parse import unquote

import pytest

import harness
from harness import field

DATA = os.path.join(os.path.dirname(__file__), "data", "third_party")

DRUPAL_FILES = [
    "index.php", "core/install.php", "core/lib/Drupal.php",
    "core/modules/system/system.install", "sites/default/settings.php",
    "autoload.php", ".git/config", ".git/HEAD", "composer.json",
    "modules/custom/foo/foo.module", "modules/custom/foo/foo.info.yml",
    "themes/t/t.theme", "update.php.bak", "README.md", "robots.txt",
    ".well-known/security.txt", "web.config", "vendor/x/y.php",
    "core/misc/drupal.js", "#notes#",
]
DRUPAL_URIS = ["/" + f.replace("#", "%23") for f in DRUPAL_FILES] + [
    "/", "/node/1", "/core/lib/", "/.git/", "/sites/default/settings.php/x",
    "/core/install.php?rewrite=ok", "/modules/custom/foo/",
]


def _site(make_httpd, with_module, name):
    h = make_httpd(name=name, with_module=with_module)
    h.conf('''<Directory "{docroot}">
    AllowOverride All
    Options +FollowSymLinks
</Directory>''')
    if not with_module:
        h.conf("LogLevel warn rewrite:trace4 authz_core:debug")
    with open(os.path.join(DATA, "drupal", "htaccess"), "rb") as f:
        h.write("htdocs/.htaccess", f.read())
    for rel in DRUPAL_FILES:
        h.write("htdocs/" + rel, "x\n")
    h.start()
    return h


def _log_since(h, offset):
    with open(h.error_log, "rb") as f:
        f.seek(offset)
        return f.read().decode("latin-1")


def _unescape(s):
    # httpd doubles backslashes in error-log messages
    return s.replace("\\\\", "\\")


def _rule_line(path, pattern):
    """Line of the RewriteRule whose pattern is pattern, in path."""
    with open(path) as f:
        for i, line in enumerate(f, 1):
            words = line.split()
            if len(words) > 1 and words[0] == "RewriteRule":
                pat = words[1]
                if len(pat) > 1 and pat[0] == '"' and pat[-1] == '"':
                    pat = pat[1:-1]
                if pat == pattern:
                    return i
    raise AssertionError("no RewriteRule %r in %s" % (pattern, path))


def _require_line(path, text):
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if line.strip() == text:
                return i
    raise AssertionError("no %r in %s" % (text, path))


def _oracle(h, log, htaccess):
    """(directive prefix, file, line) httpd's own trace shows deciding."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if "forcing responsecode 403" in line:
            pattern = None
            for prev in reversed(lines[:i]):
                m = re.search(r"applying pattern '(.*)' to uri '", prev)
                if m:
                    pattern = _unescape(m.group(1))
                    break
            assert pattern, log
            return ("RewriteRule", htaccess, _rule_line(htaccess, pattern))
    if "AH01276" in log:
        # a directory without index, listings off: the Options line that
        # turned Indexes off
        return ("Options", htaccess, _require_line(htaccess, "Options -Indexes"))
    denied = [m.group(1) for m in
              re.finditer(r"AH01626: authorization result of (Require [^:<>]*): denied", log)]
    if "AH01630" in log and denied:
        return (denied[-1], htaccess, _require_line(htaccess, denied[-1]))
    return None


def test_drupal_htaccess_rules_named_as_httpd_decided(make_httpd):
    stock = _site(make_httpd, False, "drupal-stock")
    mod = _site(make_httpd, True, "drupal-mod")
    htaccess = os.path.join(mod.docroot, ".htaccess")
    denials = 0
    denied, verified = [], []
    for uri in DRUPAL_URIS:
        before = os.path.getsize(stock.error_log)
        want_status = stock.get(uri).status
        oracle = _oracle(stock, _log_since(stock, before),
                         os.path.join(stock.docroot, ".htaccess"))
        got = mod.get(uri)
        assert got.status == want_status, uri
        entries = mod.entries_for(unquote(uri.split("?")[0]))
        if want_status != 403:
            assert entries == [], uri
            continue
        denials += 1
        assert len(entries) == 1, (uri, entries)
        e = entries[0]
        assert oracle, (uri, "stock httpd's trace names no rule")
        prefix, _, line = oracle
        assert field(e, "directive").startswith(prefix), (uri, e, oracle)
        assert field(e, "file") == htaccess, (uri, e)
        assert e.get("line") == line, (uri, e, oracle)
        denied.append(uri)
        if e.get("hint_verified") is True:
            verified.append((uri, e["fix"]))
        else:
            assert field(e, "hint_unverified"), (uri, e)
    print("drupal: %d denials named as httpd decided, %d verified fixes"
          % (denials, len(verified)))
    # the protections really were exercised
    assert denials >= 10, denials
    # issue 13: each verified fix, applied as written to a copy of the site
    # served by stock httpd, lets its request in and nothing else Drupal
    # protects
    for uri, fix in verified:
        b = harness.fixed_copy(mod, fix)
        try:
            assert b.get(uri).status != 403, (uri, fix)
            for other in denied:
                if other != uri:
                    assert b.get(other).status == 403, (uri, fix, other)
        finally:
            b.cleanup()
