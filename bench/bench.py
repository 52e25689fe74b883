#!/usr/bin/python3
"""bench.py — what loading mod_forbidden_explain costs, measured against
stock httpd in the same run, and the budgets it must meet.

Throughput: stock httpd and httpd with the module (same MPM, same config
otherwise, both on 127.0.0.1) driven by wrk alternately, A B A B ..., after a
warm-up, on six workloads; plus stock httpd with the debug logging an
administrator would turn on today (authz_core:debug rewrite:trace2).
Instructions: httpd -X under callgrind, per request, from two runs with
different request counts (start-up cancels out).  Memory: RSS of the
children before and after a long mixed run.

Prints figures and PASS/FAIL per budget; writes JSON to bench/results/.
Not a test: it judges nothing in CI.

    /usr/bin/python3 bench/bench.py [--quick]
    /usr/bin/python3 bench/bench.py --instructions-only require-ip-403
"""
import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import harness  # noqa: E402

WORKLOADS = [
    ("static-200", "/static.txt", 200),
    # an allowed file under an .htaccess of directives the module shadows:
    # httpd parses it on every request, and every shadow records its line
    ("htaccess-static-200", "/htok/x.txt", 200),
    ("require-ip-403", "/ipdeny/x.txt", 403),
    ("htaccess-require-403", "/htdeny/x.txt", 403),
    ("no-search-403", "/nosearch/x.txt", 403),
    ("htaccess-rewrite-403", "/htrw/x.txt", 403),
]
# Only for --instructions-only: a 403 whose entry is over the line budget, so
# the builder's size policy runs (the block list of issue 14: twenty ORed
# RewriteCond lines on the User-Agent, in front of RewriteRule [F]).
EXTRA_WORKLOADS = [
    ("blocklist-rewrite-403", "/bl/x.txt", 403),
]
BLOCKLIST_UA = "Mozilla/5.0 (compatible; crawler14h/2.1)"
DEBUG_WORKLOADS = {"require-ip-403", "htaccess-require-403", "no-search-403",
                   "htaccess-rewrite-403"}
# The module runs with its default, ForbiddenExplainRepeat compact: a flood
# of one cause writes one full entry and then short lines (issue 16).  The
# callgrind count of a 403 is also taken with `full`, every entry in full.
MODULE_REPEAT = None            # None: the module's default (compact)

SITE = """
<Directory "{docroot}/ipdeny">
    Require ip 10.9.9.9
</Directory>
<Directory "{docroot}/htdeny">
    AllowOverride AuthConfig
</Directory>
<Directory "{docroot}/htrw">
    AllowOverride FileInfo
</Directory>
<Directory "{docroot}/htok">
    AllowOverride All
</Directory>
"""


def build_site(h, debug=False, blocklist=False):
    h.conf(SITE)
    if debug:
        h.conf("LogLevel warn authz_core:debug rewrite:trace2")
    # wrk is the only client: access logging would dominate and is the same
    # for both sides; keep it, as a real server has it.
    h.write("htdocs/static.txt", "x" * 512)
    h.write("htdocs/ipdeny/x.txt", "x")
    h.write("htdocs/htdeny/.htaccess", "Require all denied\n")
    h.write("htdocs/htdeny/x.txt", "x")
    h.mkdir("htdocs/nosearch", mode=0o700, owner=("root", "root"))
    h.write("htdocs/nosearch/x.txt", "x")
    h.write("htdocs/htrw/.htaccess", "RewriteEngine On\nRewriteRule ^x\\.txt$ - [F]\n")
    h.write("htdocs/htrw/x.txt", "x")
    h.write("htdocs/htok/.htaccess", "Require all granted\nOptions -Indexes\n"
            "RewriteEngine On\nRewriteRule ^nothing$ - [F]\n")
    h.write("htdocs/htok/x.txt", "x" * 512)
    if not blocklist:
        return
    conds = []
    for i in range(20):
        words = "|".join("crawler%02d%s" % (i, c) for c in "abcdefghijklmnopqrstuvwxyz")
        conds.append("RewriteCond %%{HTTP_USER_AGENT} (%s) %s"
                     % (words, "[NC,OR]" if i < 19 else "[NC]"))
    h.write("conf/blocklist.conf", "RewriteEngine On\n" + "\n".join(conds)
            + "\nRewriteRule ^/bl/ - [F]\n")
    h.conf("Include %s/conf/blocklist.conf" % h.root)
    h.write("htdocs/bl/x.txt", "x")


def make_server(kind, mpm):
    h = harness.Httpd(name="bench-" + kind, mpm=mpm, with_module=(kind == "module"))
    h.repeat = MODULE_REPEAT
    build_site(h, debug=(kind == "debug"))
    return h


def wrk(port, path, seconds, conns=16, threads=2):
    out = subprocess.run(
        ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds,
         "http://127.0.0.1:%d%s" % (port, path)],
        capture_output=True, text=True, check=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    return float(m.group(1)), int(n.group(1))


def children_cpu_us(h):
    """user and system CPU time (µs) of httpd's children so far."""
    tick = os.sysconf("SC_CLK_TCK")
    kids = subprocess.run(["pgrep", "-P", str(h.pid())], capture_output=True,
                          text=True).stdout.split()
    user = system = 0
    for pid in kids:
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            user += int(fields[11])
            system += int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return user * 1e6 / tick, system * 1e6 / tick


def throughput(servers, rounds, seconds, warmup):
    results = {}
    for name, path, status in WORKLOADS:
        sides = ["stock", "module"] + (["debug"] if name in DEBUG_WORKLOADS else [])
        for side in sides:
            assert servers[side].get(path).status == status, (side, path)
            wrk(servers[side].port, path, warmup)
        per = {s: [] for s in sides}
        log_bytes, cpu = {}, {}
        for _ in range(rounds):
            for side in sides:
                # A 403 flood writes up to 50 MB/s of error log; left to
                # grow, the page cache's writeback runs in whichever round
                # comes next.  Emptied before each round (httpd appends),
                # the rounds measure the request, and the bytes per request
                # are reported on their own.
                for h in servers.values():
                    os.truncate(h.error_log, 0)
                u0, s0 = children_cpu_us(servers[side])
                rps, n = wrk(servers[side].port, path, seconds)
                u1, s1 = children_cpu_us(servers[side])
                per[side].append(rps)
                log_bytes.setdefault(side, []).append(
                    os.path.getsize(servers[side].error_log) / max(n, 1))
                cpu.setdefault(side, []).append(((u1 - u0) / max(n, 1),
                                                 (s1 - s0) / max(n, 1)))
        results[name] = {
            s: {"median": statistics.median(v), "min": min(v), "max": max(v),
                "error_log_bytes_per_request": statistics.median(log_bytes[s]),
                "cpu_user_us_per_request": statistics.median(c[0] for c in cpu[s]),
                "cpu_system_us_per_request": statistics.median(c[1] for c in cpu[s])}
            for s, v in per.items()}
        results[name]["ratio_module_stock"] = (
            results[name]["module"]["median"] / results[name]["stock"]["median"])
    return results


def callgrind_instructions(with_module, path, count, mpm="prefork",
                           repeat=MODULE_REPEAT):
    """Total instructions of httpd -X serving `count` requests of path
    (repeat: the ForbiddenExplainRepeat mode, None for the default)."""
    h = harness.Httpd(name="cg", mpm=mpm, with_module=with_module)
    h.repeat = repeat
    build_site(h, blocklist=path.startswith("/bl/"))
    with open(h.conf_file, "w") as f:
        f.write(h.render_conf())
    # httpd drops to its User before callgrind writes the profile.
    out_dir = h.mkdir("callgrind", mode=0o777)
    out = os.path.join(out_dir, "callgrind.out")
    h.write("callgrind/callgrind.out", "", mode=0o666,
            owner=(harness.SERVER_USER, harness.SERVER_USER))
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                          harness.APACHE, "-X", "-f", h.conf_file],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        h.started = True
        h._wait_up(timeout=120)
        headers = {"User-Agent": BLOCKLIST_UA} if path.startswith("/bl/") else None
        for _ in range(count):
            h.get(path, timeout=30, headers=headers)
    finally:
        # httpd -X under valgrind ignores a plain SIGTERM now and then;
        # the stop command goes through the pid file like an admin's.
        subprocess.run([harness.APACHE, "-f", h.conf_file, "-k", "stop"],
                       capture_output=True)
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            p.wait()
        h.started = False
    total = None
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
    h.cleanup()
    return total


def instructions(quick, only=None):
    n1, n2 = (20, 120) if quick else (50, 550)
    res = {}
    for name, path, status in WORKLOADS + (EXTRA_WORKLOADS if only else []):
        if only is not None:
            if name not in only:
                continue
        elif status != 200 and name != "require-ip-403":
            continue
        res[name] = {}
        for side, mod in (("stock", False), ("module", True)):
            a = callgrind_instructions(mod, path, n1)
            b = callgrind_instructions(mod, path, n2)
            res[name][side] = (b - a) / (n2 - n1)
        res[name]["delta_per_request"] = res[name]["module"] - res[name]["stock"]
        res[name]["delta_percent"] = 100.0 * res[name]["delta_per_request"] / res[name]["stock"]
        if status == 403:
            # every entry in full (the +50 % budget of a full entry)
            a = callgrind_instructions(True, path, n1, repeat="full")
            b = callgrind_instructions(True, path, n2, repeat="full")
            res[name]["module_full"] = (b - a) / (n2 - n1)
            res[name]["full_delta_percent"] = (
                100.0 * (res[name]["module_full"] - res[name]["stock"]) / res[name]["stock"])
    return res


def child_rss_kib(h):
    parent = h.pid()
    total = 0
    kids = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True,
                          text=True).stdout.split()
    per = {}
    for pid in kids:
        try:
            with open("/proc/%s/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        per[pid] = int(line.split()[1])
        except OSError:
            pass
    for v in per.values():
        total += v
    return per


def memory(server, total_requests):
    lua = os.path.join(server.root, "mix.lua")
    with open(lua, "w") as f:
        f.write("local paths = {%s}\nlocal i = 0\nrequest = function()\n"
                "  i = i + 1\n  return wrk.format(nil, paths[(i %% #paths) + 1])\nend\n"
                % ", ".join('"%s"' % p for _, p, _ in WORKLOADS))
    before = child_rss_kib(server)
    done = 0
    while done < total_requests:
        out = subprocess.run(["wrk", "-t2", "-c16", "-d5s", "-s", lua,
                              "http://127.0.0.1:%d/" % server.port],
                             capture_output=True, text=True, check=True).stdout
        done += int(re.search(r"(\d+) requests in", out).group(1))
    after = child_rss_kib(server)
    growth = {pid: after[pid] - before[pid] for pid in after if pid in before}
    return {"requests": done, "rss_before_kib": before, "rss_after_kib": after,
            "max_growth_kib": max(growth.values()) if growth else None}


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    apache = subprocess.run([harness.APACHE, "-v"], capture_output=True,
                            text=True).stdout.splitlines()[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "apache": apache}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="short rounds (smoke)")
    ap.add_argument("--mpm", default="event")
    ap.add_argument("--skip-callgrind", action="store_true")
    ap.add_argument("--rounds", type=int, default=5,
                    help="A/B rounds per workload (more on a noisy machine)")
    ap.add_argument("--memory-requests", type=int, default=0, metavar="N",
                    help="mixed requests of the memory part (default 500000, "
                    "--quick 30000; issue 16's budget is over 500000)")
    ap.add_argument("--instructions-only", metavar="WORKLOAD,...",
                    help="only the callgrind count, for these workloads "
                    "(e.g. require-ip-403,htaccess-rewrite-403): minutes, "
                    "not the half hour of the whole run")
    args = ap.parse_args()
    if args.instructions_only:
        only = args.instructions_only.split(",")
        unknown = set(only) - {w[0] for w in WORKLOADS + EXTRA_WORKLOADS}
        if unknown:
            ap.error("unknown workload(s): " + ", ".join(sorted(unknown)))
        res = instructions(args.quick, only)
        for name, v in res.items():
            print("  %-20s stock %.0f  module %.0f  delta %+.0f (%+.2f%%)" % (
                name, v["stock"], v["module"], v["delta_per_request"],
                v["delta_percent"]))
            if "module_full" in v:
                print("  %-20s full entries: module %.0f (%+.2f%%)" % (
                    "", v["module_full"], v["full_delta_percent"]))
        return
    rounds, seconds, warmup = (2, 2, 1) if args.quick else (args.rounds, 5, 2)

    servers = {k: make_server(k, args.mpm) for k in ("stock", "module", "debug")}
    try:
        for h in servers.values():
            h.start()
        res = {"machine": machine(), "mpm": args.mpm,
               "date": datetime.datetime.utcnow().isoformat() + "Z",
               "rounds": rounds, "seconds_per_round": seconds}
        res["throughput"] = throughput(servers, rounds, seconds, warmup)
        res["memory"] = memory(servers["module"], args.memory_requests or
                               (30000 if args.quick else 500000))
    finally:
        for h in servers.values():
            h.cleanup()
    if not args.skip_callgrind:
        res["instructions"] = instructions(args.quick)

    budgets = []
    t = res["throughput"]
    for name, _, status in WORKLOADS:
        if status != 200:
            continue
        r = t[name]["ratio_module_stock"]
        budgets.append(("%s: throughput ratio >= 0.99" % name, r >= 0.99, "%.3f" % r))
        if "instructions" in res:
            # issue 16: allowed requests <= +1 % instructions against stock
            d = res["instructions"][name]["delta_percent"]
            budgets.append(("%s: <= 1%% more instructions" % name, d <= 1.0,
                            "%+.2f%%" % d))
    for name, _, status in WORKLOADS:
        if status != 403:
            continue
        r = t[name]["ratio_module_stock"]
        budgets.append(("%s: throughput ratio >= 0.95" % name, r >= 0.95, "%.3f" % r))
        if "debug" in t[name]:
            faster = t[name]["module"]["median"] > t[name]["debug"]["median"]
            budgets.append(("%s: faster than debug logging" % name, faster,
                            "%.0f vs %.0f req/s" % (t[name]["module"]["median"],
                                                    t[name]["debug"]["median"])))
    if "instructions" in res and "require-ip-403" in res["instructions"]:
        # issue 16: a full entry (ForbiddenExplainRepeat full) costs at most
        # +50 % instructions against stock for the Require-ip 403
        v = res["instructions"]["require-ip-403"]
        d = v.get("full_delta_percent", v["delta_percent"])
        budgets.append(("full entry (require-ip-403): <= 50% more instructions",
                        d <= 50.0, "%+.1f%%" % d))
    # ForbiddenExplainRepeat compact (the module's default) under a flood of
    # one cause: the bytes each 403 adds to the error log, and the CPU it
    # costs, against the debug logging an administrator would use instead
    for name, _, status in WORKLOADS:
        if status != 403:
            continue
        w = t[name]
        mb = w["module"]["error_log_bytes_per_request"]
        sb = w["stock"]["error_log_bytes_per_request"]
        budgets.append(("%s: compact: log bytes per 403 <= stock line + 200" % name,
                        mb <= sb + 200, "%.0f vs %.0f + 200 B (the module's line: %.0f B)"
                        % (mb, sb, mb - sb)))
        if "debug" in w:
            mc = w["module"]["cpu_user_us_per_request"] + w["module"]["cpu_system_us_per_request"]
            dc = w["debug"]["cpu_user_us_per_request"] + w["debug"]["cpu_system_us_per_request"]
            budgets.append(("%s: compact: CPU per 403 below debug logging" % name,
                            mc < dc, "%.1f vs %.1f us" % (mc, dc)))
    g = res["memory"]["max_growth_kib"]
    budgets.append(("memory growth per child <= 1 MiB", g is not None and g <= 1024,
                    "%s KiB" % g))
    res["budgets"] = [{"budget": b, "pass": p, "value": v} for b, p, v in budgets]

    print("machine: %(cpu)s, %(cores)d cores, kernel %(kernel)s, %(apache)s" % res["machine"])
    print("mpm %s, %d rounds x %ds per side, alternating\n" % (args.mpm, rounds, seconds))
    print("%-22s %12s %12s %12s %7s %18s" % ("workload", "stock r/s", "module r/s",
                                            "debug r/s", "ratio", "log B/req s/m/d"))
    for name, _, _ in WORKLOADS:
        w = t[name]
        dbg = w.get("debug")
        print("%-22s %12.0f %12.0f %12s %7.3f %18s" % (
            name, w["stock"]["median"], w["module"]["median"],
            "%.0f" % dbg["median"] if dbg else "-", w["ratio_module_stock"],
            "%.0f/%.0f/%s" % (w["stock"]["error_log_bytes_per_request"],
                              w["module"]["error_log_bytes_per_request"],
                         "%.0f" % dbg["error_log_bytes_per_request"] if dbg else "-")))
        print("%-22s %12s %12s" % ("", "[%.0f-%.0f]" % (w["stock"]["min"], w["stock"]["max"]),
                                   "[%.0f-%.0f]" % (w["module"]["min"], w["module"]["max"])))
    print("\nCPU of httpd's children per request, user + system (µs, median of rounds):")
    for name, _, _ in WORKLOADS:
        w = t[name]
        print("  %-20s %s" % (name, "   ".join(
            "%s %.1f + %.1f" % (side, w[side]["cpu_user_us_per_request"],
                                w[side]["cpu_system_us_per_request"])
            for side in ("stock", "module", "debug") if side in w)))
    if "instructions" in res:
        print("\ninstructions per request (callgrind, httpd -X):")
        for name, v in res["instructions"].items():
            print("  %-20s stock %.0f  module %.0f  delta %+.0f (%+.2f%%)" % (
                name, v["stock"], v["module"], v["delta_per_request"], v["delta_percent"]))
            if "module_full" in v:
                print("  %-20s full entries: module %.0f (%+.2f%%)" % (
                    "", v["module_full"], v["full_delta_percent"]))
    print("\nmemory: %d mixed requests, max RSS growth of a child: %s KiB" % (
        res["memory"]["requests"], g))
    print("\nbudgets:")
    for b in res["budgets"]:
        print("  %s  %-50s %s" % ("PASS" if b["pass"] else "FAIL", b["budget"], b["value"]))

    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    out = os.path.join(HERE, "results", "bench-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    with open(out, "w") as f:
        json.dump(res, f, indent=2)
    print("\nresults: " + out)


if __name__ == "__main__":
    main()
