"""test_waf.py — a real ModSecurity (Debian's libapache2-mod-security2) rule
denies with 403; the entry carries its id, msg, file:line and phase as
ModSecurity reported them."""
import pytest

import harness
from harness import decode, one_entry

RULE = ("SecRule ARGS:test \"@streq attack\" "
        "\"id:10001,phase:2,deny,status:403,msg:'test rule'\"")
RULE1 = ("SecRule REQUEST_HEADERS:X-Evil \"@streq 1\" "
         "\"id:10002,phase:1,deny,status:403,msg:'evil header'\"")


# The httpd hook in which mod_security2 ran its phase 1 here (observed with
# Debian's 2.9.7: rules in server context are applied at post_read_request).
PHASE1_HOOK = "post_read_request"


@pytest.fixture(scope="module")
def h():
    h = harness.Httpd(name="waf", extra_modules=["unique_id", "security2"])
    h.conf("SecRuleEngine On")
    h.conf("SecTmpDir {root}/logs")
    h.conf("SecDataDir {root}/logs")
    h.conf("SecAuditEngine Off")
    h.body += RULE + "\n" + RULE1 + "\n"
    h.write("htdocs/app/page.html", "page")
    h.start()
    yield h
    h.cleanup()


def test_modsecurity_phase2_rule(h):
    assert h.get("/app/page.html?test=harmless").status == 200
    r = h.get("/app/page.html?test=attack")
    assert r.status == 403
    e = one_entry(h, "/app/page.html")
    assert e["reason"] == "waf"
    assert e["module"] == "mod_security2.c"
    assert e["phase"] == "fixups"      # ModSecurity's phase 2 hook
    assert e["waf_rule_id"] == "10001"
    assert decode(e["waf_msg"]) == "test rule"
    assert e["waf_phase"] == 2
    assert decode(e["file"]) == h.conf_file
    assert e["line"] == h.conf_line_of("id:10001")
    assert "ARGS:test" in decode(e["waf_match"])
    assert "10001" in decode(e["hint"])
    # ModSecurity's own line is still in the error log, unchanged
    assert "ModSecurity: Access denied with code 403 (phase 2)" in h.read_error_log()


def test_modsecurity_phase1_rule(h):
    r = h.get("/app/other", headers={"X-Evil": "1"})
    assert r.status == 403
    e = one_entry(h, "/app/other")
    assert e["reason"] == "waf"
    assert e["module"] == "mod_security2.c"
    assert e["phase"] == PHASE1_HOOK
    assert e["waf_rule_id"] == "10002"
    assert e["waf_phase"] == 1
    assert e["line"] == h.conf_line_of("id:10002")
    assert decode(e["waf_msg"]) == "evil header"
