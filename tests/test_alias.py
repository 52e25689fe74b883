"""test_alias.py — mod_alias's refusals (src/fx_alias.c): `Redirect 403`,
`RedirectMatch 403` and a section's status-only `Redirect 403` answer 403
and mod_alias logs nothing, at any LogLevel.  The entry names the line
mod_alias's own order makes the first to match: the section's redirect,
then the server's list in translate_name (the virtual host's lines before
the main server's) or the per-directory list in fixups (the innermost
section's lines first), each in file order.  Real httpd, no mocks."""
import os

import pytest

import harness
from harness import field

SITE_CONF = r'''
RedirectMatch 403 (?i)\.(bak|sql)$
Redirect 403 /private
Redirect 403 /arch
Redirect 403 /archive
RedirectMatch 403 \.zip$
RedirectMatch 403 \.tgz$
RedirectMatch 301 ^/moved/(.*)$ /new/$1
RedirectMatch 403 ^/moved/
<Location "/locked">
    Redirect 403
</Location>
<Directory "{docroot}/dir">
    RedirectMatch 403 /secret\.txt$
</Directory>
<Directory "{docroot}/ht">
    AllowOverride FileInfo
    RedirectMatch 403 \.log$
</Directory>
<Directory "{docroot}/idx">
    RedirectMatch 403 /index\.html$
</Directory>
<Directory "{docroot}/both">
    RedirectMatch 403 \.ini$
</Directory>
<Location "/both">
    RedirectMatch 403 ^/both/a\.ini$
</Location>
<If "%{{QUERY_STRING}} =~ /evil/">
    Redirect 403
</If>
'''
HTACCESS = "RedirectMatch 403 ^/ht/a\\.log$\nRedirectMatch 403 \\.cfg$\n"
FILES = ["x.sql", "X.BAK", "private/a.txt", "privateer.txt", "archive/y", "a.tgz",
         "moved/x", "locked/x", "dir/secret.txt", "dir/public.txt",
         "ht/a.log", "ht/b.log", "ht/c.cfg", "ht/d.txt", "idx/index.html",
         "both/a.ini", "both/b.ini", "ok.txt"]
REQUESTS = ["/x.sql", "/X.BAK", "/private/a.txt", "/private", "/privateer.txt",
            "/archive/y", "/a.tgz", "/moved/x", "/locked/x", "/dir/secret.txt",
            "/dir/public.txt", "/ht/a.log", "/ht/b.log", "/ht/c.cfg",
            "/ht/d.txt", "/idx/", "/idx/index.html", "/both/a.ini",
            "/both/b.ini", "/ok.txt", "/ok.txt?evil=1", "/ok.txt?good=1"]


def _build(h):
    h.conf(SITE_CONF)
    for rel in FILES:
        h.write("htdocs/" + rel, "x\n")
    h.write("htdocs/ht/.htaccess", HTACCESS)


@pytest.fixture(scope="module")
def site():
    h = harness.Httpd(name="alias")
    _build(h)
    h.start()
    yield h
    h.cleanup()


def _entry(h, uri):
    resp, e = harness.response_and_entry(h, lambda: h.request(uri))
    return resp, e


def _line_of(path, text, after=None):
    """1-based number of the line whose stripped text is text (the first
    after the first line starting with after, when given)."""
    started = after is None
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not started:
                started = line.strip().startswith(after)
            elif line.strip() == text:
                return i
    raise AssertionError("no %r in %s" % (text, path))


def _named(h, uri, needle, path=None):
    """The entry of uri (a 403) names the line holding needle."""
    resp, e = _entry(h, uri)
    assert resp.status == 403, (uri, resp.status)
    assert e, (uri, "no entry", h.read_error_log()[-2000:])
    path = path or h.conf_file
    assert field(e, "reason") == "alias", e
    assert field(e, "module") == "mod_alias.c", e
    assert field(e, "directive") == needle, (uri, e)
    assert field(e, "file") == path, (uri, e)
    assert e.get("line") == _line_of(path, needle), (uri, e)
    # a deliberate refusal: kept, no machine fix, the hint says why
    assert "fix" not in e, e
    assert e.get("hint_verified") is False, e
    assert "deliberate" in field(e, "hint_unverified"), e
    assert "do not remove the line" in field(e, "hint"), e
    assert field(e, "protection"), e
    return e


def test_server_redirectmatch_403(site):
    e = _named(site, "/x.sql", r"RedirectMatch 403 (?i)\.(bak|sql)$")
    assert field(e, "phase") == "translate_name", e
    assert field(e, "section") == "server config", e
    assert field(e, "protection") == "backup", e
    assert "matched the path '/x.sql'" in field(e, "detail"), e
    assert r"(?i)\.(bak|sql)$" in field(e, "detail"), e
    # (?i): the case of the path does not matter to PCRE
    _named(site, "/X.BAK", r"RedirectMatch 403 (?i)\.(bak|sql)$")


def test_server_redirect_403_prefix(site):
    e = _named(site, "/private/a.txt", "Redirect 403 /private")
    assert field(e, "protection") == "url-block", e
    assert "prefix" in field(e, "detail"), e
    _named(site, "/private", "Redirect 403 /private")
    # a prefix covers whole path components only
    resp, e = _entry(site, "/privateer.txt")
    assert resp.status == 200 and e is None, (resp.status, e)
    # so `Redirect 403 /arch`, tried first, does not cover /archive/y
    _named(site, "/archive/y", "Redirect 403 /archive")


def test_second_line_matches(site):
    # `\.zip$` is tried first and does not match: the next line is named
    e = _named(site, "/a.tgz", r"RedirectMatch 403 \.tgz$")
    assert "; 5 lines before it did not match" in field(e, "detail"), e


def test_redirect_301_first_means_no_403(site):
    resp, e = _entry(site, "/moved/x")
    assert resp.status == 301, resp.status
    assert resp.header("Location").endswith("/new/x"), resp.headers
    assert e is None, e


def test_location_status_only_redirect(site):
    e = _named(site, "/locked/x", "Redirect 403")
    assert e["line"] == _line_of(site.conf_file, "Redirect 403",
                                 '<Location "/locked">'), e
    assert field(e, "phase") == "translate_name", e
    assert field(e, "section").startswith("<Location %22/locked%22>") or \
        field(e, "section").startswith('<Location "/locked">'), e


def test_location_list_before_directory(site):
    # <Location> is merged after <Directory> (the second location walk):
    # its lines are tried first in fixups
    e = _named(site, "/both/a.ini", r"RedirectMatch 403 ^/both/a\.ini$")
    assert field(e, "phase") == "fixups", e
    assert field(e, "section").startswith("<Location"), e
    e = _named(site, "/both/b.ini", r"RedirectMatch 403 \.ini$")
    assert field(e, "section").startswith("<Directory"), e


def test_if_status_only_redirect(site):
    resp, e = _entry(site, "/ok.txt?evil=1")
    assert resp.status == 403, resp.status
    assert field(e, "directive") == "Redirect 403", e
    assert e["line"] == _line_of(site.conf_file, "Redirect 403", '<If "'), e
    assert field(e, "section").startswith("<If"), e
    assert field(e, "phase") == "translate_name", e
    resp, e = _entry(site, "/ok.txt?good=1")
    assert resp.status == 200 and e is None, (resp.status, e)


def test_directory_redirectmatch(site):
    e = _named(site, "/dir/secret.txt", r"RedirectMatch 403 /secret\.txt$")
    assert field(e, "phase") == "fixups", e
    assert field(e, "section").startswith("<Directory"), e
    resp, e = _entry(site, "/dir/public.txt")
    assert resp.status == 200 and e is None, (resp.status, e)


def test_htaccess_inner_section_first(site):
    ht = os.path.join(site.docroot, "ht", ".htaccess")
    # both the .htaccess line and <Directory>'s `\.log$` match /ht/a.log:
    # mod_alias tries the innermost section (the .htaccess) first
    e = _named(site, "/ht/a.log", r"RedirectMatch 403 ^/ht/a\.log$", ht)
    assert field(e, "phase") == "fixups", e
    assert field(e, "section") == ".htaccess of %s/ht/" % site.docroot, e
    _named(site, "/ht/c.cfg", r"RedirectMatch 403 \.cfg$", ht)
    # neither .htaccess line matches: the outer <Directory>'s does
    _named(site, "/ht/b.log", r"RedirectMatch 403 \.log$")
    resp, e = _entry(site, "/ht/d.txt")
    assert resp.status == 200 and e is None, (resp.status, e)


def test_index_subrequest_is_not_guessed(site):
    # mod_dir relays the 403 of its index sub-request, whose sections
    # are gone by then: the entry says so and names no line
    resp, e = _entry(site, "/idx/")
    assert resp.status == 403, resp.status
    assert e and field(e, "reason") == "alias", e
    assert "directive" not in e and "line" not in e, e
    assert "sub-request" in field(e, "detail"), e
    _named(site, "/idx/index.html", r"RedirectMatch 403 /index\.html$")


def test_virtual_host_lines_first(make_httpd):
    h = make_httpd(name="aliasvh")
    h.conf('RedirectMatch 403 \\.sql$\n'
           '<VirtualHost 127.0.0.1:{port}>\n'
           '    ServerName 127.0.0.1\n'
           '    DocumentRoot "{docroot}"\n'
           '    RedirectMatch 403 ^/x\\.sql$\n'
           '</VirtualHost>')
    h.start()
    # merge_alias_config: the virtual host's lines, then the main server's
    e = _named(h, "/x.sql", r"RedirectMatch 403 ^/x\.sql$")
    assert field(e, "section").startswith("<VirtualHost"), e
    _named(h, "/y.sql", r"RedirectMatch 403 \.sql$")


def test_statuses_equal_without_the_module(site, make_httpd):
    stock = make_httpd(name="aliasstock", with_module=False)
    _build(stock)
    stock.start()
    for uri in REQUESTS:
        a, b = stock.request(uri), site.request(uri)
        assert a.status == b.status, (uri, a.status, b.status)
        assert a.header("Location") == b.header("Location") or \
            a.header("Location").replace(str(stock.port), str(site.port)) \
            == b.header("Location"), uri
        assert a.body == b.body or a.status == 301, uri
    assert stock.entries() == []
