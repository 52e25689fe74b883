"""test_repeat.py — ForbiddenExplainRepeat on real httpd: a flood of one
cause gives one full entry and short repeat lines that point at it, other
causes get their own full entry, a window's summary line comes even when no
further 403 does, `full` and `off` do what they say, and the state is shared
by every child (prefork and event) and survives a graceful restart."""
import re
import threading
import time

import pytest

from harness import Httpd, decode

SITE = """
<Directory "{docroot}/ipdeny">
    Require ip 10.9.9.9
</Directory>
<Directory "{docroot}/ipdeny2">
    Require ip 10.9.9.8
</Directory>
RewriteEngine On
RewriteRule ^/srvforbid - [F]
"""

LINE_RE = re.compile(r"^.*\[forbidden_explain:\w+\] .*$", re.M)


def site(make_httpd, mode=None, window=None, mpm=None, remoteip=False):
    h = make_httpd(name="repeat", mpm=mpm,
                   extra_modules=["remoteip"] if remoteip else ())
    h.repeat = mode             # None: the module's default (compact)
    h.conf(SITE)
    if window:
        h.conf("ForbiddenExplainRepeatWindow %d" % window)
    if remoteip:
        h.conf("RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 127.0.0.1")
    for d in ("ipdeny", "ipdeny2", "srvforbid"):
        h.write("htdocs/%s/x.txt" % d, "x")
    return h


def kinds(entries):
    full = [e for e in entries if "repeat" not in e and "repeats" not in e]
    rep = [e for e in entries if "repeat" in e]
    summ = [e for e in entries if "repeats" in e]
    return full, rep, summ


def flood(h, path, n, **kw):
    for _ in range(n):
        assert h.get(path, **kw).status == 403


def check_flood(entries, n):
    """1 full + n-1 repeats pointing at it, each its own request_id, the
    running count 1..n-1."""
    full, rep, summ = kinds(entries)
    assert len(full) == 1, full
    assert len(rep) == n - 1, rep
    ids = [e["request_id"] for e in full + rep]
    assert len(set(ids)) == n, ids
    assert all(e["repeat_of"] == full[0]["request_id"] for e in rep)
    assert [e["repeat"] for e in rep] == list(range(1, n)), rep
    for e in rep:
        assert e["status"] == 403 and e["reason"] == full[0]["reason"]
        assert e["file"] == full[0]["file"] and e["line"] == full[0]["line"]
        assert e["uri"] == full[0]["uri"] and e["client_ip"] == "127.0.0.1"
    return full[0], rep


def test_flood_require_ip_compact(make_httpd):
    h = site(make_httpd).start()
    n = 25
    flood(h, "/ipdeny/x.txt", n)
    full, rep = check_flood(h.entries(), n)
    assert full["directive"] == "Require ip 10.9.9.9" and "hint" in full
    assert "hint" not in rep[0] and "trail" not in rep[0]
    # bytes: each short line at most httpd's own AH01630 line + 200
    text = h.read_error_log()
    ah = [len(l) + 1 for l in text.splitlines() if "[authz_core:" in l]
    short = [len(l) + 1 for l in LINE_RE.findall(text) if '"repeat":' in l]
    assert len(ah) == n and len(short) == n - 1
    assert max(short) <= min(ah) + 200, (max(short), min(ah))
    # the access log's note/env still say why, for every request
    acc = [l for l in h.access_lines() if "/ipdeny/" in l]
    assert len(acc) == n and all("reason=authz" in l for l in acc)


def test_flood_rewrite_compact_and_other_causes(make_httpd):
    h = site(make_httpd, remoteip=True).start()
    n = 12
    flood(h, "/srvforbid/x.txt", n)
    full, rep = check_flood(h.entries(), n)
    assert full["reason"] == "rewrite" and decode(full["directive"]).startswith("RewriteRule")
    before = len(h.entries(settle=False))
    # another rule inside the window: its own full entry, then repeats
    flood(h, "/ipdeny2/x.txt", 2)
    # another client attribute (address class, through mod_remoteip): full
    flood(h, "/ipdeny2/x.txt", 1, headers={"X-Forwarded-For": "203.0.113.5"})
    # same class, another address: a repeat that carries its own address
    flood(h, "/ipdeny2/x.txt", 1, headers={"X-Forwarded-For": "198.51.100.7"})
    new = h.entries()[before:]
    assert ["repeat" in e for e in new] == [False, True, False, True], new
    assert new[0]["directive"] == "Require ip 10.9.9.8"
    assert new[1]["repeat_of"] == new[0]["request_id"]
    assert new[2]["client_ip"] == "203.0.113.5" and new[2]["directive"] == "Require ip 10.9.9.8"
    assert new[3]["client_ip"] == "198.51.100.7"
    assert new[3]["repeat_of"] == new[2]["request_id"] and new[3]["repeat"] == 1
    # the flood's own cause is still in its window
    flood(h, "/srvforbid/x.txt", 1)
    last = h.entries()[-1]
    assert last["repeat_of"] == full["request_id"] and last["repeat"] == n


def wait_summary(h, timeout=25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        summ = kinds(h.entries(settle=False))[2]
        if summ:
            return summ
        time.sleep(0.5)
    return []


def test_summary_after_window_without_more_403s(make_httpd):
    h = site(make_httpd, window=2).start()
    flood(h, "/ipdeny/x.txt", 6)
    flood(h, "/ipdeny2/x.txt", 1)       # no repeats: no summary for it
    full = kinds(h.entries())[0][0]
    # written by the parent's monitor hook (every ~10 s), no 403 needed
    summ = wait_summary(h)
    assert len(summ) == 1, summ
    s = summ[0]
    assert s["repeats"] == 5 and s["repeat_of"] == full["request_id"]
    assert s["directive"] == "Require ip 10.9.9.9" and s["line"] == full["line"]
    assert s["window_start"] < s["window_end"]
    # the next 403 of the cause opens a new window: full again
    flood(h, "/ipdeny/x.txt", 2)
    e = h.entries()
    assert "repeat" not in e[-2] and "repeats" not in e[-2]
    assert e[-1]["repeat_of"] == e[-2]["request_id"]
    assert len(kinds(e)[2]) == 1


def test_summary_by_next_403_when_window_closed(make_httpd):
    """The next 403 of the cause writes the summary of its closed window
    itself when the monitor has not yet (it runs every ~10 s)."""
    h = site(make_httpd, window=1).start()
    flood(h, "/ipdeny/x.txt", 3)
    time.sleep(1.2)
    flood(h, "/ipdeny/x.txt", 1)
    e = h.entries()
    full, rep, summ = kinds(e)
    assert len(full) == 2 and len(rep) == 2
    if summ:        # the monitor may have come first; then it wrote it
        assert len(summ) == 1 and summ[0]["repeats"] == 2
        assert summ[0]["repeat_of"] == full[0]["request_id"]
        assert e.index(summ[0]) < e.index(full[1])


def test_full_and_off(make_httpd):
    h = site(make_httpd, mode="full").start()
    flood(h, "/ipdeny/x.txt", 5)
    full, rep, summ = kinds(h.entries())
    assert len(full) == 5 and not rep and not summ
    assert all(e["directive"] == "Require ip 10.9.9.9" for e in full)

    o = site(make_httpd, mode="off").start()
    flood(o, "/ipdeny/x.txt", 5)
    assert o.entries() == []
    log = o.read_error_log()
    assert log.count("AH01630") == 5      # httpd's own lines untouched
    acc = [l for l in o.access_lines() if "/ipdeny/" in l]
    assert len(acc) == 5 and all("reason=authz" in l for l in acc)


def test_bad_values_refused(make_httpd):
    h = site(make_httpd, mode="sometimes")
    rc, out = h.configtest()
    assert rc != 0 and "full, compact or off" in out
    h = site(make_httpd)
    h.conf("ForbiddenExplainRepeatWindow 0")
    rc, out = h.configtest()
    assert rc != 0 and "ForbiddenExplainRepeatWindow" in out


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_shared_across_children(make_httpd, mpm):
    h = site(make_httpd, mpm=mpm)
    if mpm == "prefork":
        h.conf("StartServers 4\nMinSpareServers 4\nMaxSpareServers 6")
    else:
        h.conf("StartServers 2\nMinSpareThreads 16\nMaxSpareThreads 16")
    h.start()
    time.sleep(1.0)     # let the children come up
    n_threads, per = 8, 10
    errors = []

    def worker():
        try:
            for _ in range(per):
                assert h.get("/ipdeny/x.txt").status == 403
        except Exception as exc:     # noqa: BLE001 — reported below
            errors.append(exc)
    ts = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    n = n_threads * per
    full, rep, summ = kinds(h.entries(settle=True))
    assert len(full) == 1 and len(rep) == n - 1, (len(full), len(rep))
    assert sorted(e["repeat"] for e in rep) == list(range(1, n))
    assert all(e["repeat_of"] == full[0]["request_id"] for e in rep)
    pids = set(re.findall(r"\[forbidden_explain:\w+\] \[pid (\d+)",
                          h.read_error_log()))
    assert len(pids) >= 2, "one child served everything: nothing shared"


def test_survives_graceful_restart(make_httpd):
    h = site(make_httpd).start()
    flood(h, "/ipdeny/x.txt", 3)
    full = kinds(h.entries())[0][0]
    h.graceful()
    flood(h, "/ipdeny/x.txt", 1)
    last = h.entries()[-1]
    assert last["repeat_of"] == full["request_id"] and last["repeat"] == 3


def test_first_of_window_is_the_full_entry(make_httpd):
    """compact builds an entry cheap first (no advice) and again in full
    when the 403 is no repeat: that entry is the one `full` writes."""
    import os
    from harness import KINDS_CONF
    # compact named explicitly, so both configurations have the same lines
    h = site(make_httpd, mode="compact")
    h.conf(KINDS_CONF)
    for d in ("deny", "compat", "noindex", "nosym", "ht"):
        h.write("htdocs/%s/x.txt" % d, "x")
    os.symlink(os.path.join(h.docroot, "deny", "x.txt"),
               os.path.join(h.docroot, "nosym", "link"))
    h.write("htdocs/ht/.htaccess", "RewriteEngine On\nRewriteRule ^x\\.txt$ - [F]\n")
    h.mkdir("htdocs/nosearch", mode=0o700, owner=("root", "root"))
    h.write("htdocs/nosearch/x.txt", "x")
    paths = ["/deny/x.txt", "/compat/x.txt", "/noindex/", "/nosym/link",
             "/ht/x.txt", "/srvforbid", "/ipdeny/x.txt", "/nosearch/x.txt"]
    h.start()
    for p in paths:
        assert h.get(p).status == 403, p
    compact = h.entries()
    h.repeat = "full"
    with open(h.conf_file, "w") as f:
        f.write(h.render_conf())
    h.graceful()
    for p in paths:
        assert h.get(p).status == 403, p
    full = h.entries()[len(compact):]
    assert len(compact) == len(full) == len(paths)
    for a, b in zip(compact, full):
        assert "repeat" not in a
        a = dict(a, request_id=None)
        b = dict(b, request_id=None)
        assert a == b
    assert any("hint_verified" in e and "blockers" in e for e in compact)


def test_virtual_hosts_are_causes_of_their_own(make_httpd):
    """The same rule reached through two virtual hosts: two causes, each
    with its full entry in its own error log, then repeats."""
    import os
    h = site(make_httpd)
    for name in ("a", "b"):
        h.conf('<VirtualHost 127.0.0.1:{port}>\n    ServerName %s.test\n'
               '    ErrorLog {root}/logs/%s_error_log\n</VirtualHost>' % (name, name))
    h.start()
    for name in ("a", "b", "a", "b", "a"):
        assert h.get("/ipdeny/x.txt", headers={"Host": name + ".test"}).status == 403
    time.sleep(0.2)
    seen = {}
    for name in ("a", "b"):
        h.error_log = os.path.join(h.logs, "%s_error_log" % name)
        seen[name] = h.entries(settle=False)
    full_a, rep_a, _ = kinds(seen["a"])
    full_b, rep_b, _ = kinds(seen["b"])
    assert len(full_a) == 1 and len(full_b) == 1
    assert [e["repeat"] for e in rep_a] == [1, 2] and [e["repeat"] for e in rep_b] == [1]
    assert full_a[0]["directive"] == full_b[0]["directive"] == "Require ip 10.9.9.9"
    assert rep_a[0]["repeat_of"] == full_a[0]["request_id"]
    assert rep_b[0]["repeat_of"] == full_b[0]["request_id"]
