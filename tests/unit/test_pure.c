/* test_pure.c — unit tests for the parts that need no running server: the
 * log-safe JSON encoding, entry rendering and truncation, classification. */
#include <stdio.h>
#include <stdlib.h>
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

/* The standard encoding: RFC 8259 escapes, UTF-8 as is, and one U+FFFD per
 * maximal ill-formed subpart (the results Python's
 * bytes.decode("utf-8", "replace") gives for the same bytes). */
static void test_std(apr_pool_t *p)
{
    int t = 0;
    static const struct { const char *in, *out; } cases[] = {
        { "a\"b\\c/d", "\"a\\\"b\\\\c/d\"" },
        { "\r\n\t\b\f\x01\x1f\x7f", "\"\\r\\n\\t\\b\\f\\u0001\\u001f\\u007f\"" },
        { "%41 caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80",
          "\"%41 caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80\"" },
        { "\xff", "\"\\ufffd\"" },
        { "\xe2\x82x", "\"\\ufffdx\"" },             /* truncated: one */
        { "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
        { "\xc0\xaf", "\"\\ufffd\\ufffd\"" },         /* overlong */
        { "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
        { "\xf0\x9f\x98", "\"\\ufffd\"" },            /* cut at the end */
        { "\x80\xbf", "\"\\ufffd\\ufffd\"" },         /* stray continuations */
        { "\xe0\xa0\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf",  /* boundaries, valid */
          "\"\xe0\xa0\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\"" },
    };
    apr_size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_STR(fx_json_std_quote(p, cases[i].in, 0, &t), cases[i].out);
        CHECK(!t);
    }
    /* cuts split neither an escape nor a character, in either encoding */
    CHECK_STR(fx_json_std_quote(p, "a\xc3\xa9", 2, &t), "\"a\"");
    CHECK(t);
    CHECK_STR(fx_json_std_quote(p, "a\xc3\xa9", 3, &t), "\"a\xc3\xa9\"");
    CHECK(!t);
    CHECK_STR(fx_json_std_quote(p, "a\n", 2, &t), "\"a\"");
    CHECK(t);
    CHECK_STR(fx_json_quote(p, "a\xc3\xa9", 4, &t), "\"a\"");
    CHECK(t);
    CHECK_STR(fx_json_quote(p, "a\xc3\xa9", 6, &t), "\"a\"");
    CHECK_STR(fx_json_quote(p, "a\xc3\xa9", 7, &t), "\"a%C3%A9\"");
    /* a lone byte is no character: cut after it as before */
    CHECK_STR(fx_json_quote(p, "a\xc3z", 4, &t), "\"a%C3\"");

    /* raw values: validated, split into items, re-encoded per target */
#define RAW_VALID(s) fx_json_raw_valid((s), strlen(s))
    CHECK(RAW_VALID("[{\"a\":1,\"b\":[true,false,null]},-2.5e3]"));
    CHECK(RAW_VALID(" {} "));
    CHECK(!RAW_VALID("[1,]"));
    CHECK(!RAW_VALID("{\"a\"}"));
    CHECK(!RAW_VALID("[01]"));
    CHECK(!RAW_VALID("[\"a\\\"\"]"));
    CHECK(!RAW_VALID("[1] [2]"));
    CHECK(!RAW_VALID(""));
#undef RAW_VALID
    {
        apr_array_header_t *spans = apr_array_make(p, 4, sizeof(apr_size_t));
        const char *raw = "[\"x\", {\"k\":[1,2]},3]";
        CHECK(fx_json_raw_items(raw, strlen(raw), spans));
        CHECK_INT(spans->nelts, 6);
        CHECK_INT(APR_ARRAY_IDX(spans, 2, apr_size_t), 6);
        CHECK_INT(APR_ARRAY_IDX(spans, 3, apr_size_t), 11);
        CHECK_STR(fx_json_raw_render(p, "[\"a%22b%5C%0A%C3%A9%FF\",1]", 26,
                                     1, 0, &t, NULL),
                  "[\"a\\\"b\\\\\\n\xc3\xa9\\ufffd\",1]");
        CHECK(!t);
        CHECK_STR(fx_json_raw_render(p, "{\"k\":\"abcdef\"}", 14, 0, 3, &t, NULL),
                  "{\"k\":\"abc\"}");
        CHECK(t);
    }
}

static char *repeat(apr_pool_t *p, char c, apr_size_t n)
{
    char *s = apr_palloc(p, n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* 1 when key is listed in the "truncated" array of json. */
static int in_truncated(const char *json, const char *key)
{
    const char *t = strstr(json, "\"truncated\":[");
    char pat[64];
    const char *end;
    if (!t) {
        return 0;
    }
    end = strchr(t, ']');
    snprintf(pat, sizeof(pat), "\"%s\"", key);
    t = strstr(t, pat);
    return t && t < end;
}

/* The size policy of fx_entry.h, rule by rule. */
/* A raw array marked afterwards (the Require trail): the marked item is
 * kept when the list is shortened, the first is not preferred. */
static void test_mark_deciding(apr_pool_t *p)
{
    fx_entry *e = fx_entry_make(p);
    const char *json = "[";
    char *out;
    int i;

    fx_entry_set_int(e, "status", 403);
    fx_entry_set(e, "reason", "authz");
    for (i = 0; i < 16; i++) {
        json = apr_pstrcat(p, json, i ? "," : "", "{\"directive\":",
                           fx_json_quote(p, apr_psprintf(p, "Require env E%d %s",
                                         i, repeat(p, 'e', 300)), 0, NULL),
                           "}", NULL);
    }
    json = apr_pstrcat(p, json, "]", NULL);
    fx_entry_set_raw(e, "trail", json);
    fx_entry_mark_deciding(e, "trail", 13);
    fx_entry_mark_deciding(e, "trail", 99);         /* out of range: ignored */
    fx_entry_mark_deciding(e, "status", 0);         /* not an array: ignored */
    out = fx_entry_render(e, p, 2048);
    CHECK(strlen(out) <= 2048 && log_safe(out));
    CHECK(strstr(out, "Require env E13 ") != NULL);
    CHECK(strstr(out, "Require env E15 ") == NULL);
    CHECK(in_truncated(out, "trail"));
}

static void test_policy(apr_pool_t *p)
{
    fx_entry *e = fx_entry_make(p);
    apr_array_header_t *items = apr_array_make(p, 30, sizeof(char *));
    apr_array_header_t *dec = apr_array_make(p, 30, sizeof(int));
    char *json, *file = apr_pstrcat(p, "/", repeat(p, 'f', 1499), NULL);
    char *dir = apr_pstrcat(p, "RewriteRule ", repeat(p, 'd', 1488), NULL);
    int i;

    fx_entry_set_int(e, "status", 403);
    fx_entry_set(e, "reason", "rewrite");
    fx_entry_set(e, "module", "mod_rewrite.c");
    fx_entry_set(e, "phase", "translate_name");
    fx_entry_set(e, "directive", dir);
    fx_entry_set(e, "file", file);
    fx_entry_set_int(e, "line", 42);
    fx_entry_set(e, "request_id", "fx-0123456789abcdef0123456789abcdef");
    fx_entry_set(e, "client_ip", "127.0.0.1");
    fx_entry_set(e, "uri", repeat(p, 'u', 3000));
    fx_entry_set(e, "detail", "This RewriteRule matched.");
    for (i = 0; i < 30; i++) {
        APR_ARRAY_PUSH(items, char *) = apr_psprintf(p,
            "{\"directive\":%s,\"result\":%s}",
            fx_json_quote(p, apr_psprintf(p, "RewriteCond %d %s", i,
                                          repeat(p, 'c', 280)), 0, NULL),
            i == 20 ? "true" : "false");
        APR_ARRAY_PUSH(dec, int) = (i == 20);
    }
    fx_entry_set_list(e, "conditions", items, dec);

    /* 1. pinned whole, long values cut first and named */
    json = fx_entry_render(e, p, 6144);
    CHECK(strlen(json) <= 6144 && log_safe(json));
    CHECK(strstr(json, apr_pstrcat(p, "\"file\":\"", file, "\"", NULL)) != NULL);
    CHECK(strstr(json, apr_pstrcat(p, "\"directive\":\"", dir, "\"", NULL)) != NULL);
    CHECK(strstr(json, "\"request_id\":\"fx-0123456789abcdef0123456789abcdef\"") != NULL);
    CHECK(in_truncated(json, "uri"));
    CHECK(!in_truncated(json, "file") && !in_truncated(json, "directive"));
    /* 2. the list keeps its deciding item, counts the others it left out */
    CHECK(strstr(json, "RewriteCond 20 ") != NULL);
    CHECK(strstr(json, "RewriteCond 29 ") == NULL);
    CHECK(in_truncated(json, "conditions"));
    CHECK(strstr(json, "\"conditions_omitted\":") != NULL);
    CHECK(strstr(json, "\"detail\":\"This RewriteRule matched.\"") != NULL);
    {
        /* kept + omitted = 30 */
        int kept = 0, omitted = -1;
        const char *c = json;
        while ((c = strstr(c, "RewriteCond ")) != NULL) {
            kept++;
            c++;
        }
        c = strstr(json, "\"conditions_omitted\":");
        if (c) {
            omitted = atoi(c + strlen("\"conditions_omitted\":"));
        }
        CHECK_INT(kept + omitted, 30);
    }
    /* the standard encoding follows the same policy */
    {
        fx_entry_style std = { FX_ENC_JSON, NULL, NULL, NULL };
        char *j2 = fx_entry_render_as(e, p, 4000, &std);
        CHECK(strlen(j2) <= 4000);
        CHECK(strstr(j2, "RewriteCond 20 ") != NULL);
        CHECK(strstr(j2, apr_pstrcat(p, "\"file\":\"", file, "\"", NULL)) != NULL);
        CHECK(in_truncated(j2, "conditions"));
    }

    /* 3. a producer's own count is added to */
    {
        fx_entry *t = fx_entry_make(p);
        const char *c;
        fx_entry_set_int(t, "status", 403);
        fx_entry_set_int(t, "trail_omitted", 5);
        fx_entry_set_raw(t, "trail", apr_pstrcat(p, "[",
            apr_array_pstrcat(p, items, ','), "]", NULL));
        json = fx_entry_render(t, p, 2000);
        CHECK(strlen(json) <= 2000);
        c = strstr(json, "\"trail_omitted\":");
        CHECK(c != NULL);
        /* unmarked list: it keeps its first item */
        CHECK(strstr(json, "RewriteCond 0 ") != NULL);
        if (c) {
            int kept = 0;
            const char *k = json;
            while ((k = strstr(k, "RewriteCond ")) != NULL) {
                kept++;
                k++;
            }
            CHECK_INT(atoi(c + 16) + kept, 35);
        }
        CHECK(strstr(json, "\"trail_omitted\":5") == NULL);
        CHECK(in_truncated(json, "trail") && !in_truncated(json, "trail_omitted"));
    }

    /* 4. then whole facts go, the largest first: still every key is
     * either there or named */
    {
        fx_entry *t = fx_entry_make(p);
        static const char *const names[] = {
            "hint", "section", "path", "x_a", "x_b", "x_c", "x_d", NULL
        };
        fx_entry_set_int(t, "status", 403);
        fx_entry_set(t, "reason", "authz");
        fx_entry_set(t, "file", "/etc/apache2/apache2.conf");
        fx_entry_set(t, "request_id", "abc");
        for (i = 0; names[i]; i++) {
            fx_entry_set(t, names[i], repeat(p, 'v', 900));
        }
        json = fx_entry_render(t, p, 300);
        CHECK(strlen(json) <= 300);
        CHECK(strstr(json, "\"file\":\"/etc/apache2/apache2.conf\"") != NULL);
        CHECK(strstr(json, "\"request_id\":\"abc\"") != NULL);
        for (i = 0; names[i]; i++) {
            CHECK(strstr(json, apr_pstrcat(p, "\"", names[i], "\":", NULL))
                  || in_truncated(json, names[i]));
        }
    }

    /* 5. pinned facts are cut only when they alone exceed the budget */
    {
        fx_entry *t = fx_entry_make(p);
        fx_entry_set_int(t, "status", 403);
        fx_entry_set(t, "file", repeat(p, 'f', 5000));
        fx_entry_set(t, "hint", "h");
        json = fx_entry_render(t, p, 1024);
        CHECK(strlen(json) <= 1024);
        CHECK(in_truncated(json, "file"));
        CHECK(strstr(json, "\"status\":403") != NULL);
    }

    /* 6. the last resort: not even the key names fit */
    {
        fx_entry *t = fx_entry_make(p);
        fx_entry_set_int(t, "status", 403);
        fx_entry_set(t, "reason", "authz");
        for (i = 0; i < 60; i++) {
            fx_entry_set(t, apr_psprintf(p, "a_rather_long_key_name_%02d", i),
                         repeat(p, 'v', 40));
        }
        json = fx_entry_render(t, p, 256);
        CHECK(strlen(json) <= 256);
        CHECK(strstr(json, "\"truncated\":[\"*\"]") != NULL);
        CHECK(strstr(json, "\"status\":403,\"reason\":\"authz\"") != NULL);
    }

    /* 7. raw values that are not one log-safe JSON value become strings */
    {
        fx_entry *t = fx_entry_make(p);
        fx_entry_set_raw(t, "a", "[1,2");
        fx_entry_set_raw(t, "b", "[\"x\\\"\"]");
        fx_entry_set_raw(t, "c", "{\"k\":\"caf%C3%A9\"}");
        CHECK_STR(fx_entry_render(t, p, 1000),
                  "{\"a\":\"[1,2\",\"b\":\"[%22x%5C%22%22]\","
                  "\"c\":{\"k\":\"caf%C3%A9\"}}");
        {
            fx_entry_style std = { FX_ENC_JSON, NULL, NULL, NULL };
            CHECK_STR(fx_entry_render_as(t, p, 1000, &std),
                      "{\"a\":\"[1,2\",\"b\":\"[\\\"x\\\\\\\"\\\"]\","
                      "\"c\":{\"k\":\"caf\xc3\xa9\"}}");
        }
    }
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
    in.module = "mod_alias.c"; in.phase = "fixups";
    CHECK_STR(fx_classify_reason(&in), "alias");
    CHECK(strstr(fx_classify_detail("alias"), "RedirectMatch") != NULL);
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
    test_std(p);
    test_policy(p);
    test_mark_deciding(p);
    test_log_safe();
    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
