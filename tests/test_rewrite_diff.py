"""test_rewrite_diff.py — differential test of the mod_rewrite replay.

Seeded random rule sets (server, virtual host, <Directory> global and of the
virtual host, <Location>, .htaccess at two levels; [F],
[R=403], [E=], [L], [C], [S=1], [N], [END], [QSA], [QSD], [DPI], [NC],
substitutions with and without a query string; RewriteOptions Inherit,
InheritBefore, InheritDown, InheritDownBefore, IgnoreInherit; conditions on
QUERY_STRING, HTTP_REFERER, HTTP_USER_AGENT, REQUEST_URI, REQUEST_FILENAME
-f/-d, ENV with [OR] and [NC]; file and directory URLs) are served twice:

  * by stock httpd (no module) with `LogLevel rewrite:trace4`.  Every
    RewriteRule pattern carries a unique PCRE comment `(?#rN)`, so the trace's
    last "applying pattern" before "forcing responsecode 403" is the rule that
    fired: the truth;
  * by httpd with mod_forbidden_explain at the default LogLevel: its entry
    names a rule (wrong unless it is the truth) or says it cannot tell.

Asserted: statuses identical with and without the module, an entry for
every 403 and for nothing else, 0 wrong rule names, at most 5 % "cannot
tell".  Many trees (/t0, /t1, ...) with their own rules share one server
start, so the CI run (>= 300 cases that are 403 on stock) takes about two
minutes on 2 cores.

  FX_DIFF_CASES=3000   cases that are 403 on stock to reach (default 600)
  FX_DIFF_SEED=N       the seed (default 1201; printed with the counts)
"""
import os
import random
import re
import time

import harness
from harness import decode, strict_json, ENTRY_RE

CASES = int(os.environ.get("FX_DIFF_CASES", "600"))
SEED = int(os.environ.get("FX_DIFF_SEED", "1201"))
TREES_PER_ROUND = 36
# debugging aid: generate but do not run the first N rounds of a seed
SKIP_ROUNDS = int(os.environ.get("FX_DIFF_SKIP_ROUNDS", "0"))

# URLs of one tree, relative to /tK/
URLS = ["x.txt", "y.php", "a/x.txt", "a/b/x.txt", "a/b/y.txt", "a/", "a/b/",
        "a/.secret", "nope.txt", "a/b/x.txt.tmp", "a/b/.git/config",
        "a/b/x.txt.bak"]
FILES = ["x.txt", "y.php", "a/x.txt", "a/b/x.txt", "a/b/y.txt",
         "a/index.html", "a/b/index.html", "a/.secret", "a/b/.git/config",
         "a/b/x.txt.bak"]
QUERIES = [None, "x=1", "y=2", "k=v&x=1"]
REFERERS = [None, "http://good.example/p", "http://evil.example/p"]
AGENTS = [None, "zgrab/0.1", "Mozilla/5.0"]
OPTIONS = [None, None, None, "Inherit", "InheritBefore", "InheritDown",
           "InheritDownBefore", "IgnoreInherit"]
CONTEXT_DEPTH = {"S": None, "D0": "", "D1": "a/", "H": "a/b/", "HA": "a/",
                 "L": "a/"}


class Gen:
    def __init__(self, rnd):
        self.rnd = rnd
        self.n = 0

    def subjects(self, tree, ctx):
        """What a rule of ctx matches for the tree's URLs."""
        depth = CONTEXT_DEPTH[ctx]
        out = []
        for u in URLS:
            if depth is None:
                out.append("/t%d/%s" % (tree, u))
            elif u.startswith(depth):
                rest = u[len(depth):]
                out.append(rest + "index.html" if rest.endswith("/") or rest == ""
                           else rest)
        return out or ["x.txt"]

    def pattern(self, tree, ctx):
        """A pattern for ctx; server-context ones only ever match URLs of
        their own tree, so the trees of one server stay independent."""
        r = self.rnd
        s = r.choice(self.subjects(tree, "D0" if ctx == "S" else ctx))
        form = r.randrange(8)
        if form == 0:
            p = "^" + re.escape(s) + "$"
        elif form == 1:
            p = re.escape(s[-4:]) + "$"
        elif form == 2:
            p = "^" + re.escape(s[:r.randrange(1, max(2, len(s)))])
        elif form == 3:
            p = "^(.*)\\.(txt|php)$"
        elif form == 4:
            p = r.choice(["^", ".", "^$", "x", "\\.", "(^|/)\\."])
        elif form == 5:
            p = "^(.*)\\.tmp$"
        elif form == 6:
            p = re.escape(s.rsplit("/", 1)[-1])
        else:
            p = "(\\.git|\\.bak)"
        if ctx == "S":
            p = "^/t%d/" % tree + (p[1:] if p.startswith("^") else ".*" + p)
        nc = r.random() < 0.2
        if nc:
            p = p.upper().replace("/T%d/" % tree, "/t%d/" % tree)
        neg = ctx != "S" and r.random() < 0.1 and "(" not in p
        self.n += 1
        rid = self.n
        return ("!" if neg else "") + "(?#r%d)" % rid + p, rid, nc, form == 5

    def target(self, tree, ctx):
        r = self.rnd
        depth = CONTEXT_DEPTH[ctx]
        files = [f for f in FILES if depth is None or f.startswith(depth)]
        f = r.choice(files or ["x.txt"])
        t = "/t%d/%s" % (tree, f) if depth is None else f[len(depth):]
        if r.random() < 0.3:
            t += "?" + r.choice(["x=1", "y=2", "k=v"])
        return t

    def condition(self, tree):
        r = self.rnd
        c = r.choice([
            "%{QUERY_STRING} ^x=1$", "%{QUERY_STRING} =y=2",
            "%{QUERY_STRING} !^$", "%{QUERY_STRING} x=1",
            "%{HTTP_REFERER} ^http://evil", "%{HTTP_REFERER} !^$",
            "%{HTTP_REFERER} !good\\.example",
            "%{HTTP_USER_AGENT} ZGRAB", "%{HTTP_USER_AGENT} ^Mozilla",
            "%{REQUEST_URI} \\.txt$", "%%{REQUEST_URI} ^/t%d/a/" % tree,
            "%{REQUEST_FILENAME} -f", "%{REQUEST_FILENAME} !-f",
            "%{REQUEST_FILENAME} -d", "%{ENV:flag} =1", "%{ENV:flag} !=1",
        ])
        if r.random() < 0.2:
            # rules that set the variable and rules that read it meet often
            c = r.choice(["%{ENV:flag} =1", "%{ENV:flag} !=1", "%{ENV:flag} ^$"])
        flags = []
        if r.random() < 0.25:
            flags.append("NC")
        return c, flags

    def rules(self, tree, ctx, nmax=3):
        r = self.rnd
        out = []
        for _ in range(r.randrange(0, nmax + 1)):
            pat, rid, nc, tmp = self.pattern(tree, ctx)
            conds = []
            for i in range(r.choice([0, 0, 1, 1, 2])):
                c, fl = self.condition(tree)
                conds.append([c, fl])
            if len(conds) == 2 and r.random() < 0.4:
                conds[0][1].append("OR")
            flags = []
            if tmp and r.random() < 0.7:
                sub = "$1"
                flags.append("N")
            elif r.random() < 0.55:
                sub = "-"
                x = r.random()
                if x < 0.55:
                    flags.append("F")
                elif x < 0.65:
                    flags.append("R=403")
                elif x < 0.85:
                    flags.append("E=flag:1")
            else:
                sub = self.target(tree, ctx)
                if r.random() < 0.3:
                    flags.append(r.choice(["QSA", "QSD"]))
            if sub != "-" and ctx == "S" and r.random() < 0.1:
                flags.append("PT")
            if sub != "-" and r.random() < 0.08:
                flags.append("R")
            for f in ("L", "C", "S=1", "S=2", "END", "DPI", "E=!flag"):
                if f not in flags and r.random() < 0.07:
                    flags.append(f)
            if "F" not in flags and "E=flag:1" not in flags and r.random() < 0.2:
                flags.append("E=flag:1")
            if nc:
                flags.append("NC")
            line = []
            for c, fl in conds:
                line.append("RewriteCond %s%s" % (c, " [%s]" % ",".join(fl) if fl else ""))
            line.append("RewriteRule %s %s%s" % (pat, sub, " [%s]" % ",".join(flags) if flags else ""))
            out.append("\n".join(line))
        return out

    def options(self):
        o = self.rnd.choice(OPTIONS)
        return ["RewriteOptions %s" % o] if o else []


def build_round(rnd, gen, first_tree):
    """Configuration text (with @DOCROOT@, @PORT2@, @VHOPTS@, @VHRULES@)
    and the cases."""
    main_opts = rnd.choice([None, None, "InheritDown", "InheritDownBefore"])
    vh_opts = rnd.choice([None, "Inherit", "InheritBefore", "IgnoreInherit"])
    main_rules, vh_rules, dirs, htaccess, cases = [], [], [], {}, []
    vh_dirs = []
    for tree in range(first_tree, first_tree + TREES_PER_ROUND):
        main_rules += gen.rules(tree, "S", 2)
        vh_rules += gen.rules(tree, "S", 2)
        d = "@DOCROOT@/t%d" % tree
        sec = ["AllowOverride FileInfo"]
        if rnd.random() < 0.75:
            sec += ["RewriteEngine On"] + gen.options() + gen.rules(tree, "D0")
        dirs.append("<Directory %s>\n%s\n</Directory>" % (d, "\n".join(sec)))
        if rnd.random() < 0.55:
            dirs.append("<Directory %s/a>\nRewriteEngine On\n%s\n</Directory>" % (
                d, "\n".join(gen.options() + gen.rules(tree, "D1"))))
        elif rnd.random() < 0.3:
            # a section without rewrite directives keeps the parent's rules
            dirs.append("<Directory %s/a>\nOptions +FollowSymLinks\n</Directory>" % d)
        if rnd.random() < 0.55:
            htaccess[tree] = "\n".join(
                ["RewriteEngine On", "RewriteBase /t%d/a/b/" % tree]
                + gen.options() + gen.rules(tree, "H")) + "\n"
        if rnd.random() < 0.25:
            htaccess[(tree, "a")] = "\n".join(
                ["RewriteEngine On", "RewriteBase /t%d/a/" % tree]
                + gen.options() + gen.rules(tree, "HA")) + "\n"
        if rnd.random() < 0.2:
            # the location walk merges after the directory walk
            dirs.append("<Location /t%d/a>\nRewriteEngine On\n%s\n</Location>" % (
                tree, "\n".join(gen.options() + gen.rules(tree, "L"))))
        vhost = rnd.random() < 0.4
        if vhost and rnd.random() < 0.35:
            # a <Directory> of the virtual host only, merged after the
            # global ones of the same walk
            vh_dirs.append("<Directory %s/a/b>\nRewriteEngine On\n%s\n</Directory>" % (
                d, "\n".join(gen.options() + gen.rules(tree, "H"))))
        urls = URLS + [rnd.choice(URLS) for _ in range(3)]
        for u in urls:
            cases.append({
                "tree": tree, "vhost": vhost,
                "path": "/t%d/%s" % (tree, u),
                "query": rnd.choice(QUERIES),
                "referer": rnd.choice(REFERERS),
                "agent": rnd.choice(AGENTS),
            })
    conf = ["RewriteEngine On"]
    if rnd.random() < 0.5:
        # a variable set before mod_rewrite runs, read and changed by rules
        conf.append("SetEnvIf User-Agent zgrab flag=1")
    if main_opts:
        conf.append("RewriteOptions " + main_opts)
    conf += main_rules + dirs
    conf.append("Listen 127.0.0.1:@PORT2@")
    conf.append("<VirtualHost 127.0.0.1:@PORT2@>\nServerName vh.example\n"
                "DocumentRoot @DOCROOT@\nRewriteEngine On\n@VHOPTS@\n"
                "@VHRULES@\n" + "\n".join(vh_dirs) + "\n</VirtualHost>")
    text = "\n".join(conf) + "\n"
    return text, vh_opts, vh_rules, htaccess, cases


class LogTail:
    def __init__(self, path):
        self.path = path
        self.off = 0

    def new(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except OSError:
            return ""
        cut = data.rfind(b"\n") + 1
        self.off += cut
        return data[:cut].decode("latin-1")


def start_server(with_module, text, vh_opts, vh_rules, htaccess):
    h = harness.Httpd(name="rwdiff-%s" % ("fx" if with_module else "stock"),
                      with_module=with_module)
    port2 = harness.free_port()
    h.port2 = port2
    body = (text.replace("@DOCROOT@", h.docroot)
            .replace("@PORT2@", str(port2))
            .replace("@VHOPTS@", ("RewriteOptions " + vh_opts) if vh_opts else "")
            .replace("@VHRULES@", "\n".join(vh_rules)))
    if not with_module:
        body = "LogLevel warn rewrite:trace4\n" + body
    h.body += body
    for tree in sorted(set(int(t) for t in re.findall(r"/t(\d+)\b", body))):
        for f in FILES:
            h.write("htdocs/t%d/%s" % (tree, f), "t%d %s\n" % (tree, f))
        if tree in htaccess:
            h.write("htdocs/t%d/a/b/.htaccess" % tree, htaccess[tree])
        if (tree, "a") in htaccess:
            h.write("htdocs/t%d/a/.htaccess" % tree, htaccess[(tree, "a")])
    h.start()
    return h


def send(h, case):
    target = case["path"] + ("?" + case["query"] if case["query"] else "")
    headers = {}
    if case["referer"]:
        headers["Referer"] = case["referer"]
    if case["agent"]:
        headers["User-Agent"] = case["agent"]
    port = h.port
    if case["vhost"]:
        h.port = h.port2
    try:
        return h.request(target, headers=headers).status
    finally:
        h.port = port


APPLY_RE = re.compile(r"applying pattern '.*?\(\?#r(\d+)\)")


def truth_of(trace):
    """The rule whose [F]/[R=403] answered, from a request's trace lines."""
    last = None
    fired = None
    for line in trace.splitlines():
        m = APPLY_RE.search(line)
        if m:
            last = int(m.group(1))
        elif "forcing responsecode 403" in line:
            fired = last
    return fired


def entries_of(text):
    out = []
    for line in text.splitlines():
        m = ENTRY_RE.search(line)
        if m:
            out.append(strict_json(m.group(2))[0])
    return out


def run_round(text, vh_opts, vh_rules, htaccess, cases):
    stock = start_server(False, text, vh_opts, vh_rules, htaccess)
    try:
        tail = LogTail(stock.error_log)
        for c in cases:
            c["stock"] = send(stock, c)
            c["trace"] = tail.new()
            c["truth"] = truth_of(c["trace"])
    finally:
        stock.cleanup()
    fx = start_server(True, text, vh_opts, vh_rules, htaccess)
    try:
        tail = LogTail(fx.error_log)
        for c in cases:
            c["fx"] = send(fx, c)
            got = entries_of(tail.new())
            if c["fx"] == 403 and not got:
                deadline = time.time() + 2
                while not got and time.time() < deadline:
                    time.sleep(0.005)
                    got = entries_of(tail.new())
            c["entries"] = got
        time.sleep(0.3)
        late = entries_of(tail.new())
        assert not late, late
    finally:
        fx.cleanup()


def dump_case(c, conf, e):
    """Write what a failing case needs to be reproduced by hand."""
    d = os.environ.get("FX_DIFF_DUMP", "/tmp/fx-rwdiff-failures")
    os.makedirs(d, exist_ok=True)
    name = os.path.join(d, "t%d-%d.txt" % (c["tree"], abs(hash(c["path"])) % 10000))
    with open(name, "w") as f:
        f.write("case: %r\n" % {k: v for k, v in c.items()
                                 if k not in ("trace", "entries")})
        f.write("entry: %r\n\nmain RewriteOptions / text:\n%s\n" % (e, conf["text"]))
        f.write("\nvhost options: %r\nvhost rules:\n%s\n" % (
            conf["vh_opts"], "\n".join(conf["vh_rules"])))
        f.write("\n.htaccess:\n%s\n" % conf["htaccess"].get(c["tree"], "-"))
        f.write("\na/.htaccess:\n%s\n" % conf["htaccess"].get((c["tree"], "a"), "-"))
        f.write("\ntrace:\n%s\n" % c["trace"])


def named_rule(entry):
    m = re.search(r"\(\?#r(\d+)\)", decode(entry.get("directive", "")))
    return int(m.group(1)) if m else None


def test_rewrite_differential():
    rnd = random.Random(SEED)
    gen = Gen(rnd)
    counts = {"cases": 0, "stock_403": 0, "with_truth": 0, "right": 0,
              "wrong": 0, "cannot_tell": 0, "other_403": 0}
    wrong, cannot, mismatched = [], [], []
    tree = 0
    t0 = time.time()
    rounds = 0
    while counts["with_truth"] < CASES:
        text, vh_opts, vh_rules, htaccess, cases = build_round(rnd, gen, tree)
        tree += TREES_PER_ROUND
        rounds += 1
        if rounds <= SKIP_ROUNDS:
            continue
        run_round(text, vh_opts, vh_rules, htaccess, cases)
        conf_of = dict(text=text, vh_opts=vh_opts, vh_rules=vh_rules,
                       htaccess=htaccess)
        for c in cases:
            counts["cases"] += 1
            if c["stock"] != c["fx"]:
                mismatched.append(c)
            if c["fx"] == 403:
                assert len(c["entries"]) == 1, c
            else:
                assert c["entries"] == [], c
            if c["stock"] != 403:
                continue
            counts["stock_403"] += 1
            if c["truth"] is None:
                counts["other_403"] += 1
                continue
            counts["with_truth"] += 1
            e = c["entries"][0] if c["entries"] else {}
            n = named_rule(e)
            if n is None:
                counts["cannot_tell"] += 1
                cannot.append((c, decode(e.get("detail", ""))))
                dump_case(c, conf_of, e)
            elif n == c["truth"]:
                counts["right"] += 1
            else:
                counts["wrong"] += 1
                wrong.append((c, n, decode(e.get("directive", ""))))
                dump_case(c, conf_of, e)
        if tree > 40 * TREES_PER_ROUND:
            break
    print("\nrewrite differential: seed=%d %s in %.0fs" % (
        SEED, " ".join("%s=%d" % kv for kv in counts.items()),
        time.time() - t0))
    for c, d in cannot[:10]:
        print("cannot tell:", c["path"], c["query"], c["truth"], d)
    assert not mismatched, mismatched[:5]
    assert not wrong, wrong[:5]
    assert counts["with_truth"] >= CASES
    assert counts["cannot_tell"] <= 0.05 * counts["with_truth"], cannot[:5]
