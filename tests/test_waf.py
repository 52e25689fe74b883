"""test_waf.py — a real ModSecurity (Debian's libapache2-mod-security2) rule
denies with 403; the entry carries its id, msg, file:line and phase as
ModSecurity reported them."""
import pytest

import harness
from harness import decode, one_entry, response_and_entry

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


def test_direct_rule_protection_and_fix(h):
    """A rule that denies by itself (phase 2): a WAF protection; its
    exclusion for the variable and path goes right after the rule, and
    applied to a copy of the configuration on stock httpd it lets this
    request through while the rule still guards other paths."""
    r, e = response_and_entry(h, lambda: h.get("/app/page.html?test=attack"))
    assert r.status == 403
    assert e["protection"] == "waf"
    assert e["hint_verified"] is False
    assert decode(e["waf_variable"]) == "ARGS:test"
    assert decode(e["directive"]) == RULE
    hint = decode(e["hint"])
    assert "false positive" in hint and "SecRuleRemoveById" not in hint
    (op,) = e["fix"]
    assert op["op"] == "insert" and decode(op["file"]) == h.conf_file
    assert op["after_line"] == h.conf_line_of("id:10001")
    text = decode(op["text"])
    assert "ctl:ruleRemoveTargetById=10001;ARGS:test" in text
    assert '"@streq /app/page.html"' in text

    with open(h.conf_file) as f:
        lines = f.read().split("\n")
    lines[op["after_line"]:op["after_line"]] = text.split("\n")
    stock = harness.Httpd(name="waf-fixed", with_module=False,
                          extra_modules=["unique_id", "security2"])
    conf = "\n".join(l for l in lines
                     if not l.startswith("LoadModule forbidden_explain"))
    conf = conf.replace(h.root, stock.root).replace(
        "127.0.0.1:%d" % h.port, "127.0.0.1:%d" % stock.port)
    stock.render_conf = lambda: conf
    stock.write("htdocs/app/page.html", "page")
    stock.write("htdocs/app/other.html", "other")
    try:
        stock.start()
        assert stock.get("/app/page.html?test=attack").status == 200
        assert stock.get("/app/other.html?test=attack").status == 403
        assert stock.get("/app/page.html", headers={"X-Evil": "1"}).status == 403
    finally:
        stock.cleanup()


def test_phase1_rule_gets_no_fix_it_cannot_place(h):
    r = h.get("/app/third", headers={"X-Evil": "1"})
    assert r.status == 403
    e = one_entry(h, "/app/third")
    assert e["protection"] == "waf"
    # a phase:1 exclusion after a phase 1 rule in the same file would run
    # too late: no machine fix, the hint says where it must go
    assert "fix" not in e
    assert "before the rule is read" in decode(e["hint"])
