"""test_hint_scope.py — a hint is verified only for what the module
re-evaluated: an authorization fix is not claimed to let the request in
when per-directory RewriteRules (which run after authorization) or a
directory without an index still stand between the fix and a 200.  Each
case applies the fix to a copy served by stock httpd to show why."""
import harness
from harness import decode, fixed_copy, one_entry


def _site(make_httpd, extra):
    h = make_httpd(name="scope")
    h.conf('''<Directory "{docroot}/a">
    Require ip 10.9.9.9
%s
</Directory>''' % extra)
    h.write("htdocs/a/x.txt", "x\n")
    h.mkdir("htdocs/a/empty")
    h.start()
    return h


def test_authz_fix_not_verified_past_per_directory_rewrite(make_httpd):
    h = _site(make_httpd, "    RewriteEngine On\n    RewriteRule ^x\\.txt$ - [F]")
    assert h.get("/a/x.txt").status == 403
    e = one_entry(h, "/a/x.txt")
    assert decode(e["directive"]) == "Require ip 10.9.9.9"
    assert e["hint_verified"] is False
    assert "RewriteRules" in decode(e["hint_unverified"])
    b = fixed_copy(h, e["fix"])
    try:
        assert b.get("/a/x.txt").status == 403   # the rewrite rule still denies
    finally:
        b.cleanup()


def test_authz_fix_verified_where_nothing_follows(make_httpd):
    h = _site(make_httpd, "")
    assert h.get("/a/x.txt").status == 403
    e = one_entry(h, "/a/x.txt")
    assert e["hint_verified"] is True, e
    b = fixed_copy(h, e["fix"])
    try:
        assert b.get("/a/x.txt").status == 200
    finally:
        b.cleanup()


def test_authz_fix_not_verified_for_a_directory_without_index(make_httpd):
    h = _site(make_httpd, "    Options -Indexes")
    assert h.get("/a/empty/").status == 403
    e = one_entry(h, "/a/empty/")
    assert e["hint_verified"] is False
    assert "index" in decode(e["hint_unverified"])
    b = fixed_copy(h, e["fix"])
    try:
        assert b.get("/a/empty/").status == 403   # no index, no listing
    finally:
        b.cleanup()
