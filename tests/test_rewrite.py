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


# --- issue 12: the replay starts from what mod_rewrite saw -----------------

ENV_RULES = [
    r"RewriteCond %{ENV:flag} =1",
    r"RewriteRule ^/x\.txt$ - [F]",
    r"RewriteRule ^/x\.txt$ - [E=flag:1]",
    r"RewriteRule ^/x(\.)txt$ - [F]",
]
QS_RULES = [
    r"RewriteCond %{QUERY_STRING} ^x=1$",
    r"RewriteRule ^/a$ - [F]",
    r"RewriteRule ^/a$ /a?x=1",
    r"RewriteRule ^/(a)$ - [F]",
]


@pytest.fixture(scope="module")
def inh():
    """The issue's configurations, each in its own place of one server."""
    h = harness.Httpd(name="rewrite-inh")
    d = h.docroot
    raw_conf(h, "RewriteEngine On\n" + "\n".join(ENV_RULES + QS_RULES))
    # 1) InheritBefore parent, child with only RewriteEngine On and a rule
    raw_conf(h, "<Directory %s/p>\n  RewriteEngine On\n"
             "  RewriteOptions InheritBefore\n"
             "  RewriteRule ^(x)\\.txt$ - [F]\n</Directory>\n"
             "<Directory %s/p/q>\n  RewriteEngine On\n"
             "  RewriteRule ^x\\.txt$ - [F]\n</Directory>" % (d, d))
    # 2) InheritDown parent + child InheritBefore: parent's rules come after
    raw_conf(h, "<Directory %s/dn>\n  RewriteEngine On\n"
             "  RewriteOptions InheritDown\n"
             "  RewriteRule ^(x)\\.txt$ - [F]\n</Directory>\n"
             "<Directory %s/dn/c>\n  RewriteEngine On\n"
             "  RewriteOptions InheritBefore\n"
             "  RewriteRule ^x\\.txt$ - [F]\n</Directory>" % (d, d))
    # 3) InheritDownBefore on a <Directory> reaches the .htaccess there
    raw_conf(h, "<Directory %s/db>\n  AllowOverride FileInfo\n"
             "  RewriteEngine On\n  RewriteOptions InheritDownBefore\n"
             "  RewriteRule ^(x)\\.txt$ - [F]\n</Directory>" % d)
    h.write("htdocs/db/.htaccess", "RewriteEngine On\nRewriteRule ^x\\.txt$ - [F]\n")
    # 4) plain Inherit: the child's rules first, the parent's after them
    raw_conf(h, "<Directory %s/pi>\n  RewriteEngine On\n"
             "  RewriteRule ^(x)\\.txt$ - [F,NC]\n</Directory>\n"
             "<Directory %s/pi/q>\n  RewriteEngine On\n"
             "  RewriteOptions Inherit\n"
             "  RewriteRule ^y\\.txt$ - [F]\n</Directory>" % (d, d))
    # 5) mod_dir's index sub-request: REQUEST_URI is the sub-request's
    raw_conf(h, "<Directory %s/idx2>\n  RewriteEngine On\n"
             "  RewriteCond %%{REQUEST_URI} index\\.html$\n"
             "  RewriteRule ^ - [F]\n</Directory>" % d)
    # 6) after the internal redirect of a per-dir rewrite
    raw_conf(h, "<Directory %s/ir>\n  RewriteEngine On\n"
             "  RewriteRule ^a\\.txt$ b.txt [L]\n"
             "  RewriteCond %%{REQUEST_URI} ^/ir/b\\.txt$\n"
             "  RewriteRule ^b\\.txt$ - [F]\n</Directory>" % d)
    # 7) a query string with a space (AH10410 server, AH10411 per-dir) and
    # [P] without mod_proxy (AH00669 server, AH10160 per-dir)
    raw_conf(h, "RewriteRule ^/sp/(.*)$ /t?q=$1\n"
             "RewriteRule ^/px/(.*)$ http://127.0.0.1:9/$1 [P]\n"
             "<Directory %s/dsp>\n  RewriteEngine On\n"
             "  RewriteRule ^(.*)\\.txt$ /t?q=$1\n"
             "  RewriteRule ^dpx/(.*)$ http://127.0.0.1:9/$1 [P]\n"
             "</Directory>" % d)
    for f in ("x.txt", "p/q/x.txt", "dn/c/x.txt", "db/x.txt", "pi/q/x.txt", "a",
              "idx2/index.html", "ir/a.txt", "ir/b.txt", "dsp/a b.txt"):
        h.write("htdocs/" + f, "x")
    h.start()
    yield h
    h.cleanup()


def _section_line(h, text):
    return h.conf_line_of(text)


def test_env_flag_set_by_an_earlier_rule(inh):
    """[E=] then [F]: the fourth line's rule fires (the flag was not set
    when the first rule's condition was tested)."""
    assert inh.get("/x.txt").status == 403
    e = one_entry(inh, "/x.txt")
    assert decode(e["directive"]) == ENV_RULES[3]
    assert e["line"] == inh.conf_line_of(ENV_RULES[3])
    assert e["conditions"] == []
    assert "held" not in decode(e["detail"])


def test_rewritten_query_string(inh):
    assert inh.get("/a?y=2").status == 403
    e = one_entry(inh, "/a")
    assert decode(e["directive"]) == QS_RULES[3]
    assert e["line"] == inh.conf_line_of(QS_RULES[3])
    assert e["conditions"] == []


def test_rewritten_query_string_first_rule_when_it_holds(inh):
    """Control: with x=1 sent, the first rule's condition holds."""
    r, e = harness.response_and_entry(inh, lambda: inh.get("/a?x=1"))
    assert r.status == 403
    assert decode(e["directive"]) == QS_RULES[1]
    (c,) = e["conditions"]
    assert decode(c["tested"]) == "x=1" and c["result"] is True


def test_inheritbefore_parent_plain_child(inh):
    """A child without RewriteOptions inherits the parent's InheritBefore:
    the parent's rule runs first and fires."""
    assert inh.get("/p/q/x.txt").status == 403
    e = one_entry(inh, "/p/q/x.txt")
    assert decode(e["directive"]) == r"RewriteRule ^(x)\.txt$ - [F]"
    lines = open(inh.conf_file).read().split("\n")
    assert lines[e["line"] - 1].strip() == r"RewriteRule ^(x)\.txt$ - [F]"
    assert decode(e["section"]).startswith("<Directory %s/p>" % inh.docroot)


def test_inheritdown_parent_inheritbefore_child(inh):
    """httpd puts the parent's rules after the child's here: the child's
    rule fires."""
    assert inh.get("/dn/c/x.txt").status == 403
    e = one_entry(inh, "/dn/c/x.txt")
    assert decode(e["directive"]) == r"RewriteRule ^x\.txt$ - [F]"
    assert decode(e["section"]).startswith("<Directory %s/dn/c>" % inh.docroot)


def test_inheritdownbefore_reaches_htaccess(inh):
    assert inh.get("/db/x.txt").status == 403
    e = one_entry(inh, "/db/x.txt")
    assert decode(e["directive"]) == r"RewriteRule ^(x)\.txt$ - [F]"
    assert decode(e["file"]) == inh.conf_file
    assert decode(e["section"]).startswith("<Directory %s/db>" % inh.docroot)


def test_plain_inherit_names_the_parent_rule(inh):
    """Plain Inherit: the child's rules first, then the parent's, matched
    against the path below the child's directory."""
    assert inh.get("/pi/q/x.txt").status == 403
    e = one_entry(inh, "/pi/q/x.txt")
    assert decode(e["directive"]) == r"RewriteRule ^(x)\.txt$ - [F,NC]"
    assert decode(e["section"]).startswith("<Directory %s/pi>" % inh.docroot)
    assert decode(e["rewrite_subject"]) == "x.txt"


def test_index_subrequest_sees_its_own_uri(inh):
    assert inh.get("/idx2/").status == 403
    e = one_entry(inh, "/idx2/")
    assert decode(e["subrequest_uri"]) == "/idx2/index.html"
    assert decode(e["directive"]) == "RewriteRule ^ - [F]"
    (c,) = e["conditions"]
    assert decode(c["tested"]) == "/idx2/index.html"


def test_after_internal_redirect(inh):
    assert inh.get("/ir/a.txt").status == 403
    e = one_entry(inh, "/ir/a.txt")
    assert decode(e["directive"]) == r"RewriteRule ^b\.txt$ - [F]"
    (c,) = e["conditions"]
    assert decode(c["tested"]) == "/ir/b.txt"


def test_ah10410_space_in_rewritten_query(inh):
    assert inh.get("/sp/a%20b").status == 403
    e = one_entry(inh, "/sp/a b")
    assert e["ah"] == "AH10410"
    assert decode(e["directive"]) == "RewriteRule ^/sp/(.*)$ /t?q=$1"
    assert e["line"] == inh.conf_line_of("RewriteRule ^/sp/")
    assert decode(e["rewritten_query"]) == "q=a b"
    assert "[B]" in decode(e["hint"])
    assert e["hint_verified"] is False and decode(e["hint_unverified"])


def test_ah10411_space_in_rewritten_query_perdir(inh):
    assert inh.get("/dsp/a%20b.txt").status == 403
    e = one_entry(inh, "/dsp/a b.txt")
    assert e["ah"] == "AH10411"
    assert e["phase"] == "fixups"
    assert decode(e["directive"]) == r"RewriteRule ^(.*)\.txt$ /t?q=$1"
    assert decode(e["rewritten_query"]) == "q=a b"


def test_ah00669_proxy_flag_without_mod_proxy(inh):
    assert inh.get("/px/z").status == 403
    e = one_entry(inh, "/px/z")
    assert e["ah"] == "AH00669"
    assert decode(e["directive"]).startswith("RewriteRule ^/px/(.*)$")
    assert "mod_proxy" in decode(e["hint"])


def test_ah10160_proxy_flag_without_mod_proxy_perdir(inh):
    inh.write("htdocs/dsp/dpx/z", "z")
    assert inh.get("/dsp/dpx/z").status == 403
    e = one_entry(inh, "/dsp/dpx/z")
    assert e["ah"] == "AH10160"
    assert decode(e["directive"]).startswith("RewriteRule ^dpx/(.*)$")


# --- issue 13: hints about the rule at hand, verified fixes -----------------

def apply_fix(fix):
    """Apply the entry's fix ops to the files they name, in order."""
    for op in fix:
        path = decode(op["file"])
        if op["op"] == "insert":
            with open(path) as f:
                lines = f.read().split("\n")
            lines[op["after_line"]:op["after_line"]] = decode(op["text"]).split("\n")
            with open(path, "w") as f:
                f.write("\n".join(lines))
        else:
            raise AssertionError("unexpected op %r" % op)


def restart_stock_with_fix(h, fix):
    """Stop h, apply fix to its configuration, and start the same
    configuration on stock httpd (the module's LoadModule line commented
    out, so every line keeps its number)."""
    import subprocess
    h.stop()
    apply_fix(fix)
    with open(h.conf_file) as f:
        text = f.read()
    text = text.replace("LoadModule forbidden_explain_module",
                        "#LoadModule forbidden_explain_module")
    with open(h.conf_file, "w") as f:
        f.write(text)
    p = subprocess.run([harness.APACHE, "-f", h.conf_file, "-k", "start"],
                       capture_output=True, text=True,
                       env=harness.httpd_env(h.env))
    assert p.returncode == 0, p.stdout + p.stderr + h.read_error_log()
    h._wait_up()
    h.started = True


PROTECT_RULES = [
    r"RewriteCond %{HTTP_REFERER} !^$",
    r"RewriteCond %{HTTP_REFERER} !^https?://(www\.)?good\.example/ [NC]",
    r"RewriteRule \.(png|jpe?g)$ - [F,NC]",
    r"RewriteRule (^|/)\. - [F]",
    # a bad-bot list the way such lists are written: one [OR] per agent
    r"RewriteCond %{HTTP_USER_AGENT} zgrab [NC,OR]",
    r"RewriteCond %{HTTP_USER_AGENT} masscan [NC]",
    r"RewriteRule ^/bots/ - [F]",
    r"RewriteRule \.bak$ - [F]",
    r"RewriteRule ^/old/ - [F]",
]


def protect_site(name):
    h = harness.Httpd(name=name)
    raw_conf(h, "RewriteEngine On\n" + "\n".join(PROTECT_RULES))
    for f in ("img/cat.png", "site/.env", "site/.git/config", "bots/x.txt",
              "old/x.bak", "old/y.bak", "z.bak", "old/ok.txt"):
        h.write("htdocs/" + f, "x")
    h.start()
    return h


@pytest.fixture
def site():
    h = protect_site("rewrite-hint")
    yield h
    h.cleanup()


def test_no_generic_tail_and_protections_named(site):
    h = site
    cases = [("/img/cat.png", {"Referer": "http://evil.example/p"}, "hotlink"),
             ("/site/.env", {}, "dotfiles"),
             ("/bots/x.txt", {"User-Agent": "zgrab/0.1"}, "bad-bot"),
             ("/z.bak", {}, "backup")]
    for uri, hdrs, prot in cases:
        r, e = harness.response_and_entry(h, lambda: h.get(uri, headers=hdrs))
        assert r.status == 403, uri
        hint = decode(e["hint"])
        assert "for hotlink rules" not in hint
        assert e["protection"] == prot, (uri, e)
        assert "works as intended" in hint and "do not remove" in hint
        # server-context rules run before authorization, which the replay
        # does not cover: the fix is checked for mod_rewrite only
        assert e["hint_verified"] is False and "authorization" in decode(e["hint_unverified"])
        assert "%s:%d" % (h.conf_file, e["line"]) in hint


def test_hotlink_fix_allows_that_site_only(site):
    h = site
    r, e = harness.response_and_entry(
        h, lambda: h.get("/img/cat.png", headers={"Referer": "http://evil.example/p"}))
    assert r.status == 403
    assert e["protection"] == "hotlink"
    assert e["hint_verified"] is False and "authorization" in decode(e["hint_unverified"])
    (op,) = e["fix"]
    assert decode(op["text"]).startswith("RewriteCond %{HTTP_REFERER} !^https?://evil")
    assert op["after_line"] == h.conf_line_of(PROTECT_RULES[0]) - 1
    restart_stock_with_fix(h, e["fix"])
    assert h.get("/img/cat.png", headers={"Referer": "http://evil.example/p"}).status == 200
    # another site still may not embed the image; the other protections hold
    assert h.get("/img/cat.png", headers={"Referer": "http://other.example/"}).status == 403
    assert h.get("/site/.env").status == 403


def test_dotfile_fix_exempts_exactly_the_url(site):
    h = site
    r, e = harness.response_and_entry(h, lambda: h.get("/site/.env"))
    assert e["protection"] == "dotfiles"
    assert decode(e["directive"]) == PROTECT_RULES[3]
    (b,) = e["blockers"]
    assert b["line"] == e["line"] and b["mechanism"] == "mod_rewrite"
    (op,) = e["fix"]
    assert decode(op["text"]) == "RewriteCond %{REQUEST_URI} !=/site/.env"
    restart_stock_with_fix(h, e["fix"])
    assert h.get("/site/.env").status == 200
    assert h.get("/site/.git/config").status == 403
    assert h.get("/z.bak").status == 403


def test_bot_fix_exempts_exactly_the_agent(site):
    h = site
    r, e = harness.response_and_entry(
        h, lambda: h.get("/bots/x.txt", headers={"User-Agent": "zgrab/0.1 (scan)"}))
    assert e["protection"] == "bad-bot"
    (op,) = e["fix"]
    assert decode(op["text"]) == 'RewriteCond %{HTTP_USER_AGENT} "!=zgrab/0.1 (scan)"'
    # above the rule's first condition, so the [OR] chain is not joined
    assert op["after_line"] == h.conf_line_of(PROTECT_RULES[4]) - 1
    restart_stock_with_fix(h, e["fix"])
    assert h.get("/bots/x.txt", headers={"User-Agent": "zgrab/0.1 (scan)"}).status == 200
    assert h.get("/bots/x.txt", headers={"User-Agent": "zgrab/0.2"}).status == 403
    assert h.get("/bots/x.txt", headers={"User-Agent": "masscan"}).status == 403


def test_two_rules_deny_both_named_and_fixed(site):
    h = site
    r, e = harness.response_and_entry(h, lambda: h.get("/old/x.bak"))
    assert r.status == 403
    assert decode(e["directive"]) == PROTECT_RULES[7]
    bl = e["blockers"]
    assert [decode(b["directive"]) for b in bl] == [PROTECT_RULES[7], PROTECT_RULES[8]]
    assert [b["line"] for b in bl] == [h.conf_line_of(PROTECT_RULES[7]),
                                       h.conf_line_of(PROTECT_RULES[8])]
    hint = decode(e["hint"])
    assert hint.startswith("2 rewrite rules deny this request: 1) ")
    assert e["hint_verified"] is False and "authorization" in decode(e["hint_unverified"])
    assert len(e["fix"]) == 2
    # bottom-up, so the first insert does not move the second's line
    assert e["fix"][0]["after_line"] > e["fix"][1]["after_line"]
    restart_stock_with_fix(h, e["fix"])
    assert h.get("/old/x.bak").status == 200
    assert h.get("/old/y.bak").status == 403
    assert h.get("/z.bak").status == 403


# --- what the replay can and cannot know ------------------------------------

@pytest.fixture(scope="module")
def maps():
    h = harness.Httpd(name="rewrite-maps")
    h.write("conf/deny.map", "# key value\nbob deny\nalice allow\n")
    raw_conf(h, "RewriteEngine On\n"
             "RewriteMap lc int:tolower\n"
             "RewriteMap t txt:%s/conf/deny.map\n"
             "RewriteMap p prg:/bin/cat\n"
             "RewriteCond ${lc:%%{HTTP:X-Who}} =admin\n"
             "RewriteRule ^/mapint - [F]\n"
             "RewriteCond ${t:%%{HTTP:X-Who}|none} =deny\n"
             "RewriteRule ^/maptxt - [F]\n"
             "RewriteCond ${p:%%{HTTP:X-Who}} =x\n"
             "RewriteRule ^/mapprg - [F]\n"
             "RewriteCond %%{TIME_HOUR} >00\n"
             "RewriteRule ^/time - [F]\n" % h.root)
    h.start()
    yield h
    h.cleanup()


def test_int_and_txt_maps_are_replayed(maps):
    h = maps
    r, e = harness.response_and_entry(h, lambda: h.get("/mapint", headers={"X-Who": "ADMIN"}))
    assert r.status == 403
    assert decode(e["directive"]) == "RewriteRule ^/mapint - [F]"
    assert decode(e["conditions"][0]["tested"]) == "admin"
    r, e = harness.response_and_entry(h, lambda: h.get("/maptxt", headers={"X-Who": "bob"}))
    assert r.status == 403
    assert decode(e["directive"]) == "RewriteRule ^/maptxt - [F]"
    assert decode(e["conditions"][0]["tested"]) == "deny"
    r, e = harness.response_and_entry(h, lambda: h.get("/maptxt", headers={"X-Who": "carol"}))
    assert r.status == 404 and e is None


def test_prg_map_and_time_cannot_be_told(maps):
    h = maps
    r, e = harness.response_and_entry(h, lambda: h.get("/mapprg", headers={"X-Who": "x"}))
    assert r.status == 403
    assert "directive" not in e
    assert e["module"] == "mod_rewrite.c" and e["phase"] == "translate_name"
    d = decode(e["detail"])
    assert "prg:/bin/cat" in d and "external program" in d
    r, e = harness.response_and_entry(h, lambda: h.get("/time"))
    if r.status == 403:         # any hour but 00
        assert "directive" not in e
        assert "%{TIME_HOUR}" in decode(e["detail"])


# h5bp's server-configs-apache block for hidden files, as shipped
H5BP_DOTFILES = r'''<IfModule mod_rewrite.c>
    RewriteEngine On
    RewriteCond %{REQUEST_URI} "!(^|/)\.well-known/([^./]+./?)+$" [NC]
    RewriteCond %{SCRIPT_FILENAME} -d [OR]
    RewriteCond %{SCRIPT_FILENAME} -f
    RewriteRule "(^|/)\." - [F]
</IfModule>
'''


def test_h5bp_dotfiles_block_in_htaccess():
    h = harness.Httpd(name="rewrite-h5bp")
    try:
        h.conf("<Directory {docroot}/site>\n    AllowOverride All\n</Directory>")
        h.write("htdocs/site/.htaccess", H5BP_DOTFILES)
        for f in (".git/config", ".git/HEAD", ".env", ".well-known/x.txt", "ok.txt"):
            h.write("htdocs/site/" + f, "x")
        h.start()
        assert h.get("/site/.well-known/x.txt").status == 200
        r, e = harness.response_and_entry(h, lambda: h.get("/site/.git/config"))
        assert r.status == 403
        assert e["phase"] == "fixups"
        assert decode(e["directive"]) == r'RewriteRule "(^|/)\." - [F]'
        assert decode(e["file"]) == h.docroot + "/site/.htaccess" and e["line"] == 6
        assert e["protection"] == "dotfiles"
        # -d fails, so the [OR] chain goes on to -f
        assert [(c["line"], c["result"]) for c in e["conditions"]] == [
            (3, True), (4, False), (5, True)]
        assert "works as intended" in decode(e["hint"])
        assert e["hint_verified"] is True
        (op,) = e["fix"]
        assert decode(op["file"]) == h.docroot + "/site/.htaccess"
        assert op["after_line"] == 2
        restart_stock_with_fix(h, e["fix"])
        assert h.get("/site/.git/config").status == 200
        for other in ("/site/.git/HEAD", "/site/.env", "/site/.htaccess"):
            assert h.get(other).status == 403, other
        assert h.get("/site/.well-known/x.txt").status == 200
    finally:
        h.cleanup()
