"""test_parts_joined.py — where the simulator, report-only rules, repeat
lines and counters meet: the what-if simulator answers for the candidate
rules in effect and leaves the counters as they were (issue 15), a flood of
one would-deny cause collapses into repeat lines like regular entries, and
would_deny is counted per candidate rule (issue 17)."""
import json
import re

import harness
from harness import decode as d

SITE = """
<Location "/admin">
    <ForbiddenExplainReportOnly>
        Require ip 10.1.2.0/24 127.0.0.2
    </ForbiddenExplainReportOnly>
</Location>
<Location "/denied">
    Require ip 10.9.9.9
</Location>
<Location "/fx-metrics">
    SetHandler forbidden-explain-metrics
    Require local
</Location>
<Location "/.fx-whatif">
    SetHandler forbidden-explain-whatif
    Require local
    ForbiddenExplainTrustedClients 127.0.0.1
</Location>
"""


def site(make_httpd, repeat="full"):
    h = make_httpd(name="rojoined")
    h.repeat = repeat
    h.write("htdocs/admin/x.txt", "x\n")
    h.conf(SITE)
    h.start()
    return h


def ask(h, probe):
    r = h.request("/.fx-whatif", method="POST", body=json.dumps(probe).encode(),
                  headers={"Content-Type": "application/json"})
    assert r.status == 200, (r.status, r.body)
    obj, rest = harness.strict_json(r.body.decode())
    assert rest.strip() == ""
    return obj


def test_simulator_answers_for_candidate_rules(make_httpd):
    h = site(make_httpd)
    line = h.conf_line_of("Require ip 10.1.2.0/24")
    out = ask(h, {"method": "GET", "path": "/admin/x.txt",
                  "client_ip": "203.0.113.7"})
    assert out["verdict"] == "allowed" and out["status"] == 200
    ro = out["report_only"]
    assert ro["report_only_would_deny"] is True
    assert ro["report_only_rule"]["directive"] == "Require ip 10.1.2.0/24 127.0.0.2"
    assert ro["report_only_rule"]["line"] == line
    out = ask(h, {"method": "GET", "path": "/admin/x.txt",
                  "client_ip": "10.1.2.3"})
    assert out["verdict"] == "allowed"
    assert out["report_only"]["report_only_would_deny"] is False
    # outside every candidate: no report_only key at all
    out = ask(h, {"method": "GET", "path": "/", "client_ip": "203.0.113.7"})
    assert "report_only" not in out
    # and the simulation wrote no report-only entry
    assert [e for e in h.entries() if e.get("report_only")] == []


def test_would_deny_flood_collapses_into_repeats(make_httpd):
    h = site(make_httpd, repeat=None)       # the module's default: compact
    for _ in range(5):
        assert h.get("/admin/x.txt").status == 200
    got = [e for e in h.entries() if e.get("report_only")]
    full = [e for e in got if "repeat" not in e]
    rep = [e for e in got if "repeat" in e]
    assert len(full) == 1 and len(rep) == 4, got
    assert {r["repeat_of"] for r in rep} == {full[0]["request_id"]}
    assert sorted(r["repeat"] for r in rep) == [1, 2, 3, 4]
    for r in rep:
        assert r["status"] == 200 and r["reason"] == "authz"
        assert r["line"] == full[0]["line"]


def metric(h, name, **labels):
    text = h.get("/fx-metrics").body.decode()
    total = 0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line))
        if all(got.get(k) == str(v) for k, v in labels.items()):
            total += int(line.rsplit(" ", 1)[1])
    return total


def test_would_deny_counted_per_candidate_rule(make_httpd):
    h = site(make_httpd, repeat=None)
    line = h.conf_line_of("Require ip 10.1.2.0/24")
    for _ in range(3):
        assert h.get("/admin/x.txt").status == 200          # would deny
    assert h.get("/admin/x.txt", source="127.0.0.2").status == 200  # grants
    assert h.get("/elsewhere").status == 404
    h.entries()                                 # the entries are written
    assert metric(h, "forbidden_explain_would_deny_total",
                  line=line, rule="Require ip 10.1.2.0/24 127.0.0.2") == 3
    # a would-deny is not a 403
    assert metric(h, "forbidden_explain_denials_total") == 0


def test_simulations_leave_the_counters_alone(make_httpd):
    h = site(make_httpd, repeat=None)
    h.write("htdocs/denied/x.txt", "x\n")
    assert h.get("/denied/x.txt").status == 403
    h.entries()
    before = h.get("/fx-metrics").body.decode()
    assert metric(h, "forbidden_explain_denials_total") == 1
    for ip in ("203.0.113.7", "198.51.100.1", "127.0.0.1"):
        out = ask(h, {"method": "GET", "path": "/denied/x.txt", "client_ip": ip})
        assert out["verdict"] == "denied" and out["status"] == 403
        out = ask(h, {"method": "GET", "path": "/admin/x.txt", "client_ip": ip})
        assert out["verdict"] == "allowed"
    assert h.get("/fx-metrics").body.decode() == before
