"""test_hints_real2.py — issue 13, what remained: hints an administrator can
follow blindly.  For each 403 the entry's machine-readable "fix" is applied
mechanically (harness.fixed_copy) to a copy of the site served by STOCK
httpd: the request must then be allowed whenever hint_verified is true, and
no applied fix may let a different protected request of the same site
through (a dotfile, a backup, a VCS file, another client, a path outside
the requested directory).

* deliberate protections (Debian's <FilesMatch "^\\.ht">, a backup/dump
  FilesMatch inside an address-restricted directory, a .git DirectoryMatch)
  get a narrow exemption for the one URL that restates the Require lines the
  protection replaced, never its removal."""
import pytest

import harness
from harness import decode, fixed_copy, one_entry

PROTECT = r'''
# Debian's apache2.conf
<FilesMatch "^\.ht">
    Require all denied
</FilesMatch>
<Directory "{docroot}/priv">
    Require ip 127.0.0.1
    <FilesMatch "\.(bak|sql)$">
        Require all denied
    </FilesMatch>
</Directory>
<DirectoryMatch "/\.git">
    Require all denied
</DirectoryMatch>
'''


@pytest.fixture(scope="module")
def prot():
    h = harness.Httpd("hr2prot")
    h.conf(PROTECT)
    for f in ("htdocs/.htaccess", "htdocs/.htpasswd", "htdocs/priv/x.txt",
              "htdocs/priv/dump.sql", "htdocs/priv/other.sql",
              "htdocs/priv/sub/dump.sql", "htdocs/priv/.htaccess",
              "htdocs/.git/config", "htdocs/.git/HEAD", "htdocs/x.txt"):
        h.write(f, "x\n")
    h.start()
    yield h
    h.cleanup()


def entry(h, uri, **kw):
    r, e = harness.response_and_entry(h, lambda: h.get(uri, **kw))
    assert r.status == 403 and e is not None, (uri, r.status)
    return e


# every protected request of the protection site, with its client
PROTECTED = [("/.htaccess", "127.0.0.1"), ("/.htpasswd", "127.0.0.1"),
             ("/priv/.htaccess", "127.0.0.1"), ("/priv/dump.sql", "127.0.0.1"),
             ("/priv/dump.sql", "127.0.0.2"), ("/priv/other.sql", "127.0.0.1"),
             ("/priv/sub/dump.sql", "127.0.0.1"), ("/priv/x.txt", "127.0.0.2"),
             ("/.git/config", "127.0.0.1"), ("/.git/HEAD", "127.0.0.1")]


def check_fix(h, e, uri, source="127.0.0.1", protected=PROTECTED):
    """Apply e's fix to a stock copy: uri allowed when verified, every
    other protected request still denied."""
    b = fixed_copy(h, e["fix"])
    try:
        status = b.get(uri, source=source).status
        if e["hint_verified"] is True:
            assert status == 200, (uri, e)
        for other, src in protected:
            if (other, src) != (uri, source):
                assert b.get(other, source=src).status == 403, (uri, other, src)
    finally:
        b.cleanup()


@pytest.mark.parametrize("uri,prot_name,restated", [
    ("/.htaccess", "dotfiles", "Require all granted"),
    ("/priv/dump.sql", "backup", "Require ip 127.0.0.1"),
    ("/.git/config", "vcs", "Require all granted")])
def test_protection_exempts_this_url_only(prot, uri, prot_name, restated):
    e = entry(prot, uri)
    assert decode(e["directive"]) == "Require all denied"
    assert decode(e["protection"]) == prot_name
    hint = decode(e["hint"])
    assert "works as intended" in hint and "do not remove" in hint
    assert "If this URL should be served" in hint
    (op,) = e["fix"]
    assert op["op"] == "append"
    assert decode(op["text"]) == '<Location %s>\n    %s\n</Location>' % (
        uri, restated)
    assert e["hint_verified"] is True, e
    check_fix(prot, e, uri)
