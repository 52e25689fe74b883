"""test_fs.py — filesystem, symlink, Options and index denials against a real
httpd whose children run as www-data: real modes and owners (tests run as
root), a real POSIX ACL (setfacl), real symlinks, a real FIFO, a real CGI
through mod_cgid.  Every test asserts the denying component, its mode and
owner, the responsible directive's file:line where there is one, and the
hint's fix."""
import os
import pwd
import shutil
import subprocess

import pytest

import harness
from harness import decode, one_entry

pytestmark = pytest.mark.skipif(not harness.RUN_AS_ROOT,
                                reason="needs root: chown and User www-data")

OPT_NOSYM = "Options -FollowSymLinks"
OPT_OWNER = "Options SymLinksIfOwnerMatch"
OPT_NOIDX = "Options -Indexes"
OPT_EMPTY = "Options FollowSymLinks MultiViews"
OPT_NOCGI = "Options -ExecCGI"
ADD_CGI = "AddHandler cgi-script .cgi"
HT_NOIDX = "Options -Indexes"
HT_NOSYM = "Options -FollowSymLinks +Indexes"


def www():
    pw = pwd.getpwnam(harness.SERVER_USER)
    return pw.pw_uid, pw.pw_gid


@pytest.fixture(scope="module")
def h():
    h = harness.Httpd(name="fs", extra_modules=["cgid"])
    d = h.docroot
    h.conf(ADD_CGI)
    h.conf("<Directory {docroot}/nosym>\n    " + OPT_NOSYM + "\n</Directory>")
    h.conf("<Directory {docroot}/owner>\n    " + OPT_OWNER + "\n</Directory>")
    h.conf("<Directory {docroot}/noidx>\n    " + OPT_NOIDX + "\n</Directory>")
    h.conf("<Directory {docroot}/empty>\n    " + OPT_EMPTY + "\n</Directory>")
    h.conf("<Directory {docroot}/ht>\n    AllowOverride All\n</Directory>")
    h.conf("<Directory {docroot}/htidx>\n    AllowOverride Options\n</Directory>")
    h.conf("<Directory {docroot}/htsym>\n    AllowOverride Options\n</Directory>")
    h.conf("<Directory {docroot}/ignored>\n    Options -Indexes\n"
           "    AllowOverride None\n</Directory>")
    h.conf("<Directory {docroot}/cgi>\n    " + OPT_NOCGI + "\n</Directory>")
    h.conf("<Directory {docroot}/quiet>\n    ForbiddenExplain Off\n</Directory>")
    h.conf("Alias /outside/ {root}/outside/\n<Directory {root}/outside>\n"
           "    Require all granted\n</Directory>")

    h.write("htdocs/pub/file.txt", "public\n")
    # a 700 directory owned by root on the path
    h.mkdir("htdocs/perm", 0o755)
    h.mkdir("htdocs/perm/nosearch", 0o700, ("root", "root"))
    h.write("htdocs/perm/nosearch/inner/index.html", "x")
    os.chmod(os.path.join(d, "perm/nosearch"), 0o700)
    # a 600 file
    h.write("htdocs/perm/secret.txt", "secret\n", 0o600, ("root", "root"))
    # an unreadable index behind a directory URL
    h.write("htdocs/idx/index.html", "idx\n", 0o000, ("root", "root"))
    # a 000 .htaccess
    h.write("htdocs/ht/.htaccess", "Options +Indexes\n", 0o000)
    h.write("htdocs/ht/page.html", "x")
    # a world-writable directory holding an unreadable file
    h.mkdir("htdocs/ww", 0o777)
    os.chmod(os.path.join(d, "ww"), 0o777)
    h.write("htdocs/ww/secret.txt", "s", 0o600)
    # symlinks: options off, dangling, owner mismatch
    h.mkdir("htdocs/nosym")
    os.symlink(os.path.join(d, "pub/file.txt"), os.path.join(d, "nosym/link"))
    h.mkdir("htdocs/dangling")
    os.symlink("/nonexistent/target.txt", os.path.join(d, "dangling/link"))
    os.symlink(os.path.join(d, "perm/nosearch/inner/index.html"),
               os.path.join(d, "dangling/hidden"))
    h.mkdir("htdocs/owner")
    h.write("htdocs/owner/target.txt", "t", 0o644, (harness.SERVER_USER,
                                                    harness.SERVER_USER))
    os.symlink(os.path.join(d, "owner/target.txt"),
               os.path.join(d, "owner/link"))
    # a FIFO; only where FollowSymLinks is off does httpd lstat the last
    # component (elsewhere it opens the FIFO and blocks)
    os.mkfifo(os.path.join(d, "owner/pipe"), 0o644)
    # indexes
    h.write("htdocs/noidx/readme.txt", "r")
    h.mkdir("htdocs/empty")
    h.write("htdocs/htidx/.htaccess", "# turn listings off\n" + HT_NOIDX + "\n")
    h.write("htdocs/ignored/.htaccess", "Options +Indexes\n")
    h.write("htdocs/htsym/.htaccess", HT_NOSYM + "\n")
    os.symlink(os.path.join(d, "pub/file.txt"), os.path.join(d, "htsym/link"))
    h.mkdir("outside")
    # CGI with ExecCGI off
    h.write("htdocs/cgi/t.cgi", "#!/bin/sh\necho 'Content-Type: text/plain'\n"
            "echo\necho hi\n", 0o755)
    # a POSIX ACL that denies where the mode bits allow
    h.mkdir("htdocs/acl", 0o755)
    h.write("htdocs/acl/file.txt", "a")
    subprocess.run(["setfacl", "-m", "u:%s:---" % harness.SERVER_USER,
                    os.path.join(d, "acl")], check=True)
    # a 0700 directory with a name that needs shell quoting, where
    # AllowOverride All makes httpd fail on its .htaccess first (AH00529)
    h.conf('<Directory "{docroot}/odd">\n    AllowOverride All\n</Directory>')
    h.mkdir("htdocs/odd/my dir's", 0o700, ("root", "root"))
    h.write("htdocs/odd/my dir's/x.html", "x")
    os.chmod(os.path.join(d, "odd/my dir's"), 0o700)
    # ForbiddenExplain Off for a directory whose walk fails
    h.mkdir("htdocs/quiet", 0o700, ("root", "root"))
    h.write("htdocs/quiet/inner/index.html", "q")
    os.chmod(os.path.join(d, "quiet"), 0o700)
    h.start()
    yield h
    h.cleanup()


def test_allowed_request_has_no_entry(h):
    r = h.get("/pub/file.txt")
    assert r.status == 200
    assert h.entries_for("/pub/file.txt") == []


def test_directory_without_search_permission(h):
    r = h.get("/perm/nosearch/inner/")
    assert r.status == 403
    e = one_entry(h, "/perm/nosearch/inner/")
    comp = os.path.join(h.docroot, "perm/nosearch")
    assert e["reason"] == "fs-permission"
    assert e["module"] == "core.c" and e["phase"] == "map_to_storage"
    assert e["ah"] == "AH00035"
    assert decode(e["path"]) == comp
    assert e["path_type"] == "directory"
    assert e["mode"] == "drwx------" and e["mode_octal"] == "0700"
    assert e["owner"] == "root" and e["owner_uid"] == 0
    assert e["group"] == "root" and e["group_gid"] == 0
    assert e["perm_class"] == "other"
    assert e["missing"] == "x"
    uid, gid = www()
    assert decode(e["server_user"]).startswith(
        "uid=%d(www-data) gid=%d(www-data)" % (uid, gid))
    assert decode(e["hint"]) == (
        "chgrp www-data %s && chmod g+x %s (for the server only; chmod o+x "
        "%s would open it to every local user)" % (comp, comp, comp))
    assert "777" not in decode(e["hint"])
    assert e["fix"] == [{"op": "run", "argv": ["chgrp", "www-data", comp]},
                        {"op": "run", "argv": ["chmod", "g+x", comp]}]
    # what lies below the directory is hidden from www-data until then
    assert e["hint_verified"] is False
    assert decode(e["hint_unverified"]).startswith(
        "the components below %s were not examined" % comp)


def test_unsearchable_directory_with_htaccess_allowed_and_odd_name(h):
    assert h.get("/odd/my%20dir%27s/x.html").status == 403
    e = one_entry(h, "/odd/my dir's/x.html")
    comp = os.path.join(h.docroot, "odd/my dir's")
    assert e["reason"] == "htaccess"
    assert e["ah"] == "AH00529"
    assert decode(e["htaccess"]) == comp + "/.htaccess"
    # the directory, not the .htaccess, is what denies
    assert decode(e["path"]) == comp
    assert e["mode"] == "drwx------" and e["missing"] == "x"
    q = "'%s'" % comp.replace("'", "'\\''")
    assert decode(e["hint"]) == (
        "chgrp www-data %s && chmod g+x %s (for the server only; chmod o+x "
        "%s would open it to every local user)" % (q, q, q))
    # argv steps are not shell text: the name as it is
    assert [decode(a) for a in e["fix"][1]["argv"]] == ["chmod", "g+x", comp]


def test_unreadable_file(h):
    assert h.get("/perm/secret.txt").status == 403
    e = one_entry(h, "/perm/secret.txt")
    f = os.path.join(h.docroot, "perm/secret.txt")
    assert e["reason"] == "fs-permission"
    assert e["module"] == "core.c" and e["phase"] == "handler"
    assert e["ah"] == "AH00132"
    assert decode(e["path"]) == f
    assert e["path_type"] == "file"
    assert e["mode"] == "-rw-------" and e["mode_octal"] == "0600"
    assert e["owner"] == "root" and e["perm_class"] == "other"
    assert e["missing"] == "r"
    assert decode(e["os_error"]) == "Permission denied"
    # a 0600 file looks like a file of secrets: the server's group, never
    # o+r (tests/test_hints_fs.py applies the fix)
    assert decode(e["hint"]).startswith(
        "chgrp www-data %s && chmod g+r %s (" % (f, f))
    assert "never chmod o+r" in decode(e["hint"])
    assert "mode 0600" in decode(e["warning"])
    assert e["hint_verified"] is True


def test_unreadable_index_behind_directory_url(h):
    assert h.get("/idx/").status == 403
    # mod_dir's fast redirect made index.html the request's URI
    e = one_entry(h, "/idx/index.html")
    f = os.path.join(h.docroot, "idx/index.html")
    assert e["reason"] == "fs-permission"
    assert decode(e["path"]) == f
    assert e["mode"] == "----------" and e["mode_octal"] == "0000"
    assert e["owner"] == "root" and e["missing"] == "r"
    assert decode(e["hint"]).startswith("chgrp www-data %s && chmod g+r %s "
                                        % (f, f))
    assert "warning" not in e


def test_unreadable_htaccess(h):
    assert h.get("/ht/page.html").status == 403
    e = one_entry(h, "/ht/page.html")
    f = os.path.join(h.docroot, "ht/.htaccess")
    assert e["reason"] == "htaccess"
    assert e["ah"] == "AH00529"
    assert decode(e["path"]) == f
    assert decode(e["htaccess"]) == f
    assert e["path_type"] == "file"
    assert e["mode"] == "----------" and e["mode_octal"] == "0000"
    assert e["owner"] == "root" and e["perm_class"] == "other"
    assert e["missing"] == "r"
    assert decode(e["detail"]).startswith("httpd could not read %s" % f)
    assert decode(e["hint"]).startswith("chgrp www-data %s && chmod g+r %s "
                                        % (f, f))
    # the .htaccess's own directives are read only once it is readable
    assert e["hint_verified"] is False
    assert ".htaccess" in decode(e["hint_unverified"])


def test_world_writable_directory_is_named(h):
    assert h.get("/ww/secret.txt").status == 403
    e = one_entry(h, "/ww/secret.txt")
    ww = os.path.join(h.docroot, "ww")
    assert e["reason"] == "fs-permission"
    assert decode(e["path"]) == os.path.join(ww, "secret.txt")
    assert [decode(p) for p in e["world_writable"]] == [ww]
    assert "World-writable on the path" in decode(e["detail"])
    assert ww in decode(e["detail"])
    # the request that is denied for another reason does not list it
    assert "world_writable" not in one_entry(h, "/perm/secret.txt")


def test_fifo_is_neither_file_nor_directory(h):
    assert h.get("/owner/pipe").status == 403
    e = one_entry(h, "/owner/pipe")
    assert e["reason"] == "fs-permission"
    assert e["ah"] == "AH00038"
    assert decode(e["path"]) == os.path.join(h.docroot, "owner/pipe")
    assert e["path_type"] == "fifo"
    assert e["mode"] == "prw-r--r--"
    assert "only regular files and directories" in decode(e["detail"])


def test_other_stat_failure(h):
    name = "n" * 300            # longer than NAME_MAX: ENAMETOOLONG
    assert h.get("/pub/" + name).status == 403
    e = one_entry(h, "/pub/" + name)
    assert e["reason"] == "fs-permission"
    assert e["ah"] == "AH00036"
    assert decode(e["os_error"]) == "File name too long"
    assert decode(e["path"]) == os.path.join(h.docroot, "pub", name)
    assert decode(e["detail"]) == "httpd could not stat %s: %s." % (
        os.path.join(h.docroot, "pub", name), "File name too long")


def test_symlink_options_off(h):
    assert h.get("/nosym/link").status == 403
    e = one_entry(h, "/nosym/link")
    assert e["reason"] == "symlink"
    assert e["ah"] == "AH00037"
    assert decode(e["path"]) == os.path.join(h.docroot, "nosym/link")
    assert decode(e["symlink_target"]) == os.path.join(h.docroot,
                                                       "pub/file.txt")
    assert e["symlink_cause"] == "options"
    assert decode(e["directive"]) == OPT_NOSYM
    assert decode(e["file"]) == h.conf_file
    assert e["line"] == h.conf_line_of(OPT_NOSYM)
    assert decode(e["section"]) == "<Directory %s/nosym> (%s:%d)" % (
        h.docroot, h.conf_file, h.conf_line_of(OPT_NOSYM) - 1)
    assert "+SymLinksIfOwnerMatch" in decode(e["hint"])
    assert "%s:%d" % (h.conf_file, e["line"]) in decode(e["hint"])


def test_symlink_options_off_in_htaccess(h):
    assert h.get("/htsym/link").status == 403
    e = one_entry(h, "/htsym/link")
    assert e["reason"] == "symlink"
    assert e["symlink_cause"] == "options"
    assert decode(e["path"]) == os.path.join(h.docroot, "htsym/link")
    assert decode(e["directive"]) == HT_NOSYM
    assert decode(e["file"]) == os.path.join(h.docroot, "htsym/.htaccess")
    assert e["line"] == 1
    assert decode(e["section"]) == ".htaccess of %s/htsym/" % h.docroot


def test_symlink_dangling_target(h):
    assert h.get("/dangling/link").status == 403
    e = one_entry(h, "/dangling/link")
    assert e["reason"] == "symlink"
    assert decode(e["path"]) == os.path.join(h.docroot, "dangling/link")
    assert e["symlink_cause"] == "target"
    assert decode(e["symlink_target"]) == "/nonexistent/target.txt"
    assert decode(e["target_error"]) == "No such file or directory"
    assert "directive" not in e
    assert "ln -sfn" in decode(e["hint"])


def test_symlink_target_behind_unsearchable_directory(h):
    assert h.get("/dangling/hidden").status == 403
    e = one_entry(h, "/dangling/hidden")
    comp = os.path.join(h.docroot, "perm/nosearch")
    assert e["reason"] == "symlink"
    assert e["symlink_cause"] == "target"
    assert decode(e["path"]) == os.path.join(h.docroot, "dangling/hidden")
    assert decode(e["target_error"]) == "Permission denied"
    assert decode(e["target_denied_at"]) == comp
    assert e["mode"] == "drwx------" and e["owner"] == "root"
    assert e["missing"] == "x"
    assert decode(e["hint"]).startswith("chgrp www-data %s && chmod g+x %s "
                                        % (comp, comp))


def test_symlink_owner_mismatch(h):
    assert h.get("/owner/link").status == 403
    e = one_entry(h, "/owner/link")
    assert e["reason"] == "symlink"
    assert decode(e["path"]) == os.path.join(h.docroot, "owner/link")
    assert e["symlink_cause"] == "owner"
    assert e["link_owner"] == "root"
    assert e["target_owner"] == "www-data"
    assert decode(e["directive"]) == OPT_OWNER
    assert e["line"] == h.conf_line_of(OPT_OWNER)
    assert decode(e["hint"]).startswith("chown -h www-data %s" % os.path.join(
        h.docroot, "owner/link"))


def test_no_index_options_in_httpd_conf(h):
    assert h.get("/noidx/").status == 403
    e = one_entry(h, "/noidx/")
    assert e["reason"] == "no-index"
    assert e["module"] == "mod_autoindex.c"
    assert e["ah"] == "AH01276"
    assert decode(e["path"]) == os.path.join(h.docroot, "noidx/")
    assert decode(e["index_names"]) == "index.html"
    assert decode(e["directive"]) == OPT_NOIDX
    assert decode(e["file"]) == h.conf_file
    assert e["line"] == h.conf_line_of(OPT_NOIDX)
    assert "Options +Indexes" in decode(e["hint"])
    assert "htaccess_ignored" not in e


def test_no_index_empty_directory_absolute_options(h):
    assert h.get("/empty/").status == 403
    e = one_entry(h, "/empty/")
    assert e["reason"] == "no-index"
    assert decode(e["path"]) == os.path.join(h.docroot, "empty/")
    # an Options line without + or - replaced Indexes away
    assert decode(e["directive"]) == OPT_EMPTY
    assert e["line"] == h.conf_line_of(OPT_EMPTY)


def test_no_index_options_in_htaccess(h):
    assert h.get("/htidx/").status == 403
    e = one_entry(h, "/htidx/")
    ht = os.path.join(h.docroot, "htidx/.htaccess")
    assert e["reason"] == "no-index"
    assert decode(e["directive"]) == HT_NOIDX
    assert decode(e["file"]) == ht
    assert e["line"] == 2
    assert decode(e["section"]).startswith(".htaccess of ")


def test_no_index_never_enabled(h):
    assert h.get("/outside/").status == 403
    e = one_entry(h, "/outside/")
    assert e["reason"] == "no-index"
    assert "directive" not in e
    assert "never enabled" in decode(e["detail"])
    assert "Options +Indexes" in decode(e["hint"])


def test_htaccess_kept_out_by_allowoverride(h):
    assert h.get("/ignored/").status == 403
    e = one_entry(h, "/ignored/")
    ht = os.path.join(h.docroot, "ignored/.htaccess")
    assert e["reason"] == "no-index"
    # the httpd.conf line, not the .htaccess one, removed Indexes
    assert decode(e["file"]) == h.conf_file
    ign = decode(e["htaccess_ignored"])
    assert ign.startswith(ht + " (not read: AllowOverride None (")
    # the section's own AllowOverride None, the last one before the file
    with open(h.conf_file) as f:
        lines = f.read().splitlines()
    sec = lines.index("<Directory %s/ignored>" % h.docroot) + 1
    assert lines[sec + 1].strip() == "AllowOverride None"
    assert ign == "%s (not read: AllowOverride None (%s:%d))" % (
        ht, h.conf_file, sec + 2)


def test_exec_cgi_off(h):
    r = h.get("/cgi/t.cgi")
    assert r.status == 403
    e = one_entry(h, "/cgi/t.cgi")
    assert e["reason"] == "exec-cgi"
    assert e["module"] == "mod_cgid.c"
    assert e["ah"] == "AH01262"
    assert decode(e["path"]) == os.path.join(h.docroot, "cgi/t.cgi")
    assert decode(e["directive"]) == OPT_NOCGI
    assert e["line"] == h.conf_line_of(OPT_NOCGI)
    assert decode(e["handler_directive"]) == ADD_CGI
    assert decode(e["handler_at"]) == "%s:%d" % (h.conf_file,
                                                 h.conf_line_of(ADD_CGI))
    assert "Options +ExecCGI" in decode(e["hint"])


def test_posix_acl_denies_where_mode_allows(h):
    assert h.get("/acl/file.txt").status == 403
    e = one_entry(h, "/acl/file.txt")
    d = os.path.join(h.docroot, "acl")
    assert e["reason"] == "fs-permission"
    assert decode(e["path"]) == d
    assert e["mode_octal"] == "0755"
    assert e["perm_class"] == "acl user:www-data"
    assert "user:www-data:---" in decode(e["acl"])
    assert e["missing"] == "x"
    assert decode(e["hint"]) == "setfacl -m u:www-data:x %s" % d


def test_forbidden_explain_off_silences_walk_failure(h):
    before = h.read_error_log().count("AH00035")
    assert h.get("/quiet/inner/").status == 403
    assert h.entries_for("/quiet/inner/") == []
    # httpd's own line is still there
    assert h.read_error_log().count("AH00035") == before + 1
    # and the same failure elsewhere is explained
    assert h.get("/perm/nosearch/inner/").status == 403
    assert len(h.entries_for("/perm/nosearch/inner/")) >= 1


def test_acl_larger_than_evaluated_is_said_not_guessed(make_httpd):
    """A file whose POSIX ACL holds more entries than the module evaluates
    (40 named users): the entry says the ACL may decide and claims no
    verified fix, instead of judging by the mode bits alone."""
    h = make_httpd(name="bigacl")
    h.mkdir("htdocs/big", 0o755)
    path = h.write("htdocs/big/f.txt", "b", mode=0o640, owner=("root", "root"))
    spec = ",".join("u:%d:r" % (20000 + i) for i in range(40))
    subprocess.run(["setfacl", "-m", spec, path], check=True)
    h.start()
    assert h.get("/big/f.txt").status == 403
    e = one_entry(h, "/big/f.txt")
    assert decode(e["path"]) == path
    assert "too large" in decode(e["detail"]), e
    assert e.get("hint_verified") is False, e
    assert "too large" in decode(e.get("hint_unverified", "")), e
