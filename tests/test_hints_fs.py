"""test_hints_fs.py — filesystem hints applied as written (issue 13).

For each filesystem kind of 403 (no search permission, no read permission,
a file of secrets, an unreadable index and .htaccess, symlinks, ExecCGI, an
upload directory kept from executing code) a site is served with the module
loaded; the entry's machine-readable "fix" is then applied mechanically to a
copy of the site (its "run" argv steps executed, its "insert"/"append"
edits made to the copied configuration and .htaccess files), a stock httpd
(no module) is started on the copy and the request is sent again:

  * whenever the entry says "hint_verified": true, the request is allowed;
  * the applied fix lets no other protected request of the same site
    through: a sibling secret file, another script of the upload directory,
    a path outside the requested directory, h5bp's dotfile and backup rules.

Third-party layouts used as shipped:
  * tests/data/third_party/h5bp-file_access.conf — h5bp/server-configs-apache
    (MIT), see tests/data/third_party/h5bp-NOTE;
  * WORDFENCE_UPLOADS below — the .htaccess the Wordfence plugin writes into
    wp-content/uploads when "disable code execution for uploads" is on (the
    $_disable_scripts_htaccess text of its lib/wfConfig.php, Wordfence 7.x);
  * ISSUE_UPLOADS — the two lines security plugins and guides commonly put
    there, as quoted in issue 13.
"""
import os
import shutil
import subprocess

import pytest

import harness
from harness import decode, fixed_copy, one_entry, response_and_entry

pytestmark = pytest.mark.skipif(not harness.RUN_AS_ROOT,
                                reason="needs root: chown and User www-data")

HERE = os.path.dirname(os.path.abspath(__file__))
H5BP = os.path.join(HERE, "data", "third_party", "h5bp-file_access.conf")

WORDFENCE_UPLOADS = """# BEGIN Wordfence code execution protection
<IfModule mod_php5.c>
php_flag engine 0
</IfModule>
<IfModule mod_php7.c>
php_flag engine 0
</IfModule>
<IfModule mod_php.c>
php_flag engine 0
</IfModule>

AddHandler cgi-script .php .phtml .php3 .pl .py .jsp .asp .htm .shtml .sh .cgi
Options -ExecCGI
# END Wordfence code execution protection
"""

ISSUE_UPLOADS = """AddHandler cgi-script .php .pl .py .jsp .asp .sh .cgi
Options -ExecCGI
"""

SHELL = "<?php system($_GET['c']); ?>\n"
CGI = "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho hi\n"


@pytest.fixture(scope="module")
def site():
    h = harness.Httpd(name="hintfs", extra_modules=["cgid"])
    d = h.docroot
    h.conf("AddHandler cgi-script .cgi")
    h.conf("<Directory {docroot}/cgi>\n    Options -ExecCGI\n</Directory>")
    h.conf("<Directory {docroot}/wp-content/uploads>\n    AllowOverride All\n"
           "</Directory>")
    h.conf("<Directory {docroot}/plain/uploads>\n    AllowOverride All\n"
           "</Directory>")
    h.conf("<Directory {docroot}/h5bp>\n    Include {root}/conf/h5bp.conf\n"
           "</Directory>")
    shutil.copy(H5BP, os.path.join(h.conf_dir, "h5bp.conf"))
    h.conf("<Directory {docroot}/nosym>\n    Options -FollowSymLinks\n"
           "</Directory>")

    # a root-owned 0700 directory on the path, and another one beside it
    h.mkdir("htdocs/perm", 0o755)
    h.mkdir("htdocs/perm/nosearch", 0o700, ("root", "root"))
    h.write("htdocs/perm/nosearch/inner/index.html", "inner\n")
    os.chmod(os.path.join(d, "perm/nosearch"), 0o700)
    h.mkdir("htdocs/perm/other", 0o700, ("root", "root"))
    h.write("htdocs/perm/other/x.html", "other\n")
    os.chmod(os.path.join(d, "perm/other"), 0o700)
    # two blockers on one path: the directory, then the file
    h.mkdir("htdocs/twostep", 0o700, ("root", "root"))
    h.write("htdocs/twostep/f.txt", "f\n", 0o600, ("root", "root"))
    os.chmod(os.path.join(d, "twostep"), 0o700)
    # WordPress's wp-config.php, 0600 root, and a sibling .env
    h.write("htdocs/wp/wp-config.php", "<?php define('DB_PASSWORD', 's');\n",
            0o600, ("root", "root"))
    h.write("htdocs/wp/.env", "DB_PASSWORD=s\n", 0o600, ("root", "root"))
    # a 0640 file whose group (staff) reads it: a chgrp would take that
    # access away
    h.write("htdocs/drupal/sites/default/settings.php", "<?php $db = 1;\n",
            0o640, ("root", "staff"))
    # an unreadable index behind a directory URL; an unreadable .htaccess
    h.write("htdocs/idx/index.html", "idx\n", 0o000, ("root", "root"))
    h.conf("<Directory {docroot}/ht>\n    AllowOverride All\n</Directory>")
    h.write("htdocs/ht/.htaccess", "Options +Indexes\n", 0o000)
    h.write("htdocs/ht/page.html", "page\n")
    # CGI with ExecCGI off, one script also lacking x for the server
    h.write("htdocs/cgi/t.cgi", CGI, 0o755)
    h.write("htdocs/cgi/u.cgi", CGI, 0o755)
    h.write("htdocs/cgi/noexec.cgi", CGI, 0o644)
    # WordPress uploads protected the way Wordfence does it
    h.write("htdocs/wp-content/uploads/.htaccess", WORDFENCE_UPLOADS)
    for name in ("2024/shell.php", "2024/evil.php", "2023/shell.php"):
        h.write("htdocs/wp-content/uploads/" + name, SHELL)
    h.write("htdocs/wp-content/uploads/2024/x.py", "print(1)\n")
    h.write("htdocs/wp-content/uploads/2024/pic.jpg", "jpeg\n")
    h.write("htdocs/plain/uploads/.htaccess", ISSUE_UPLOADS)
    h.write("htdocs/plain/uploads/shell.php", SHELL)
    # h5bp's protections around an unreadable report and a 0700 directory
    h.write("htdocs/h5bp/index.html", "h5bp\n")
    h.write("htdocs/h5bp/report.txt", "r\n", 0o600, ("root", "root"))
    h.write("htdocs/h5bp/db.sql", "dump\n")
    h.write("htdocs/h5bp/.env", "SECRET=1\n")
    h.write("htdocs/h5bp/index.html~", "old\n")
    h.mkdir("htdocs/h5bp/sub", 0o700, ("root", "root"))
    h.write("htdocs/h5bp/sub/x.html", "x\n")
    h.write("htdocs/h5bp/sub/x.bak", "b\n")
    h.write("htdocs/h5bp/sub/.git/config", "[core]\n")
    os.chmod(os.path.join(d, "h5bp/sub"), 0o700)
    # a symlink where FollowSymLinks is off
    h.write("htdocs/pub/file.txt", "pub\n")
    h.mkdir("htdocs/nosym")
    os.symlink(os.path.join(d, "pub/file.txt"), os.path.join(d, "nosym/link"))
    # a link owned by the server user to root's file: SymLinksIfOwnerMatch
    # keeps refusing it
    os.symlink(os.path.join(d, "pub/file.txt"), os.path.join(d, "nosym/evil"))
    os.lchown(os.path.join(d, "nosym/evil"), *harness.server_ids()[:2])
    # links two levels below the section that turned the options off
    h.conf("<Directory {docroot}/deep>\n    Options -FollowSymLinks\n"
           "</Directory>")
    for sub in ("sub", "other"):
        h.mkdir("htdocs/deep/" + sub)
        os.symlink(os.path.join(d, "pub/file.txt"),
                   os.path.join(d, "deep", sub, "link"))
    # SymLinksIfOwnerMatch: root's link to www-data's file, and www-data's
    # link to root's file
    h.conf("<Directory {docroot}/owner>\n    Options SymLinksIfOwnerMatch\n"
           "</Directory>")
    h.write("htdocs/owner/mine.txt", "mine\n", 0o644,
            (harness.SERVER_USER, harness.SERVER_USER))
    os.symlink(os.path.join(d, "owner/mine.txt"), os.path.join(d, "owner/link"))
    os.symlink(os.path.join(d, "pub/file.txt"), os.path.join(d, "owner/evil"))
    os.lchown(os.path.join(d, "owner/evil"), *harness.server_ids()[:2])
    h.start()
    yield h
    h.cleanup()


# -- applying a fix mechanically: harness.fixed_copy ------------------------

def denied_entry(site, uri):
    """Send uri (which must get 403) and return the one entry it added."""
    r, e = response_and_entry(site, lambda: site.get(uri))
    assert r.status == 403 and e is not None, (uri, r.status)
    return e


def check(site, uri, still_denied=(), allowed_body=None):
    """Request uri on site, apply its entry's fix to a copy, and assert the
    claims: allowed when verified, the protected siblings still denied.
    Returns (entry, status on the fixed copy)."""
    e = denied_entry(site, uri)
    assert "fix" in e, e
    assert isinstance(e["hint_verified"], bool)
    if not e["hint_verified"]:
        assert decode(e["hint_unverified"])
    b = fixed_copy(site, e["fix"])
    try:
        r = b.get(uri)
        if e["hint_verified"]:
            assert r.status == 200, (uri, r.status, e, b.read_error_log())
            if allowed_body is not None:
                # CGI output comes chunked
                assert r.body == allowed_body.encode() or (
                    r.header("Transfer-Encoding") == "chunked"
                    and allowed_body.encode() in r.body), r.body
        for other in still_denied:
            assert b.get(other).status == 403, other
        return e, r.status
    finally:
        b.cleanup()


def never_world_readable(e):
    for step in e["fix"]:
        if step["op"] == "run":
            argv = [decode(x) for x in step["argv"]]
            assert not any(x.startswith(("o+", "a+", "+")) or "777" in x
                           or "o=" in x for x in argv), argv
            assert not any("w" in x for x in argv if x[:2] in ("g+", "g=",
                                                                "u+")), argv


# -- permissions -----------------------------------------------------------

def test_unreadable_secret_gets_group_access_not_world(site):
    f = os.path.join(site.docroot, "wp/wp-config.php")
    e, status = check(site, "/wp/wp-config.php", still_denied=["/wp/.env"],
                      allowed_body="<?php define('DB_PASSWORD', 's');\n")
    assert e["hint_verified"] is True and status == 200
    assert e["fix"] == [{"op": "run", "argv": ["chgrp", "www-data", f]},
                        {"op": "run", "argv": ["chmod", "g+r", f]}]
    hint = decode(e["hint"])
    assert hint.startswith("chgrp www-data %s && chmod g+r %s (" % (f, f))
    assert "chmod o+r %s" % f not in hint.replace("never chmod o+r it", "")
    assert "name wp-config.php" in decode(e["warning"])
    assert "never every local user" in decode(e["warning"])
    never_world_readable(e)
    assert [b["path"] for b in e["blockers"]] == [f]
    assert e["blockers"][0]["mechanism"] == "permission"
    assert "hint_checked" in e


def test_secret_readable_by_its_group_gets_an_acl_entry(site):
    f = os.path.join(site.docroot, "drupal/sites/default/settings.php")
    e, status = check(site, "/drupal/sites/default/settings.php",
                      still_denied=["/wp/.env"])
    assert e["fix"] == [{"op": "run", "argv": ["setfacl", "-m",
                                               "u:www-data:r", f]}]
    assert "group staff keeps its own" in decode(e["hint"])
    assert e["hint_verified"] is True and status == 200
    assert "ACL support" in decode(e["hint_checked"])


def test_fixed_secret_is_not_world_readable(site):
    """The mode the fix leaves: the server's group reads it, others not."""
    e = denied_entry(site, "/wp/wp-config.php")
    b = fixed_copy(site, e["fix"])
    try:
        st = os.stat(os.path.join(b.docroot, "wp/wp-config.php"))
        assert st.st_mode & 0o777 == 0o640
        assert st.st_gid == harness.server_ids()[1]
        assert os.stat(os.path.join(b.docroot, "wp/.env")).st_mode & 0o777 \
            == 0o600
    finally:
        b.cleanup()


def test_unsearchable_directory_fix_is_scoped_to_it(site):
    comp = os.path.join(site.docroot, "perm/nosearch")
    e, status = check(site, "/perm/nosearch/inner/",
                      still_denied=["/perm/other/x.html"])
    assert e["hint_verified"] is False
    assert decode(e["hint_unverified"]).startswith(
        "the components below %s were not examined" % comp)
    # applied anyway, it is enough here
    assert status == 200
    assert e["fix"] == [{"op": "run", "argv": ["chgrp", "www-data", comp]},
                        {"op": "run", "argv": ["chmod", "g+x", comp]}]
    never_world_readable(e)


def test_two_blockers_one_after_the_other(site):
    """A 0700 directory holding a 0600 file: the server cannot see the file
    until the directory is fixed, so the first fix is unverified; applied
    (here, to the site itself), the next entry names the file and its fix
    is verified."""
    d = os.path.join(site.docroot, "twostep")
    assert site.get("/twostep/f.txt").status == 403
    first = one_entry(site, "/twostep/f.txt")
    assert first["hint_verified"] is False
    assert decode(first["path"]) == d
    for step in first["fix"]:
        subprocess.run([decode(x) for x in step["argv"]], check=True)
    before = len(site.entries_for("/twostep/f.txt"))
    assert site.get("/twostep/f.txt").status == 403
    second = site.entries_for("/twostep/f.txt")[before:]
    assert len(second) == 1
    second = second[0]
    assert decode(second["path"]) == os.path.join(d, "f.txt")
    assert second["hint_verified"] is True
    assert "mode 0600" in decode(second["warning"])
    b = fixed_copy(site, second["fix"])
    try:
        assert b.get("/twostep/f.txt").status == 200
    finally:
        b.cleanup()


def test_unreadable_index_behind_directory_url(site):
    assert site.get("/idx/").status == 403
    e = one_entry(site, "/idx/index.html")
    assert e["hint_verified"] is True
    assert "warning" not in e           # mode 0000 says nothing of secrets
    b = fixed_copy(site, e["fix"])
    try:
        assert b.get("/idx/").status == 200
    finally:
        b.cleanup()


def test_unreadable_htaccess_is_not_claimed_verified(site):
    e, status = check(site, "/ht/page.html")
    assert e["hint_verified"] is False
    assert ".htaccess" in decode(e["hint_unverified"])
    assert status == 200


def test_h5bp_protections_survive_permission_fixes(site):
    """h5bp's file_access.conf, as shipped: fixing an unreadable report and
    an unsearchable directory opens neither dotfiles nor backups."""
    e, status = check(site, "/h5bp/report.txt",
                      still_denied=["/h5bp/db.sql", "/h5bp/.env",
                                    "/h5bp/index.html~"])
    assert e["hint_verified"] is True and status == 200
    never_world_readable(e)
    e, status = check(site, "/h5bp/sub/x.html",
                      still_denied=["/h5bp/sub/x.bak", "/h5bp/sub/.git/config",
                                    "/h5bp/db.sql"])
    assert status == 200
    assert e["hint_verified"] is False


# -- ExecCGI and upload directories ---------------------------------------

def test_exec_cgi_fix_enables_this_script_only(site):
    e, status = check(site, "/cgi/t.cgi", still_denied=["/cgi/u.cgi"],
                      allowed_body="hi\n")
    assert e["hint_verified"] is True and status == 200
    assert "protection" not in e
    assert "Options +ExecCGI" in decode(e["hint"])
    (step,) = e["fix"]
    assert step["op"] == "insert"
    assert decode(step["file"]) == site.conf_file
    assert step["after_line"] == site.conf_line_of("Options -ExecCGI")
    assert decode(step["text"]) == ('<Files "t.cgi">\n    Options +ExecCGI\n'
                                    '</Files>')


def test_exec_cgi_and_missing_execute_bit_both_fixed(site):
    f = os.path.join(site.docroot, "cgi/noexec.cgi")
    e, status = check(site, "/cgi/noexec.cgi", still_denied=["/cgi/u.cgi"],
                      allowed_body="hi\n")
    assert e["hint_verified"] is True and status == 200
    assert [b["mechanism"] for b in e["blockers"]] == ["options",
                                                       "permission"]
    assert decode(e["blockers"][1]["path"]) == f
    assert [s["op"] for s in e["fix"]] == ["insert", "run", "run"]
    assert e["fix"][1:] == [{"op": "run", "argv": ["chgrp", "www-data", f]},
                            {"op": "run", "argv": ["chmod", "g+x", f]}]
    never_world_readable(e)


def test_wordfence_uploads_protection_works_as_intended(site):
    uri = "/wp-content/uploads/2024/shell.php"
    ht = os.path.join(site.docroot, "wp-content/uploads/.htaccess")
    e, status = check(site, uri, still_denied=[
        "/wp-content/uploads/2024/evil.php", "/wp-content/uploads/2024/x.py",
        # the same name in another directory of the uploads
        "/wp-content/uploads/2023/shell.php"],
        allowed_body=SHELL)
    assert e["reason"] == "exec-cgi"
    assert e["protection"] == "upload-noexec"
    hint = decode(e["hint"])
    assert hint.startswith("This works as intended")
    assert "+ExecCGI" not in hint and "Add Options" not in hint
    assert "never enable ExecCGI" in hint
    # both lines of the protection named
    assert [b["mechanism"] for b in e["blockers"]] == ["options",
                                                       "handler-mapping"]
    assert decode(e["blockers"][0]["directive"]) == "Options -ExecCGI"
    assert decode(e["blockers"][1]["directive"]).startswith(
        "AddHandler cgi-script .php")
    assert all(decode(b["file"]) == ht for b in e["blockers"])
    # the alternative: serve this one file of this one directory as a
    # static file, run nothing: in the directory's own .htaccess
    (step,) = e["fix"]
    assert step == {"op": "append",
                    "file": os.path.join(site.docroot,
                                         "wp-content/uploads/2024/.htaccess"),
                    "text": '<Files %22shell.php%22>%0A    RemoveHandler .php%0A'
                            '</Files>'}
    assert e["hint_verified"] is True and status == 200
    # a static file of the directory was never affected
    assert site.get("/wp-content/uploads/2024/pic.jpg").status == 200


def test_issue_uploads_lines_recognised(site):
    uri = "/plain/uploads/shell.php"
    ht = os.path.join(site.docroot, "plain/uploads/.htaccess")
    e, status = check(site, uri, allowed_body=SHELL)
    assert e["protection"] == "upload-noexec"
    assert "+ExecCGI" not in decode(e["hint"])
    assert e["hint_verified"] is True and status == 200
    # the .htaccess is the file's own directory's: next to the mapping
    (step,) = e["fix"]
    assert step["op"] == "insert" and decode(step["file"]) == ht
    assert step["after_line"] == 1


# -- symlinks --------------------------------------------------------------

def test_symlink_options_fix_next_to_the_line(site):
    e, status = check(site, "/nosym/link", still_denied=["/nosym/evil"],
                      allowed_body="pub\n")
    assert e["reason"] == "symlink" and e["symlink_cause"] == "options"
    # the walk failed: httpd has yet to run sections and authorization
    assert e["hint_verified"] is False
    assert "directory walk" in decode(e["hint_unverified"])
    assert status == 200
    assert e["fix"] == [{"op": "insert", "file": site.conf_file,
                         "after_line": site.conf_line_of(
                             "Options -FollowSymLinks"),
                         "text": "Options +SymLinksIfOwnerMatch"}]
    assert e["blockers"][0]["mechanism"] == "options"


def test_symlink_options_fix_scoped_to_the_link_directory(site):
    sub = os.path.join(site.docroot, "deep/sub")
    e, status = check(site, "/deep/sub/link",
                      still_denied=["/deep/other/link"],
                      allowed_body="pub\n")
    assert status == 200
    (step,) = e["fix"]
    assert step["op"] == "append" and decode(step["file"]) == site.conf_file
    assert decode(step["text"]) == ("<Directory %s>\n    Options "
                                    "+SymLinksIfOwnerMatch\n</Directory>" % sub)


def test_symlink_owner_fix_hands_over_this_link_only(site):
    link = os.path.join(site.docroot, "owner/link")
    e, status = check(site, "/owner/link", still_denied=["/owner/evil"],
                      allowed_body="mine\n")
    assert e["symlink_cause"] == "owner"
    assert e["fix"] == [{"op": "run", "argv": ["chown", "-h", "www-data",
                                               link]}]
    assert [b["mechanism"] for b in e["blockers"]] == ["options",
                                                       "symlink-owner"]
    assert "another user's files" in decode(e["warning"])
    assert e["hint_verified"] is False and status == 200


def test_permission_fix_for_a_vcs_path_warns(site):
    """A 0700 directory in front of .git/config: the fix is for the
    directory, and the entry says what the requested name is."""
    e = denied_entry(site, "/h5bp/sub/.git/config")
    assert decode(e["path"]) == os.path.join(site.docroot, "h5bp/sub")
    assert "version-control metadata" in decode(e["warning"])
    assert e["hint_verified"] is False


def test_fix_too_long_for_the_entry_is_left_out_not_cut(site):
    """A path cut to fit the log line would name another file: a fix that
    does not fit is not written at all, and not claimed."""
    rel = "/".join(["long"] + [c * 200 for c in "abcdefghijklmnop"])
    site.write("htdocs/%s/f.txt" % rel, "f\n", 0o600, ("root", "root"))
    e = denied_entry(site, "/%s/f.txt" % rel)
    assert decode(e["path"]).startswith(site.docroot + "/long/aaa")
    assert "fix" not in e and "blockers" not in e
    assert e["hint_verified"] is False
    assert decode(e["hint_unverified"]) == ("the fix is too long to write "
                                            "into the entry")
