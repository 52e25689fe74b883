#!/usr/bin/python3
"""demo.py — starts a throwaway httpd on 127.0.0.1 with the demo site from
conf-examples/demo, fires requests that hit several kinds of 403, prints
each explanation readably, and stops the server."""
import os
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import harness  # noqa: E402
from harness import decode  # noqa: E402

REQUESTS = [
    ("/intranet/report.html", "a Require inside <RequireAll> refuses loopback"),
    ("/legacy/old.html", "Order/Deny/Allow from the 2.2 days"),
    ("/uploads/", "a directory without index while Indexes is off"),
    ("/links/current.txt", "a symlink where FollowSymLinks is off"),
    ("/private/notes.txt", "a directory the server user cannot enter"),
    ("/secret.txt", "a file the server user cannot read"),
    ("/wp-login.php", "a server-wide RewriteRule [F]"),
    ("/blog/feed.xml", "a RewriteRule [F] in .htaccess"),
]
ORDER = ["reason", "module", "phase", "directive", "file", "line", "section",
         "path", "mode", "owner", "trail", "detail", "hint"]


def show(entry):
    for key in ORDER + sorted(k for k in entry if k not in ORDER):
        if key not in entry or key in ("status", "uri", "method", "request_id",
                                       "client_ip"):
            continue
        value = entry[key]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            # a trail or a list of conditions: one item per line
            lines = []
            for item in value:
                lines += textwrap.wrap("- " + ", ".join(
                    "%s=%s" % (k, decode(v) if isinstance(v, str) else v)
                    for k, v in item.items()), 88, subsequent_indent="  ")
        else:
            text = decode(value) if isinstance(value, str) else repr(value)
            lines = textwrap.wrap(text, 88) or [""]
        print("    %-10s %s" % (key, lines[0]))
        for more in lines[1:]:
            print("    %-10s %s" % ("", more))


def main():
    h = harness.Httpd(name="demo")
    with open(os.path.join(HERE, "..", "conf-examples", "demo", "demo-site.conf")) as f:
        h.conf(f.read())
    h.write("htdocs/intranet/report.html", "report\n")
    h.write("htdocs/legacy/old.html", "old\n")
    h.mkdir("htdocs/uploads")
    h.write("htdocs/uploads/photo.jpg", "jpg\n")
    h.mkdir("htdocs/links")
    h.write("htdocs/releases/v2.txt", "v2\n")
    os.symlink(os.path.join(h.docroot, "releases", "v2.txt"),
               os.path.join(h.docroot, "links", "current.txt"))
    h.mkdir("htdocs/private", mode=0o700, owner=("root", "root"))
    h.write("htdocs/private/notes.txt", "notes\n")
    h.write("htdocs/secret.txt", "secret\n", mode=0o600, owner=("root", "root"))
    h.write("htdocs/wp-login.php", "<?php\n")
    h.write("htdocs/blog/.htaccess",
            "RewriteEngine On\nRewriteRule ^feed\\.xml$ - [F]\n")
    h.write("htdocs/blog/feed.xml", "<rss/>\n")
    try:
        h.start()
        print("demo httpd on http://127.0.0.1:%d/ (ServerRoot %s)\n" % (h.port, h.root))
        for uri, what in REQUESTS:
            status = h.get(uri).status
            print("GET %s  ->  %d   (%s)" % (uri, status, what))
            found = h.entries_for(uri)
            if not found:
                print("    (no explanation written)")
            for e in found[-1:]:
                show(e)
            print()
        raw = [l for l in h.read_error_log().splitlines()
               if "[forbidden_explain:" in l]
        if raw:
            print("One of the raw error-log lines, as httpd wrote it:\n" + raw[0])
    finally:
        h.stop()
        if not os.environ.get("FX_DEMO_KEEP"):
            h.cleanup()


if __name__ == "__main__":
    main()
