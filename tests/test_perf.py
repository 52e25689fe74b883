"""What the allowed-path optimisations of the hook runners must not change.

fx_trampoline.c shortens httpd's request-phase hook arrays to the runner
alone where nothing but httpd's own loops reads them, and keeps their
length (runner plus stand-ins) when mod_info is loaded, since mod_info lists
every module of every hook.  Both ways, every hook is still called in
httpd's order and a 403 is attributed to the module that returned it.
"""
import re

import harness


def request_hooks(h):
    """{hook title: [module, ...]} from mod_info's "Request Hooks" list."""
    r = h.get("/server-info?hooks")
    assert r.status == 200, r.status
    body = r.body.decode() if isinstance(r.body, bytes) else r.body
    body = body[body.index("Request Hooks"):]
    body = body[:body.index("Other Hooks")] if "Other Hooks" in body else body
    return {title: re.findall(r'href="\?([^"]+)"', items)
            for title, items in re.findall(
                r"<strong>([^<]+):</strong>(.*?)</dt>", body, re.S)}


def site(h):
    h.conf("<Location /server-info>\n    SetHandler server-info\n</Location>")
    h.conf('<Directory "{docroot}/noindex">\n    Options -Indexes\n</Directory>')
    h.mkdir("htdocs/noindex")
    h.write("htdocs/noindex/a.txt", "a")


def test_mod_info_lists_the_same_request_hooks():
    """With mod_info loaded the arrays keep every module, in order."""
    lists = {}
    for with_module in (False, True):
        with harness.Httpd(name="perf-info", with_module=with_module,
                           extra_modules=["info", "autoindex"]) as h:
            site(h)
            h.start()
            hooks = request_hooks(h)
            lists[with_module] = {
                k: [m for m in v if m != "mod_forbidden_explain.c"]
                for k, v in hooks.items()}
    stock, module = lists[False], lists[True]
    # the phases the runners take over, as mod_info titles them
    for title in ("Post-Read Request", "Translate Name", "Map to Storage",
                  "Header Parse", "Check Access", "Check Type", "Fixups",
                  "Content Handlers"):
        assert title in stock, (title, sorted(stock))
        assert module.get(title) == stock[title], (title, stock[title],
                                                   module.get(title))
    assert len(stock["Fixups"]) >= 3, stock["Fixups"]


def test_attribution_with_and_without_mod_info():
    """A 403 from a hook that is not first in its array (mod_autoindex's
    handler) is named the same whether the array was shortened or not."""
    for extra in (["autoindex"], ["autoindex", "info"]):
        with harness.Httpd(name="perf-attr", extra_modules=extra) as h:
            site(h)
            h.start()
            assert h.get("/noindex/").status == 403
            e = harness.one_entry(h, "/noindex/")
            assert (e["module"], e["phase"]) == ("mod_autoindex.c",
                                                 "handler"), (extra, e)
