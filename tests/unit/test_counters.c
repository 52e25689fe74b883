/* test_counters.c — unit tests for the denial counters' table
 * (src/fx_counter_table.c): counting, rule rows and their overflow, top-N,
 * minute buckets, the ring, migration, the escapes and the renderers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "fx_counter_table.h"
#include "unit.h"

static const unsigned char key0[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                        11, 12, 13, 14, 15 };

static fx_ct_table *make(apr_pool_t *p, apr_uint32_t n, apr_time_t now)
{
    void *mem = apr_palloc(p, fx_ct_size(n));
    memset(mem, 0xAB, fx_ct_size(n));       /* init must clear everything */
    fx_ct_init(mem, n, key0, now);
    return mem;
}

static fx_ct_event ev(fx_ct_kind kind, const char *reason, const char *rule,
                      const char *file, int line)
{
    fx_ct_event e;
    memset(&e, 0, sizeof(e));
    e.kind = kind;
    e.reason = reason;
    e.module = "mod_authz_core.c";
    e.phase = "access_checker_ex";
    e.rule = rule;
    e.file = file;
    e.line = line;
    e.vhost = "127.0.0.1:80";
    e.path = "/deny/x.txt";
    e.uri = "/deny/x.txt";
    e.hint = "a hint";
    e.request_id = "rid-1";
    return e;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    const char *s = hay;
    while ((s = strstr(s, needle))) {
        n++;
        s += strlen(needle);
    }
    return n;
}

static void test_strings(apr_pool_t *p)
{
    char buf[8];
    /* cuts never split a character */
    fx_ct_copy(buf, 4, "a\xC3\xA9\xC3\xA9");
    CHECK_STR(buf, "a\xC3\xA9");
    fx_ct_copy(buf, 3, "a\xC3\xA9");
    CHECK_STR(buf, "a");
    fx_ct_copy(buf, sizeof(buf), NULL);
    CHECK_STR(buf, "");
    fx_ct_copy(buf, sizeof(buf), "abc");
    CHECK_STR(buf, "abc");

    CHECK_STR(fx_ct_prom_escape(p, "a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    CHECK_STR(fx_ct_prom_escape(p, "x\xFFy"), "x\xEF\xBF\xBDy");
    CHECK_STR(fx_ct_prom_escape(p, "\xC3\xA9\xE2\x82\xAC"), "\xC3\xA9\xE2\x82\xAC");
    /* a surrogate and an overlong form are not UTF-8 */
    CHECK_STR(fx_ct_prom_escape(p, "\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_STR(fx_ct_prom_escape(p, "\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_STR(fx_ct_prom_escape(p, NULL), "");

    CHECK_STR(fx_ct_mask_address(p, "the client address 10.0.0.1 is not in "
                                 "10.0.0.10; add `Require ip 10.0.0.1`.",
                                 "10.0.0.1", "[client]"),
              "the client address [client] is not in 10.0.0.10; add "
              "`Require ip [client]`.");
    CHECK_STR(fx_ct_mask_address(p, "from 10.0.0.1.", "10.0.0.1", "X"),
              "from X.");
    CHECK_STR(fx_ct_mask_address(p, "110.0.0.1 10.0.0.1:80 10.0.0.1a",
                                 "10.0.0.1", "X"),
              "110.0.0.1 10.0.0.1:80 10.0.0.1a");
    CHECK_STR(fx_ct_mask_address(p, "::1 and ::1", "::1", "X"), "X and X");
    CHECK_STR(fx_ct_mask_address(p, "none", "10.0.0.1", "X"), "none");
    CHECK(fx_ct_mask_address(p, NULL, "10.0.0.1", "X") == NULL);
    CHECK_STR(fx_ct_html_escape(p, "<b>\"x\"&'"),
              "&lt;b&gt;&quot;x&quot;&amp;&#39;");
    CHECK_STR(fx_ct_html_escape(p, "a\nb\r\x7f\xFF\xC3\xA9"),
              "a%0Ab%0D%7F%FF\xC3\xA9");
}

static void test_hashes(apr_pool_t *p)
{
    unsigned char msg[15];
    int i;
    const char *h1, *h2;
    for (i = 0; i < 15; i++) {
        msg[i] = (unsigned char)i;
    }
    /* the reference vectors of the SipHash paper (key 00..0f) */
    CHECK(fx_ct_siphash(key0, msg, 0) == 0x726fdb47dd0e0e31ULL);
    CHECK(fx_ct_siphash(key0, msg, 15) == 0xa129ca6149be45e5ULL);
    CHECK(fx_ct_fnv(0xcbf29ce484222325ULL, "a", 1) == 0xaf63dc4c8601ec8cULL);

    h1 = fx_ct_client_hash(p, key0, "192.0.2.1");
    h2 = fx_ct_client_hash(p, key0, "192.0.2.2");
    CHECK_INT(strlen(h1), 18);
    CHECK(strncmp(h1, "h:", 2) == 0);
    CHECK(strcmp(h1, h2) != 0);
    CHECK_STR(fx_ct_client_hash(p, key0, "192.0.2.1"), h1);
}

static void test_counting(apr_pool_t *p)
{
    apr_time_t t0 = apr_time_from_sec(1700000000);
    fx_ct_table *t = make(p, 64, t0);
    fx_ct_event a = ev(FX_CT_DENIED, "authz", "Require ip 10.9.9.9",
                       "/etc/site.conf", 49);
    fx_ct_event b = ev(FX_CT_DENIED, "rewrite", "RewriteRule ^/x - [F]",
                       "/etc/site.conf", 60);
    fx_ct_event w = ev(FX_CT_WOULD, "authz", "Require ip 10.9.9.9",
                       "/etc/site.conf", 49);
    const fx_ct_rule *r;
    int i;

    CHECK(fx_ct_valid(t, fx_ct_size(64)));
    CHECK(!fx_ct_valid(t, fx_ct_size(63)));
    CHECK_INT(t->used_rules, 0);
    CHECK_INT(t->total.denied, 0);

    for (i = 0; i < 3; i++) {
        fx_ct_add(t, &a, t0 + apr_time_from_sec(i));
    }
    fx_ct_add(t, &b, t0);
    fx_ct_add(t, &w, t0 + apr_time_from_sec(5));
    CHECK_INT(t->total.denied, 4);
    CHECK_INT(t->total.would, 1);
    CHECK_INT(t->used_rules, 2);
    CHECK_STR(t->reasons[0].reason, "authz");
    CHECK_INT(t->reasons[0].n.denied, 3);
    CHECK_INT(t->reasons[0].n.would, 1);
    CHECK_STR(t->reasons[1].reason, "rewrite");
    CHECK_INT(t->reasons[1].n.denied, 1);
    CHECK_STR(t->modphases[0].module, "mod_authz_core.c");
    CHECK_INT(t->modphases[0].n.denied, 4);
    CHECK_STR(t->vhosts[0].vhost, "127.0.0.1:80");
    CHECK_INT(t->vhosts[0].n.denied, 4);

    r = fx_ct_find_rule(t, &a);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(r->n.denied, 3);
        CHECK_INT(r->n.would, 1);
        CHECK_INT(r->line, 49);
        CHECK(r->first_seen == t0);
        CHECK(r->last_seen == t0 + apr_time_from_sec(5));
        CHECK_STR(r->sample_rid, "rid-1");
        CHECK_STR(r->paths[0].key, "/deny/x.txt");
        CHECK_INT(r->paths[0].count, 4);
        CHECK_INT(r->clients[0].count, 0);      /* no client given */
    }
    /* another line is another rule */
    a.line = 50;
    CHECK(fx_ct_find_rule(t, &a) == NULL);
    a.line = 49;
    a.vhost = "other.example:80";
    CHECK(fx_ct_find_rule(t, &a) == NULL);

    /* the minute buckets: this minute holds 5 denials, would-deny apart */
    CHECK_INT(fx_ct_minute_count(&t->reasons[0],
                                 (apr_uint32_t)(1700000000 / 60)), 3);
    /* an hour later the bucket is reused, the old minute reads 0 */
    fx_ct_add(t, &b, t0 + apr_time_from_sec(3600));
    CHECK_INT(fx_ct_minute_count(&t->reasons[1],
                                 (apr_uint32_t)(1700000000 / 60)), 0);
    CHECK_INT(fx_ct_minute_count(&t->reasons[1],
                                 (apr_uint32_t)(1700003600 / 60)), 1);

    /* the ring keeps the last FX_CT_RECENT */
    CHECK_INT(t->recent_seq, 6);
    CHECK_STR(t->recent[5].rule, "RewriteRule ^/x - [F]");
    for (i = 0; i < 30; i++) {
        fx_ct_add(t, &b, t0);
    }
    CHECK_INT(t->recent_seq, 36);
    CHECK_INT(t->recent[(36 - 1) % FX_CT_RECENT].seq, 36);
    CHECK_INT(t->recent[(17 - 1) % FX_CT_RECENT].seq, 37 - FX_CT_RECENT);
}

static void test_topn(void)
{
    fx_ct_item items[4];
    char k[8];
    int i;
    memset(items, 0, sizeof(items));
    for (i = 0; i < 4; i++) {
        apr_snprintf(k, sizeof(k), "k%d", i);
        fx_ct_top_add(items, 4, k);
    }
    fx_ct_top_add(items, 4, "k0");
    fx_ct_top_add(items, 4, "k0");
    CHECK_INT(items[0].count, 3);
    /* a fifth key replaces a smallest one and inherits its count as err */
    fx_ct_top_add(items, 4, "new");
    CHECK_STR(items[1].key, "new");
    CHECK_INT(items[1].count, 2);
    CHECK_INT(items[1].err, 1);
    CHECK_STR(items[0].key, "k0");
    CHECK_INT(items[0].count, 3);
    CHECK_INT(items[0].err, 0);
}

static void test_overflow(apr_pool_t *p)
{
    apr_time_t t0 = apr_time_from_sec(1700000000);
    fx_ct_table *t = make(p, FX_CT_RULES_MIN, t0);
    apr_uint64_t in_rows = 0, i;
    char file[32], reason[16];

    for (i = 0; i < 100; i++) {
        fx_ct_event e;
        apr_snprintf(file, sizeof(file), "/f%d.conf", (int)i);
        e = ev(FX_CT_DENIED, "authz", "Require all denied", file, 1);
        fx_ct_add(t, &e, t0);
        fx_ct_add(t, &e, t0);
    }
    CHECK_INT(t->used_rules, FX_CT_RULES_MIN);
    for (i = 0; i < t->n_rules; i++) {
        in_rows += t->rules[i].n.denied;
    }
    CHECK_INT(in_rows + t->reasons[0].other.denied, 200);
    CHECK_INT(t->rule_overflow, t->reasons[0].other.denied);
    CHECK_INT(t->reasons[0].n.denied, 200);

    /* more reasons than rows: the rest is counted as "other" */
    for (i = 0; i < 40; i++) {
        fx_ct_event e;
        apr_snprintf(reason, sizeof(reason), "r%d", (int)i);
        e = ev(FX_CT_DENIED, reason, "", "", 0);
        fx_ct_add(t, &e, t0);
    }
    CHECK_STR(t->reasons[FX_CT_REASONS - 1].reason, "other");
    /* rows 1..30 took r0..r29; r30..r39 went to "other" */
    CHECK_INT(t->reasons[FX_CT_REASONS - 1].n.denied, 10);
    CHECK_STR(t->reasons[FX_CT_REASONS - 2].reason, "r29");
    CHECK_INT(t->total.denied, 240);
}

static void test_migrate(apr_pool_t *p)
{
    apr_time_t t0 = apr_time_from_sec(1700000000);
    fx_ct_table *a = make(p, FX_CT_RULES_MIN, t0), *b;
    fx_ct_event e = ev(FX_CT_DENIED, "authz", "Require all denied",
                       "/x.conf", 3);
    const fx_ct_rule *r;
    fx_ct_add(a, &e, t0);
    fx_ct_add(a, &e, t0);
    b = make(p, 256, t0 + apr_time_from_sec(99));
    fx_ct_migrate(b, a);
    CHECK(b->since == t0);
    CHECK_INT(b->total.denied, 2);
    CHECK_INT(b->used_rules, 1);
    CHECK_INT(b->n_rules, 256);
    r = fx_ct_find_rule(b, &e);
    CHECK(r && r->n.denied == 2);
    CHECK(memcmp(a->key, b->key, 16) == 0);
}

static void test_render(apr_pool_t *p)
{
    apr_time_t t0 = apr_time_from_sec(1700000000);
    fx_ct_table *t = make(p, 64, t0);
    fx_ct_event a = ev(FX_CT_DENIED, "authz", "Require ip 10.9.9.9",
                       "/etc/site.conf", 49);
    fx_ct_event h = ev(FX_CT_DENIED, "rewrite", "RewriteRule \"^/q\\\"<b>\" - [F]",
                       "/etc/site.conf", 60);
    fx_ct_event w = ev(FX_CT_WOULD, "authz", "Require ip 10.9.9.9",
                       "/etc/site.conf", 49);
    const char *m, *page, *aut, *sec;
    int i;

    h.uri = "/q\"<b>\nx</b>";
    h.path = "/q\"<b>\nx</b>";
    h.hint = "<script>alert(1)</script>";
    h.client = "h:0011223344556677";
    for (i = 0; i < 3; i++) {
        fx_ct_add(t, &a, t0);
    }
    fx_ct_add(t, &h, t0);
    fx_ct_add(t, &w, t0);

    m = fx_ct_render_metrics(p, t, 10);
    CHECK(strstr(m, "# TYPE forbidden_explain_denials_total counter\n") != NULL);
    CHECK(strstr(m, "forbidden_explain_denials_total{reason=\"authz\","
                 "module=\"mod_authz_core.c\",phase=\"access_checker_ex\","
                 "rule=\"Require ip 10.9.9.9\",file=\"/etc/site.conf\","
                 "line=\"49\",vhost=\"127.0.0.1:80\"} 3\n") != NULL);
    CHECK(strstr(m, "forbidden_explain_would_deny_total{reason=\"authz\","
                 "module=\"mod_authz_core.c\",phase=\"access_checker_ex\","
                 "rule=\"Require ip 10.9.9.9\",file=\"/etc/site.conf\","
                 "line=\"49\",vhost=\"127.0.0.1:80\"} 1\n") != NULL);
    CHECK(strstr(m, "rule=\"RewriteRule \\\"^/q\\\\\\\"<b>\\\" - [F]\"") != NULL);
    CHECK(strstr(m, "forbidden_explain_reason_denials_total{reason=\"authz\"} 3\n") != NULL);
    CHECK(strstr(m, "forbidden_explain_reason_would_deny_total{reason=\"authz\"} 1\n") != NULL);
    CHECK(strstr(m, "forbidden_explain_reason_denials_total{reason=\"rewrite\"} 1\n") != NULL);
    CHECK(strstr(m, "forbidden_explain_vhost_denials_total{vhost=\"127.0.0.1:80\"} 4\n") != NULL);
    CHECK(strstr(m, "forbidden_explain_module_denials_total{module=\"mod_authz_core.c\","
                 "phase=\"access_checker_ex\"} 4\n") != NULL);
    CHECK(strstr(m, ",rule=\"other\",") == NULL);
    CHECK_INT(count_of(m, "# TYPE "), 12);
    /* paths and clients are not labels (unbounded, request data) */
    CHECK(strstr(m, "/q") == NULL || strstr(m, "<b>\nx") == NULL);
    CHECK(strstr(m, "h:0011") == NULL);

    /* one rule series: the rest of each reason as rule="other" */
    m = fx_ct_render_metrics(p, t, 1);
    CHECK(strstr(m, "line=\"49\",vhost=\"127.0.0.1:80\"} 3\n") != NULL);
    CHECK(strstr(m, "forbidden_explain_denials_total{reason=\"rewrite\","
                 "module=\"other\",phase=\"other\",rule=\"other\",file=\"\","
                 "line=\"\",vhost=\"other\"} 1\n") != NULL);
    CHECK(strstr(m, "RewriteRule") == NULL);
    m = fx_ct_render_metrics(p, t, 0);
    CHECK(strstr(m, "forbidden_explain_denials_total{reason=\"authz\","
                 "module=\"other\",phase=\"other\",rule=\"other\",file=\"\","
                 "line=\"\",vhost=\"other\"} 3\n") != NULL);
    CHECK(strstr(m, "forbidden_explain_would_deny_total{reason=\"authz\","
                 "module=\"other\",phase=\"other\",rule=\"other\",file=\"\","
                 "line=\"\",vhost=\"other\"} 1\n") != NULL);

    page = fx_ct_render_page(p, t, t0 + apr_time_from_sec(30), 20);
    CHECK(strstr(page, "<script") == NULL);
    CHECK(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
    CHECK(strstr(page, "/q&quot;&lt;b&gt;%0Ax&lt;/b&gt;") != NULL);
    CHECK(strstr(page, "<rect class=\"bar\" data-reason=\"authz\" "
                 "data-minute=\"0\" data-count=\"3\"") != NULL);
    CHECK(strstr(page, "<rect class=\"bar\" data-reason=\"rewrite\" "
                 "data-minute=\"0\" data-count=\"1\"") != NULL);
    CHECK_INT(count_of(page, "<rect class=\"bar\""), 2);
    CHECK(strstr(page, "data-reason=\"authz\" data-hour=\"3\" data-total=\"3\"") != NULL);
    CHECK(strstr(page, "/etc/site.conf:49") != NULL);
    CHECK(strstr(page, "h:0011223344556677") != NULL);
    CHECK_INT(count_of(page, "<tr class=\"recent\">"), 5);
    CHECK_INT(count_of(page, "<tr class=\"rule\""), 2);
    /* bars stand at their minute: two minutes ago, and 59 (the oldest) */
    fx_ct_add(t, &a, t0 - apr_time_from_sec(120));
    fx_ct_add(t, &a, t0 - apr_time_from_sec(59 * 60));
    /* out of the hour, and older than the bucket it would reuse: the
     * current minute keeps its count */
    fx_ct_add(t, &a, t0 - apr_time_from_sec(60 * 60));
    page = fx_ct_render_page(p, t, t0 + apr_time_from_sec(30), 20);
    CHECK(strstr(page, "data-reason=\"authz\" data-minute=\"2\" data-count=\"1\"") != NULL);
    CHECK(strstr(page, "data-reason=\"authz\" data-minute=\"59\" data-count=\"1\"") != NULL);
    CHECK_INT(count_of(page, "<rect class=\"bar\""), 4);
    CHECK(strstr(page, "data-reason=\"authz\" data-hour=\"5\" data-total=\"6\"") != NULL);
    /* an hour later the chart is empty, the totals are not */
    page = fx_ct_render_page(p, t, t0 + apr_time_from_sec(3700), 20);
    CHECK_INT(count_of(page, "<rect class=\"bar\""), 0);
    CHECK(strstr(page, "no denials in the last hour") != NULL);
    CHECK(strstr(page, "data-denied=\"7\" data-would=\"1\"") != NULL);

    aut = fx_ct_render_auto(p, t);
    CHECK(strstr(aut, "ForbiddenExplainDenials: 7\n") != NULL);
    CHECK(strstr(aut, "ForbiddenExplainWouldDeny: 1\n") != NULL);
    CHECK(strstr(aut, "ForbiddenExplainDenials_authz: 6\n") != NULL);
    CHECK(strstr(aut, "ForbiddenExplainWouldDeny_authz: 1\n") != NULL);
    CHECK(strstr(aut, "ForbiddenExplainDenials_rewrite: 1\n") != NULL);

    sec = fx_ct_render_section(p, t, 0);
    CHECK(strstr(sec, "<td>6</td><td>1</td><td>authz</td><td>/etc/site.conf:49</td>") != NULL);
    CHECK(strstr(sec, "&lt;b&gt;") != NULL);
    CHECK(strstr(sec, "<b>") == NULL);
    sec = fx_ct_render_section(p, t, 1);
    CHECK(strstr(sec, "<table") == NULL);
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_strings(p);
    test_hashes(p);
    test_counting(p);
    test_topn();
    test_overflow(p);
    test_migrate(p);
    test_render(p);
    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
