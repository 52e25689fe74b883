"""test_rewrite_marks.py — mod_rewrite's hooks are given a snapshot of their
inputs only where mod_rewrite can act (fx_conftree.c marks the servers and
sections holding its lines; fx_rewrite.c reads the marks).  Each case here is
a kind of section whose rules must be marked (the .htaccess files and the
server context are in test_rewrite.py): a <Location>, a <Files> nested in a
<Directory>, an <If>.  Each holds a chain whose [F] rule only the inputs
mod_rewrite was given can name: a rule sets an environment variable that
the second [F] rule's condition reads; replayed from the environment after
the hook, the first [F] rule, with the same condition, would match first.
A missed mark would name that wrong line; the safety net (every server
marked when a section with mod_rewrite lines was not paired) prevents it,
so the marks themselves are checked through the debug line that counts
them."""
import pytest

import harness
from harness import one_entry


def chain(name, indent="    "):
    return "".join(indent + l + "\n" for l in (
        "RewriteEngine On",
        "RewriteCond %{ENV:seen} =1",
        "RewriteRule ^ - [F]  # %s-early" % name,
        "RewriteRule ^ - [E=seen:1]",
        "RewriteCond %{ENV:seen} =1",
        "RewriteRule ^ - [F]  # %s-late" % name))


@pytest.fixture(scope="module")
def h():
    h = harness.Httpd(name="rwmarks")
    d = h.docroot
    h.conf("LogLevel warn forbidden_explain:debug")
    h.body += "<Location /loc>\n" + chain("loc") + "</Location>\n"
    h.body += ("<Directory %s/nested>\n    <Files \"a.txt\">\n" % d
               + chain("files", "        ")
               + "    </Files>\n</Directory>\n")
    h.body += ("<If \"%{QUERY_STRING} == 'chain'\">\n" + chain("if")
               + "</If>\n")
    for f in ("loc/a.txt", "nested/a.txt", "plain/a.txt"):
        h.write("htdocs/" + f, "x")
    h.start()
    yield h
    h.cleanup()


def _line_of(h, marker):
    lines = open(h.conf_file).read().split("\n")
    return next(i + 1 for i, l in enumerate(lines) if l.endswith("# " + marker))


@pytest.mark.parametrize("path,name", [
    ("/loc/a.txt", "loc"),
    ("/nested/a.txt", "files"),
    ("/plain/a.txt?chain", "if"),
])
def test_the_rule_that_forbade_the_rewritten_name(h, path, name):
    r = h.get(path)
    assert r.status == 403
    e = one_entry(h, path.split("?")[0])
    assert e["reason"] == "rewrite" and e["phase"] == "fixups"
    assert e["line"] == _line_of(h, name + "-late")


def test_unmarked_requests_are_served(h):
    assert h.get("/plain/a.txt").status == 200


def test_the_marks_are_the_sections_with_rewrite_lines(h):
    # three sections; no server has mod_rewrite lines at its own level
    lines = [l for l in open(h.error_log)
             if "mod_rewrite's inputs are kept" in l]
    assert lines, "no debug line"
    assert "kept in 3 sections and 0 of 1 servers" in lines[-1]
    assert "(all:" not in lines[-1]
