"""test_upstream.py — 403s that backends and applications produce: a real
backend httpd behind ProxyPass (also with ProxyErrorOverride On) with a
reason header, a CGI script printing "Status: 403", mod_lua setting the
reason note, mod_dav refusing PROPFIND Depth: infinity, ProxyBlock by name
and by address, AllowCONNECT, and a module using the
optional function forbidden_explain_set_reason (tests/mod_fx_example.c,
compiled here with apxs)."""
import os
import shutil
import subprocess
import tempfile

import pytest

import harness
from harness import decode, one_entry

HERE = os.path.dirname(os.path.abspath(__file__))
INCLUDE = os.path.join(HERE, "..", "include")

CGI = (
    "#!/bin/sh\n"
    "printf 'Status: 403 Forbidden\\r\\n'\n"
    "printf 'Content-Type: text/plain\\r\\n'\n"
    "printf 'X-Forbidden-Reason: quota exceeded for account 7\\r\\n\\r\\n'\n"
    "echo no\n"
)
LUA = (
    "function handle(r)\n"
    "    r.notes['forbidden-explain-reason'] = 'lua: token expired'\n"
    "    return 403\n"
    "end\n"
)


def build_example(tmp):
    src = os.path.join(tmp, "mod_fx_example.c")
    shutil.copy(os.path.join(HERE, "mod_fx_example.c"), src)
    subprocess.run(["apxs", "-c", "-I" + os.path.abspath(INCLUDE),
                    "mod_fx_example.c"], cwd=tmp, check=True,
                   capture_output=True)
    return os.path.join(tmp, ".libs", "mod_fx_example.so")


@pytest.fixture(scope="module")
def servers():
    tmp = tempfile.mkdtemp(prefix="fx-example-")
    example = build_example(tmp)
    back = harness.Httpd(name="backend", with_module=False)
    back.port2 = harness.free_port()
    back.conf("Listen 127.0.0.2:%d" % back.port2)
    back.conf('<Location /deny/>\n    Require all denied\n'
              '    Header always set X-Forbidden-Reason "backend policy 12"\n'
              '</Location>')
    back.write("htdocs/ok/index.html", "backend ok")
    back.start()

    h = harness.Httpd(name="upstream",
                      extra_modules=["proxy", "proxy_http", "proxy_connect",
                                     "cgid", "lua", "dav", "dav_fs"])
    b2 = "http://127.0.0.2:%d" % back.port2
    h.conf("ScriptSock {root}/logs/cgid.sock")
    h.conf("ForbiddenExplainReasonHeader X-Forbidden-Reason")
    h.conf("ProxyPass /back/ %s/deny/" % b2)
    h.conf("ProxyPass /backok/ %s/ok/" % b2)
    h.conf("ProxyPass /backov/ %s/deny/" % b2)
    h.conf("<Location /backov/>\n    ProxyErrorOverride On\n</Location>")
    h.conf("ProxyBlock localhost")
    h.conf("ProxyRequests On")
    h.conf("AllowCONNECT 443 8443")
    h.conf("DavLockDB {root}/logs/davlock")
    h.conf("<Directory {docroot}/dav>\n    Dav On\n</Directory>")
    h.conf("ProxyPass /blocked/ http://localhost:%d/ok/" % back.port)
    h.conf("ProxyPass /blockip/ http://127.0.0.1:%d/ok/" % back.port)
    h.conf("ScriptAlias /cgi-bin/ {root}/cgi-bin/")
    h.conf("<Directory {root}/cgi-bin>\n    Require all granted\n</Directory>")
    h.conf("<Directory {root}/lua>\n    Require all granted\n"
           "    SetHandler lua-script\n</Directory>")
    h.conf("Alias /lua/ {root}/lua/")
    h.conf("LoadModule fx_example_module %s" % example)
    h.conf("<Location /example>\n    SetHandler fx-example\n</Location>")
    h.write("cgi-bin/deny.cgi", CGI, mode=0o755)
    h.write("lua/deny.lua", LUA)
    h.write("htdocs/dav/a.txt", "a")
    h.start()
    yield h, back, b2
    h.cleanup()
    back.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


def test_backend_403_relayed_with_reason_header(servers):
    h, back, b2 = servers
    r = h.get("/back/x.html")
    assert r.status == 403
    # the reason header is for the log, never for the client
    assert r.header("X-Forbidden-Reason") is None
    e = one_entry(h, "/back/x.html")
    assert e["reason"] == "upstream"
    assert e["module"] == "mod_proxy.c"
    assert e["phase"] == "handler"
    assert e["handler"] == "proxy-server"
    assert decode(e["backend"]) == b2 + "/deny/x.html"
    assert decode(e["detail"]) == "backend policy 12"
    assert e["stated_by"] == "header X-Forbidden-Reason"
    # the backend's own log has its AH01630: it really denied
    assert "AH01630" in back.read_error_log()


def test_backend_allowed_is_silent(servers):
    h, _, _ = servers
    before = len(h.entries())
    r = h.get("/backok/")
    assert r.status == 200 and b"backend ok" in r.body
    assert len(h.entries()) == before


def test_backend_403_with_proxy_error_override(servers):
    h, _, b2 = servers
    r = h.get("/backov/y")
    assert r.status == 403
    assert r.header("X-Forbidden-Reason") is None
    e = one_entry(h, "/backov/y")
    assert e["reason"] == "upstream"
    assert e["module"] == "mod_proxy.c"
    assert decode(e["backend"]) == b2 + "/deny/y"
    assert decode(e["detail"]) == "backend policy 12"


def test_proxyblock_by_name(servers):
    h, back, _ = servers
    r = h.get("/blocked/")
    assert r.status == 403
    e = one_entry(h, "/blocked/")
    assert e["reason"] == "proxy"
    assert e["module"] == "mod_proxy.c"
    assert decode(e["directive"]) == "ProxyBlock localhost"
    assert decode(e["file"]) == h.conf_file
    assert e["line"] == h.conf_line_of("ProxyBlock localhost")
    assert decode(e["blocked_host"]) == "localhost"
    assert "'localhost' is part of the host name" in decode(e["detail"])


def test_proxyblock_by_address(servers):
    h, _, _ = servers
    r = h.get("/blockip/")
    assert r.status == 403
    e = one_entry(h, "/blockip/")
    assert e["reason"] == "proxy"
    assert e["line"] == h.conf_line_of("ProxyBlock localhost")
    assert e["blocked_ip"] == "127.0.0.1"
    assert "resolves to 127.0.0.1" in decode(e["detail"])


def test_cgi_status_403_with_reason_header(servers):
    h, _, _ = servers
    r = h.get("/cgi-bin/deny.cgi")
    assert r.status == 403
    assert b"no\n" in r.body      # the script's own body reached the client
    assert r.header("X-Forbidden-Reason") is None
    e = one_entry(h, "/cgi-bin/deny.cgi")
    assert e["reason"] == "upstream"
    assert e["module"] == "mod_cgid.c"
    assert e["phase"] == "handler"
    assert e["handler"] == "cgi-script"
    assert decode(e["script"]) == h.root + "/cgi-bin/deny.cgi"
    assert decode(e["detail"]) == "quota exceeded for account 7"
    assert e["stated_by"] == "header X-Forbidden-Reason"


def test_lua_note(servers):
    h, _, _ = servers
    r = h.get("/lua/deny.lua")
    assert r.status == 403
    e = one_entry(h, "/lua/deny.lua")
    assert e["module"] == "mod_lua.c"
    assert e["phase"] == "handler"
    assert e["reason"] == "module"
    assert decode(e["detail"]) == "lua: token expired"
    assert e["stated_by"] == "note forbidden-explain-reason"


def test_optional_function_example_module(servers):
    h, _, _ = servers
    assert h.get("/example?token=good").status == 200
    r = h.get("/example?token=bad")
    assert r.status == 403
    e = one_entry(h, "/example")
    assert e["module"] == "mod_fx_example.c"
    assert e["phase"] == "handler"
    assert e["reason"] == "module"
    assert decode(e["detail"]) == "The example token is missing or wrong."
    assert decode(e["hint"]) == "Append ?token=good to the URL."
    assert e["stated_by"] == "forbidden_explain_set_reason"


def test_allowconnect_refuses_port(servers):
    h, back, _ = servers
    target = "127.0.0.2:%d" % back.port2
    r = h.request(None, method="CONNECT", raw_target=target)
    assert r.status == 403
    e = one_entry(h, target)
    assert e["reason"] == "proxy"
    assert e["module"] == "mod_proxy.c"
    assert e["ah"] == "AH00898"
    assert decode(e["directive"]) == "AllowCONNECT 443 8443"
    assert e["line"] == h.conf_line_of("AllowCONNECT 443 8443")
    assert decode(e["detail"]).startswith(
        "mod_proxy_connect refused CONNECT to port %d" % back.port2)


def test_dav_propfind_depth_infinity(servers):
    h, _, _ = servers
    ok = h.request("/dav/", method="PROPFIND", headers={"Depth": "1"})
    assert ok.status == 207
    r = h.request("/dav/", method="PROPFIND", headers={"Depth": "infinity"})
    assert r.status == 403
    (e,) = [x for x in h.entries_for("/dav/") if x["method"] == "PROPFIND"]
    assert e["reason"] == "upstream"
    assert e["module"] == "mod_dav.c"
    assert e["phase"] == "handler"
    assert "DavDepthInfinity" in decode(e["detail"])
