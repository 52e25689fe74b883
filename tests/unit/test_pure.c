/* test_pure.c — unit tests for the parts that need no running server: the
 * log-safe JSON encoding, entry rendering and truncation, classification. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include "fx_json.h"
#include "fx_entry.h"
#include "fx_classify.h"
#include "unit.h"

/* Every byte of a rendered value must be printable ASCII other than the
 * backslash, so httpd's error-log escaping leaves it unchanged. */
static int log_safe(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7f || c == '\\') {
            return 0;
        }
    }
    return 1;
}

static void test_quote(apr_pool_t *p)
{
    int t = 0;
    apr_size_t n;
    const char raw[] = "a\"b\\c%d\r\n\x01\x7f\xc3\xa9\xff/e";
    char *q = fx_json_quote(p, raw, 0, &t);

    CHECK_STR(q, "\"a%22b%5Cc%25d%0D%0A%01%7F%C3%A9%FF/e\"");
    CHECK(!t);
    CHECK(log_safe(q));
    /* round trip, invalid UTF-8 included */
    q[strlen(q) - 1] = '\0';
    CHECK(memcmp(fx_json_decode(p, q + 1, &n), raw, sizeof(raw) - 1) == 0);
    CHECK(n == sizeof(raw) - 1);

    /* truncation never splits an escape */
    q = fx_json_quote(p, "ab\"cd", 4, &t);
    CHECK_STR(q, "\"ab\"");
    CHECK(t);
    q = fx_json_quote(p, "ab\"cd", 5, &t);
    CHECK_STR(q, "\"ab%22\"");
    CHECK(t);
    q = fx_json_quote(p, NULL, 0, &t);
    CHECK_STR(q, "\"\"");
    CHECK(fx_json_encoded_len("%%", 2) == 6);
    CHECK_STR(fx_json_decode(p, "100%", NULL), "100%");
    CHECK_STR(fx_json_decode(p, "%4", NULL), "%4");

    {
        /* The word-at-a-time scans against a byte-at-a-time reference: each
         * byte value at each position of a 41-byte plain string (16-byte,
         * 8-byte and single-byte steps), for every output room (cuts must
         * land on the same byte). */
        char src[41], want[160], got[160];
        int c, pos, ok = 1;
        apr_size_t cap, w;
        for (c = 0; c < 256; c++) {
            for (pos = 0; pos < (int)sizeof(src); pos++) {
                apr_size_t i, o = 0;
                int esc;
                memset(src, 'a', sizeof(src));
                src[pos] = (char)c;
                esc = c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '%';
                for (i = 0; i < sizeof(src); i++) {
                    if (i == (apr_size_t)pos && esc) {
                        o += (apr_size_t)sprintf(want + o, "%%%02X", c);
                    }
                    else {
                        want[o++] = src[i];
                    }
                }
                want[o] = '\0';
                ok &= fx_json_encoded_len(src, sizeof(src)) == o;
                for (cap = 1; cap <= o + 1; cap++) {
                    apr_size_t used = fx_json_encode_into(got, cap, src,
                                                          sizeof(src), &w);
                    ok &= w < cap && got[w] == '\0'
                          && memcmp(got, want, w) == 0
                          && (cap <= o || (used == sizeof(src) && w == o));
                }
            }
        }
        CHECK(ok);
    }
}

static void test_entry(apr_pool_t *p)
{
    fx_entry *e = fx_entry_make(p);
    char *json, big[20000];

    fx_entry_set(e, "hint", "h");
    fx_entry_set(e, "reason", "authz");
    fx_entry_set_int(e, "status", 403);
    fx_entry_set(e, "custom", "x");
    fx_entry_set(e, "uri", "/a\"b");
    json = fx_entry_render(e, p, 6144);
    CHECK_STR(json, "{\"status\":403,\"reason\":\"authz\",\"uri\":\"/a%22b\","
                    "\"hint\":\"h\",\"custom\":\"x\"}");
    fx_entry_set(e, "custom", NULL);
    fx_entry_set(e, "reason", "fs-permission");
    CHECK_STR(fx_entry_get(e, "reason"), "fs-permission");
    CHECK_STR(fx_entry_get(e, "status"), "403");
    CHECK(fx_entry_get(e, "custom") == NULL);
    fx_entry_set_raw(e, "trail", "[{\"a\":1}]");
    json = fx_entry_render(e, p, 6144);
    CHECK(strstr(json, ",\"trail\":[{\"a\":1}]}") != NULL);

    memset(big, '\n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fx_entry_set(e, "uri", big);
    fx_entry_set(e, "detail", big);
    json = fx_entry_render(e, p, 6144);
    CHECK(strlen(json) <= 6144);
    CHECK(log_safe(json));
    CHECK(strstr(json, "\"truncated\":[\"uri\",\"detail\"]") != NULL);
    json = fx_entry_render(e, p, 300);
    CHECK(strlen(json) <= 300);
    CHECK(strstr(json, "\"status\":403") != NULL);
}

/* The one-pass renderer and the cutting one must agree at every length,
 * escapes straddling the per-value cap included. */
static void test_render_boundaries(apr_pool_t *p)
{
    char src[1400];
    apr_size_t n;
    int bad = 0;

    for (n = 0; n < sizeof(src) - 1; n++) {
        src[n] = (n % 7 == 3) ? '"' : (n % 11 == 5) ? '\xe9' : 'a';
    }
    for (n = 1000; n < 1100; n++) {
        fx_entry *e = fx_entry_make(p);
        int t = 0;
        char *want, *got, *expect;
        char save = src[n];
        src[n] = '\0';
        fx_entry_set(e, "uri", src);
        got = fx_entry_render(e, p, 6144);
        want = fx_json_quote(p, src, 1024, &t);
        expect = apr_pstrcat(p, "{\"uri\":", want,
                             t ? ",\"truncated\":[\"uri\"]}" : "}", NULL);
        if (strcmp(got, expect) != 0) {
            bad++;
        }
        src[n] = save;
    }
    CHECK(bad == 0);
}

static void test_classify(void)
{
    int ahs_529[] = { 529 }, ahs_37[] = { 37 }, ahs_1275[] = { 1275 };
    fx_classify_in in;
    memset(&in, 0, sizeof(in));

    in.module = "mod_authz_core.c"; in.phase = "access_checker_ex";
    CHECK_STR(fx_classify_reason(&in), "authz");
    in.module = "mod_access_compat.c"; in.phase = "access_checker";
    CHECK_STR(fx_classify_reason(&in), "access-compat");
    in.module = "core.c"; in.phase = "map_to_storage";
    CHECK_STR(fx_classify_reason(&in), "fs-permission");
    in.ahs = ahs_529; in.n_ahs = 1;
    CHECK_STR(fx_classify_reason(&in), "htaccess");
    in.ahs = ahs_37;
    CHECK_STR(fx_classify_reason(&in), "symlink");
    in.module = "mod_autoindex.c"; in.phase = "handler";
    CHECK_STR(fx_classify_reason(&in), "no-index");
    in.ahs = ahs_1275;
    CHECK_STR(fx_classify_reason(&in), "fs-permission");
    in.n_ahs = 0;
    in.module = "mod_proxy.c"; in.returned_ok = 1;
    CHECK_STR(fx_classify_reason(&in), "upstream");
    in.returned_ok = 0;
    CHECK_STR(fx_classify_reason(&in), "proxy");
    in.module = "mod_example.c"; in.phase = "fixups";
    CHECK_STR(fx_classify_reason(&in), "module");
    in.module = NULL;
    CHECK_STR(fx_classify_reason(&in), "module");
    CHECK(fx_classify_hint("nonsense") != NULL);
    CHECK(strstr(fx_classify_detail("no-index"), "index") != NULL);
}

static int safe(const char *s)
{
    return fx_json_is_log_safe(s, strlen(s));
}

/* What the error log receives passes httpd's escaping unchanged. */
static void test_log_safe(void)
{
    CHECK(safe("{\"a\":\"%5C%22 ok\"}"));
    CHECK(!safe("a\\b"));
    CHECK(!safe("a\nb"));
    CHECK(!safe("caf\xc3\xa9"));
    CHECK(!safe("del\x7f"));
    {
        /* every position of an eight-byte word, and the tail after it */
        static const char bad[] = { 0x01, 0x1f, 0x7f, (char)0x80, (char)0xff, '\\' };
        char s[20];
        apr_size_t pos, b;
        int ok = 1;
        for (b = 0; b < sizeof(bad); b++) {
            for (pos = 0; pos < 19; pos++) {
                memset(s, ' ', 19);
                s[19] = '\0';
                s[pos] = bad[b];
                ok &= !safe(s);
                s[pos] = '~';
                ok &= safe(s);
            }
        }
        CHECK(ok);
    }
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_quote(p);
    test_entry(p);
    test_render_boundaries(p);
    test_classify();
    test_log_safe();
    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
