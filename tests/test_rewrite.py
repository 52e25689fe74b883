"""test_rewrite.py — 403s from real mod_rewrite: the rule that fired is named
with file:line, its RewriteCond lines with the values they tested, in
server context (translate_name), .htaccess and <Directory> context
(fixups), plus AH00670 and the %3f check (AH10508)."""
import json

import pytest

import harness
from harness import decode, one_entry

HOTLINK_RULE = r"RewriteRule \.(jpe?g|png)$ - [F,NC]"
COND_EMPTY = r"RewriteCond %{HTTP_REFERER} !^$"
COND_GOOD = r"RewriteCond %{HTTP_REFERER} !^https?://(www\.)?good\.example/ [NC]"
HTACCESS = (
    "# rewrite rules of /rw\n"
    "RewriteEngine On\n"
    "RewriteCond %{HTTP:X-Token} !=letmein\n"
    "RewriteRule ^secret/ - [F]\n"
)


# An earlier rule rewrites a.html to x.html; the [F] rule on line 2 never
# sees x.html, the one on line 4 does.
CHAIN_HTACCESS = (
    "RewriteEngine On\n"
    "RewriteRule ^x\\.html$ - [F]\n"
    "RewriteRule ^a\\.html$ x.html\n"
    "RewriteRule ^x\\.html$ - [F]\n"
)


def raw_conf(h, text):
    """Configuration text with literal braces (%{VAR}), not formatted."""
    h.body += text + "\n"


@pytest.fixture(scope="module")
def h():
    h = harness.Httpd(name="rewrite")
    h.conf("RewriteEngine On")
    raw_conf(h, COND_EMPTY)
    raw_conf(h, COND_GOOD)
    h.conf(HOTLINK_RULE)
    h.conf("RewriteRule ^/srvforbid - [R=403]")
    h.conf("RewriteRule ^/q/(.*)$ /target/$1")
    h.conf("<Directory {docroot}/rw>\n    AllowOverride FileInfo\n</Directory>")
    h.conf("<Directory {docroot}/nosym>\n    Options -FollowSymLinks\n"
           "    RewriteEngine On\n    RewriteRule ^x - [F]\n</Directory>")
    raw_conf(h, "<Directory %s/dirrule>\n    RewriteEngine On\n"
             "    RewriteRule ^old/(.*)$ new/$1\n"
             "    RewriteCond %%{QUERY_STRING} ^debug=\n"
             "    RewriteRule ^new/ - [F]\n</Directory>" % h.docroot)
    raw_conf(h, "<Directory %s/idx>\n    RewriteEngine On\n"
             "    RewriteRule ^index\\.html$ - [F]\n</Directory>" % h.docroot)
    h.conf("<Directory {docroot}/rwchain>\n    AllowOverride FileInfo\n</Directory>")
    h.write("htdocs/rwchain/.htaccess", CHAIN_HTACCESS)
    h.write("htdocs/rwchain/a.html", "a")
    h.write("htdocs/idx/index.html", "index")
    h.write("htdocs/img/cat.png", b"\x89PNG fake")
    h.write("htdocs/rw/.htaccess", HTACCESS)
    h.write("htdocs/rw/secret/x.html", "secret")
    h.write("htdocs/nosym/x", "x")
    h.write("htdocs/dirrule/new/a.html", "a")
    h.write("htdocs/dirrule/old/a.html", "old")
    h.start()
    yield h
    h.cleanup()


def test_hotlink_server_context_names_rule_and_referer(h):
    r = h.get("/img/cat.png", headers={"Referer": "http://evil.example/page"})
    assert r.status == 403
    e = one_entry(h, "/img/cat.png")
    assert e["reason"] == "rewrite"
    assert e["module"] == "mod_rewrite.c"
    assert e["phase"] == "translate_name"
    assert decode(e["directive"]) == HOTLINK_RULE
    assert decode(e["file"]) == h.conf_file
    assert e["line"] == h.conf_line_of(HOTLINK_RULE)
    assert decode(e["section"]) == "server config"
    assert decode(e["rewrite_subject"]) == "/img/cat.png"
    conds = e["conditions"]
    assert [decode(c["directive"]) for c in conds] == [COND_EMPTY, COND_GOOD]
    assert [c["line"] for c in conds] == [h.conf_line_of(COND_EMPTY),
                                          h.conf_line_of(COND_GOOD)]
    assert [decode(c["tested"]) for c in conds] == ["http://evil.example/page"] * 2
    assert [c["result"] for c in conds] == [True, True]
    assert "[F]" in decode(e["detail"])


def test_allowed_referer_writes_nothing(h):
    before = len(h.entries())
    r = h.get("/img/cat.png", headers={"Referer": "https://www.good.example/x"})
    assert r.status == 200
    r = h.get("/img/cat.png")      # no Referer: first condition fails
    assert r.status == 200
    assert len(h.entries()) == before


def test_status_flag_r403(h):
    r = h.get("/srvforbid/page")
    assert r.status == 403
    e = one_entry(h, "/srvforbid/page")
    assert e["reason"] == "rewrite"
    assert decode(e["directive"]) == "RewriteRule ^/srvforbid - [R=403]"
    assert e["line"] == h.conf_line_of("RewriteRule ^/srvforbid")
    assert e["conditions"] == []
    assert "[R=403]" in decode(e["detail"])


def test_htaccess_rule_in_fixups(h):
    r = h.get("/rw/secret/x.html", headers={"X-Token": "nope"})
    assert r.status == 403
    r2 = h.get("/rw/secret/x.html", headers={"X-Token": "letmein"})
    assert r2.status == 200
    e = one_entry(h, "/rw/secret/x.html")
    assert e["reason"] == "rewrite"
    assert e["module"] == "mod_rewrite.c"
    assert e["phase"] == "fixups"
    assert decode(e["directive"]) == "RewriteRule ^secret/ - [F]"
    assert decode(e["file"]) == h.docroot + "/rw/.htaccess"
    assert e["line"] == 4
    assert decode(e["section"]) == ".htaccess of %s/rw/" % h.docroot
    assert decode(e["rewrite_subject"]) == "secret/x.html"
    (c,) = e["conditions"]
    assert decode(c["directive"]) == "RewriteCond %{HTTP:X-Token} !=letmein"
    assert c["line"] == 3
    assert decode(c["tested"]) == "nope"
    assert c["result"] is True


def test_directory_rule_after_rewrite(h):
    """The per-dir prefix is stripped, an earlier rule rewrites old/ to new/
    and the [F] rule after it fires only with its query-string condition."""
    r = h.get("/dirrule/old/a.html?debug=1")
    assert r.status == 403
    ok = h.get("/dirrule/old/a.html")
    assert ok.status == 200 and ok.body == b"a"
    e = one_entry(h, "/dirrule/old/a.html")
    assert e["phase"] == "fixups"
    assert decode(e["directive"]) == "RewriteRule ^new/ - [F]"
    assert e["line"] == h.conf_line_of("RewriteRule ^new/ - [F]")
    assert decode(e["section"]).startswith("<Directory %s/dirrule>" % h.docroot)
    assert decode(e["rewrite_subject"]) == "new/a.html"
    (c,) = e["conditions"]
    assert decode(c["tested"]) == "debug=1"


def test_ah00670_followsymlinks_off(h):
    r = h.get("/nosym/x")
    assert r.status == 403
    e = one_entry(h, "/nosym/x")
    assert e["reason"] == "rewrite"
    assert e["phase"] == "fixups"
    assert e["ah"] == "AH00670"
    assert decode(e["directive"]) == "RewriteEngine On"
    lines = open(h.conf_file).read().split("\n")
    nosym = lines.index("<Directory %s/nosym>" % h.docroot)
    assert e["line"] == nosym + 3
    assert "SymLinksIfOwnerMatch" in decode(e["hint"])


def test_ah10508_unsafe_qmark(h):
    r = h.get("/q/a%3fb")
    assert r.status == 403
    e = one_entry(h, "/q/a?b")
    assert e["reason"] == "rewrite"
    assert e["phase"] == "translate_name"
    assert decode(e["directive"]) == "RewriteRule ^/q/(.*)$ /target/$1"
    assert e["line"] == h.conf_line_of("RewriteRule ^/q/")
    assert "AH10508" in decode(e["detail"])
    assert "UnsafeAllow3F" in decode(e["hint"])


def test_error_log_has_no_rewrite_trace(h):
    log = h.read_error_log()
    assert "[rewrite:trace" not in log
    # Apache's own AH lines stay as they were.
    assert "AH00670: Options FollowSymLinks and SymLinksIfOwnerMatch" in log


def test_index_subrequest_denied_by_rule(h):
    """mod_dir's index sub-request meets a per-directory [F] rule: the rule
    is named, with the sub-request's URI and mod_dir as the carrier."""
    r = h.get("/idx/")
    assert r.status == 403
    e = one_entry(h, "/idx/")
    assert e["reason"] == "rewrite"
    assert e["module"] == "mod_rewrite.c"
    assert e["phase"] == "fixups"
    assert decode(e["subrequest_uri"]) == "/idx/index.html"
    assert decode(e["via"]).startswith("mod_dir.c")
    assert decode(e["directive"]) == r"RewriteRule ^index\.html$ - [F]"
    assert e["line"] == h.conf_line_of(r"RewriteRule ^index\.html$")
    assert decode(e["rewrite_subject"]) == "index.html"


@pytest.fixture(scope="module")
def vh():
    """Rules in the main server and in a virtual host that inherits them."""
    h = harness.Httpd(name="rewrite-vh")
    h.conf("RewriteEngine On")
    h.conf("RewriteRule ^/main-only - [F]")
    h.conf("<VirtualHost 127.0.0.1:{port}>\n"
           "    ServerName vh.example\n"
           "    RewriteEngine On\n"
           "    RewriteOptions Inherit\n"
           "    RewriteRule ^/vh-only - [F]\n"
           "</VirtualHost>")
    h.start()
    yield h
    h.cleanup()


def test_vhost_rule_and_inherited_main_rule(vh):
    assert vh.get("/vh-only").status == 403
    assert vh.get("/main-only").status == 403
    assert vh.get("/neither").status == 404
    e = one_entry(vh, "/vh-only")
    assert e["phase"] == "translate_name"
    assert decode(e["directive"]) == "RewriteRule ^/vh-only - [F]"
    assert e["line"] == vh.conf_line_of("RewriteRule ^/vh-only")
    assert decode(e["section"]).startswith("<VirtualHost 127.0.0.1:%d>" % vh.port)
    # The virtual host's rules come first, the inherited main rules after.
    e = one_entry(vh, "/main-only")
    assert decode(e["directive"]) == "RewriteRule ^/main-only - [F]"
    assert e["line"] == vh.conf_line_of("RewriteRule ^/main-only")
    assert decode(e["section"]) == "server config"
    assert vh.entries_for("/neither") == []


def test_htaccess_replay_starts_from_the_name_before_rewriting(h):
    """mod_rewrite leaves r->filename rewritten (x.html) when it returns
    403; replaying from there would name line 2.  The replay starts from
    the name the fixup began with."""
    assert h.get("/rwchain/a.html").status == 403
    e = one_entry(h, "/rwchain/a.html")
    assert e["phase"] == "fixups"
    assert e["line"] == 4
    assert decode(e["directive"]) == "RewriteRule ^x\\.html$ - [F]"
    assert decode(e["rewrite_subject"]) == "x.html"
