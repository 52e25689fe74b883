/* test_repeat.c — unit tests of the cause key and the repeat table
 * (src/fx_repeat_tab.c). */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_atomic.h>
#include "unit.h"
#include "fx_repeat_tab.h"

static fx_entry *authz_entry(apr_pool_t *p, const char *ip, const char *uri)
{
    fx_entry *e = fx_entry_make(p);
    fx_entry_set_int(e, "status", 403);
    fx_entry_set(e, "reason", "authz");
    fx_entry_set(e, "module", "mod_authz_core.c");
    fx_entry_set(e, "phase", "access_checker_ex");
    fx_entry_set(e, "directive", "Require ip 10.9.9.9");
    fx_entry_set(e, "file", "/etc/apache2/site.conf");
    fx_entry_set_int(e, "line", 49);
    fx_entry_set(e, "uri", uri);
    fx_entry_set(e, "path", apr_pstrcat(p, "/srv/www", uri, NULL));
    fx_entry_set(e, "client_ip", ip);
    fx_entry_set(e, "request_id", apr_pstrcat(p, "id-", ip, uri, NULL));
    fx_entry_set(e, "hint", apr_pstrcat(p, "add `Require ip ", ip, "`", NULL));
    fx_entry_set(e, "rule_saw", apr_pstrcat(p, "client_ip ", ip, NULL));
    return e;
}

static void test_key(apr_pool_t *p)
{
    const char *k1 = fx_rt_key(p, authz_entry(p, "127.0.0.1", "/a"), "v1");
    const char *k2 = fx_rt_key(p, authz_entry(p, "127.0.0.2", "/b"), "v1");
    const char *k3 = fx_rt_key(p, authz_entry(p, "203.0.113.5", "/a"), "v1");
    const char *k4 = fx_rt_key(p, authz_entry(p, "127.0.0.1", "/a"), "v2");
    fx_entry *e = authz_entry(p, "127.0.0.1", "/a");
    fx_entry *fs1 = fx_entry_make(p), *fs2 = fx_entry_make(p);
    fx_entry *rw1 = fx_entry_make(p), *rw2 = fx_entry_make(p);
    char big[FX_RT_KEY_MAX + 10];

    CHECK(k1 && k2 && k3 && k4);
    /* uri, client address and hint are the request's: same cause */
    CHECK_STR(k1, k2);
    /* another address class, another virtual host: another cause */
    CHECK(strcmp(k1, k3) != 0);
    CHECK(strcmp(k1, k4) != 0);
    CHECK(strstr(k1, "v4-loopback") != NULL);
    CHECK(strstr(k3, "v4-public") != NULL);
    /* another rule line */
    fx_entry_set_int(e, "line", 50);
    CHECK(strcmp(k1, fx_rt_key(p, e, "v1")) != 0);

    /* filesystem causes: the failing component is the attribute */
    fx_entry_set(fs1, "reason", "fs-permission");
    fx_entry_set(fs1, "path", "/srv/a");
    fx_entry_set(fs1, "missing", "x");
    fx_entry_set(fs2, "reason", "fs-permission");
    fx_entry_set(fs2, "path", "/srv/b");
    fx_entry_set(fs2, "missing", "x");
    CHECK(strcmp(fx_rt_key(p, fs1, ""), fx_rt_key(p, fs2, "")) != 0);
    fx_entry_set(fs2, "path", "/srv/a");
    fx_entry_set(fs2, "uri", "/other");
    CHECK_STR(fx_rt_key(p, fs1, ""), fx_rt_key(p, fs2, ""));
    fx_entry_set(fs2, "missing", "r");
    CHECK(strcmp(fx_rt_key(p, fs1, ""), fx_rt_key(p, fs2, "")) != 0);

    /* what a RewriteCond tested is the request's; whether it held is not */
    fx_entry_set(rw1, "reason", "rewrite");
    fx_entry_set_raw(rw1, "conditions", "[{\"line\":3,\"tested\":\"curl/8\",\"result\":true}]");
    fx_entry_set(rw2, "reason", "rewrite");
    fx_entry_set_raw(rw2, "conditions", "[{\"line\":3,\"tested\":\"wget\",\"result\":true}]");
    CHECK_STR(fx_rt_key(p, rw1, ""), fx_rt_key(p, rw2, ""));
    fx_entry_set_raw(rw2, "conditions", "[{\"line\":3,\"tested\":\"wget\",\"result\":false}]");
    CHECK(strcmp(fx_rt_key(p, rw1, ""), fx_rt_key(p, rw2, "")) != 0);

    /* a key that does not fit a slot is no key */
    memset(big, 'd', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fx_entry_set(e, "directive", big);
    CHECK(fx_rt_key(p, e, "v1") == NULL);

    CHECK_STR(fx_rt_address_class("::1"), "v6-loopback");
    CHECK_STR(fx_rt_address_class("::ffff:10.1.2.3"), "v4-private");
    CHECK_STR(fx_rt_address_class("fe80::1%eth0"), "v6-link-local");
    CHECK_STR(fx_rt_address_class("2001:db8::5"), "v6-public");
    CHECK_STR(fx_rt_address_class("172.31.0.1"), "v4-private");
    CHECK_STR(fx_rt_address_class("172.32.0.1"), "v4-public");
    CHECK_STR(fx_rt_address_class("100.64.0.1"), "v4-shared");
    CHECK_STR(fx_rt_address_class("not an address"), "unknown");
}

static void test_table(apr_pool_t *p)
{
    unsigned n = 16;
    void *mem = apr_palloc(p, fx_rt_size(n));
    fx_rt_table *t = fx_rt_init(mem, n);
    fx_rt_label lab = { "authz", "Require ip 10.9.9.9", "/x.conf", 49, 3 };
    char full[FX_RT_ID_MAX];
    apr_uint32_t count = 0;
    fx_rt_closed closed, out[4];
    int has = 0, i;
    apr_time_t t0 = apr_time_from_sec(1000000), w = apr_time_from_sec(60);

    CHECK(fx_rt_attach(mem, n) == t);
    CHECK(fx_rt_attach(mem, n + 1) == NULL);

    CHECK_INT(fx_rt_note(t, "k1", t0, w, "id0", &lab, full, &count, &closed, &has),
              FX_RT_FIRST);
    CHECK_INT(has, 0);
    for (i = 1; i <= 5; i++) {
        CHECK_INT(fx_rt_note(t, "k1", t0 + i, w, "idN", &lab, full, &count,
                             &closed, &has), FX_RT_REPEAT);
        CHECK_INT(count, i);
        CHECK_STR(full, "id0");
    }
    /* another cause in the window: its own full entry */
    CHECK_INT(fx_rt_note(t, "k2", t0 + 10, w, "idB", &lab, full, &count,
                         &closed, &has), FX_RT_FIRST);
    /* nothing closed yet */
    CHECK_INT(fx_rt_sweep(t, t0 + w - 1, out, 4), 0);
    /* the window closes: one summary with 5 repeats; k2 had none */
    CHECK_INT(fx_rt_sweep(t, t0 + w + 20, out, 4), 1);
    CHECK_INT(out[0].repeats, 5);
    CHECK_STR(out[0].full_id, "id0");
    CHECK_STR(out[0].directive, "Require ip 10.9.9.9");
    CHECK_INT(out[0].line, 49);
    CHECK_INT(out[0].server_index, 3);
    CHECK(out[0].window_end == t0 + w);
    CHECK_INT(fx_rt_sweep(t, t0 + w + 20, out, 4), 0);     /* once only */
    /* after the window the cause is new again */
    CHECK_INT(fx_rt_note(t, "k1", t0 + w + 30, w, "id9", &lab, full, &count,
                         &closed, &has), FX_RT_FIRST);
    CHECK_INT(fx_rt_note(t, "k1", t0 + w + 31, w, "idX", &lab, full, &count,
                         &closed, &has), FX_RT_REPEAT);
    CHECK_STR(full, "id9");
    CHECK_INT(count, 1);
    /* no sweep ran: the next 403 of the cause after its window reports it */
    CHECK_INT(fx_rt_note(t, "k1", t0 + 3 * w, w, "idZ", &lab, full, &count,
                         &closed, &has), FX_RT_FIRST);
    CHECK_INT(has, 1);
    CHECK_INT(closed.repeats, 1);
    CHECK_STR(closed.full_id, "id9");

    /* a full table of live causes (every slot probed): untracked, never a
     * guess */
    t = fx_rt_init(mem, FX_RT_PROBES);
    for (i = 0; i < FX_RT_PROBES; i++) {
        CHECK_INT(fx_rt_note(t, apr_psprintf(p, "c%d", i), t0, w, "id", &lab,
                             full, &count, &closed, &has), FX_RT_FIRST);
    }
    CHECK_INT(fx_rt_note(t, "one more", t0, w, "id", &lab, full, &count,
                         &closed, &has), FX_RT_UNTRACKED);
    /* a request id too long to refer to: untracked */
    CHECK_INT(fx_rt_note(t, "c1", t0, w, apr_pstrcat(p, "xxxxxxxxxx",
              "0123456789012345678901234567890123456789012345678901234567890123456789",
              NULL), &lab, full, &count, &closed, &has), FX_RT_UNTRACKED);
    CHECK_INT(fx_rt_note(t, NULL, t0, w, "id", &lab, full, &count, &closed,
                         &has), FX_RT_UNTRACKED);
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_atomic_init(p);
    test_key(p);
    test_table(p);
    return unit_done();
}
