/* test_jsonin.c — unit tests for the what-if simulator's strict JSON reader
 * (fx_jsonin.c): values, escapes, UTF-8, and every refusal with its
 * message. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include "fx_jsonin.h"
#include "unit.h"

static const char *err_of(apr_pool_t *p, const char *s)
{
    const char *err = NULL;
    fx_jv *v = fx_jsonin_parse(p, s, strlen(s), &err);
    return v ? NULL : err;
}

static int refused_with(apr_pool_t *p, const char *s, const char *needle)
{
    const char *err = err_of(p, s);
    if (!err || !strstr(err, needle)) {
        fprintf(stderr, "  input %s: got %s, want ...%s...\n", s,
                err ? err : "(accepted)", needle);
        return 0;
    }
    return 1;
}

int main(void)
{
    apr_pool_t *p;
    const char *err = NULL;
    fx_jv *v;
    const fx_jv *m;
    const char *doc = " {\"method\":\"GET\",\"port\":443,\"x\":-1.5e2,"
                      "\"groups\":[\"a\",\"b\"],\"t\":true,\"n\":null,"
                      "\"h\":{\"Referer\":\"x\"}} ";

    apr_initialize();
    apr_pool_create(&p, NULL);

    v = fx_jsonin_parse(p, doc, strlen(doc), &err);
    CHECK(v != NULL);
    CHECK_INT(v->type, FX_JV_OBJ);
    CHECK_INT(v->n, 7);
    CHECK_STR(fx_jsonin_get(v, "method")->str, "GET");
    m = fx_jsonin_get(v, "port");
    CHECK(m && m->type == FX_JV_NUM && m->is_int && m->num == 443);
    m = fx_jsonin_get(v, "x");
    CHECK(m && !m->is_int && m->num == -150);
    m = fx_jsonin_get(v, "groups");
    CHECK(m && m->type == FX_JV_ARR && m->n == 2);
    CHECK_STR(m->first->next->str, "b");
    CHECK(fx_jsonin_get(v, "t")->b == 1);
    CHECK_INT(fx_jsonin_get(v, "n")->type, FX_JV_NULL);
    CHECK_STR(fx_jsonin_get(fx_jsonin_get(v, "h"), "Referer")->str, "x");
    CHECK(fx_jsonin_get(v, "missing") == NULL);
    CHECK(fx_jsonin_get(fx_jsonin_get(v, "port"), "x") == NULL);

    /* escapes decode, \u0000 keeps its NUL and the length says so */
    {
        const char *esc = "\"a\\n\\u00e9\\ud83d\\ude00\\u0000z\\/\"";
        v = fx_jsonin_parse(p, esc, strlen(esc), &err);
    }
    CHECK(v && v->type == FX_JV_STR);
    CHECK(v && v->len == 1 + 1 + 2 + 4 + 1 + 1 + 1);
    CHECK(v && memcmp(v->str, "a\n\xc3\xa9\xf0\x9f\x98\x80\0z/", 11) == 0);
    /* raw UTF-8 passes */
    v = fx_jsonin_parse(p, "\"\xc3\xa9\"", 4, &err);
    CHECK(v && v->len == 2);

    /* refusals, each with what was wrong */
    CHECK(refused_with(p, "", "end of the input"));
    CHECK(refused_with(p, "{\"a\":1,}", "object key"));
    CHECK(refused_with(p, "[1,]", "unexpected character"));
    CHECK(refused_with(p, "{\"a\":1,\"a\":2}", "duplicate key \"a\""));
    CHECK(refused_with(p, "{\"a\" 1}", "':' expected"));
    CHECK(refused_with(p, "{} x", "trailing characters"));
    CHECK(refused_with(p, "\"abc", "unterminated string"));
    CHECK(refused_with(p, "\"a\tb\"", "control character"));
    CHECK(refused_with(p, "\"\\x\"", "invalid escape"));
    CHECK(refused_with(p, "\"\\u12g4\"", "invalid \\u escape"));
    CHECK(refused_with(p, "\"\\ud800\"", "lone high surrogate"));
    CHECK(refused_with(p, "\"\\udc00\"", "lone low surrogate"));
    CHECK(refused_with(p, "\"\xff\"", "invalid UTF-8"));
    CHECK(refused_with(p, "\"\xc0\xaf\"", "invalid UTF-8"));
    CHECK(refused_with(p, "\"\xed\xa0\x80\"", "invalid UTF-8"));
    CHECK(refused_with(p, "01", "trailing characters"));
    CHECK(refused_with(p, "1.", "digit expected after ."));
    CHECK(refused_with(p, "1e", "exponent"));
    CHECK(refused_with(p, "NaN", "unexpected character"));
    CHECK(refused_with(p, "tru", "invalid literal"));
    CHECK(refused_with(p, "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
                       "nested too deeply"));
    CHECK(refused_with(p, "{\"a\":1", "',' or '}' expected"));
    CHECK(refused_with(p, "{\"a\":1", "at byte 6"));
    /* a NUL byte in the input itself is a control character */
    CHECK(fx_jsonin_parse(p, "\"a\0b\"", 5, &err) == NULL);

    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
