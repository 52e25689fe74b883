/* test_exprlit.c — unit tests for the literals of an expression that a
 * request value is compared with (fx_exprlit.c): headers, cookies, query,
 * look-up functions, clauses, regexes, lists, escapes, and the scrub. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "fx_exprlit.h"
#include "unit.h"

static apr_pool_t *p;

/* The written forms found in text, joined by " | ". */
static const char *found(const char *text, int is_expr)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(fx_exprlit));
    const char *s = "";
    int i;
    fx_exprlit_collect(p, text, is_expr, out);
    for (i = 0; i < out->nelts; i++) {
        s = apr_pstrcat(p, s, i ? " | " : "",
                        APR_ARRAY_IDX(out, i, fx_exprlit).written, NULL);
    }
    return s;
}

static const char *scrubbed(const char *text, int is_expr)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(fx_exprlit));
    fx_exprlit_collect(p, text, is_expr, out);
    return fx_exprlit_scrub(p, text, out);
}

int main(void)
{
    const char *t;

    apr_initialize();
    apr_pool_create(&p, NULL);

    /* the issue's case: an API key compared with a header */
    CHECK_STR(found("Require expr \"%{HTTP:X-Api-Key} == 'k-7f3a9c'\"", 0),
              "'k-7f3a9c'");
    CHECK_STR(scrubbed("Require expr \"%{HTTP:X-Api-Key} == 'k-7f3a9c'\"", 0),
              "Require expr \"%{HTTP:X-Api-Key} == '[redacted]'\"");
    /* the bare expression fact, with and without its wrapping quotes */
    CHECK_STR(found("\"%{HTTP:X-Api-Key} == 'k-7f3a9c'\"", 1), "'k-7f3a9c'");
    CHECK_STR(found("%{HTTP_COOKIE} =~ /session=abc123/", 1),
              "/session=abc123/");
    CHECK_STR(found("%{QUERY_STRING} =~ m#token=s3cr3t#i", 1),
              "m#token=s3cr3t#");
    CHECK_STR(scrubbed("%{QUERY_STRING} =~ m#token=s3cr3t#i", 1),
              "%{QUERY_STRING} =~ m#[redacted]#i");
    CHECK_STR(found("%{THE_REQUEST} -strmatch '*key=1*'", 1), "'*key=1*'");
    /* look-up functions: the header name stays, the value goes */
    CHECK_STR(found("req('X-Api-Key') == 'k1'", 1), "'k1'");
    CHECK_STR(found("http('X-Token') in { 'a1', 'b2' }", 1), "'a1' | 'b2'");
    CHECK_STR(found("req_novary('X') != \"zz\"", 1), "\"zz\"");
    /* a hash of a header compared with a literal: the digest goes */
    CHECK_STR(found("sha1(%{HTTP:X-Key}) == '0beec7b5'", 1), "'0beec7b5'");
    /* literals not compared with a request value stay */
    CHECK_STR(found("-R '10.0.0.0/8'", 1), "");
    CHECK_STR(found("%{REQUEST_URI} =~ m#^/admin#", 1), "");
    CHECK_STR(found("%{TIME_HOUR} -lt 12", 1), "");
    CHECK_STR(found("%{HTTPS} == 'on'", 1), "");
    CHECK_STR(found("reqenv('ok') == '1'", 1), "");
    /* clauses: && || and parentheses separate what is compared */
    CHECK_STR(found("-R '10.0.0.0/8' && %{HTTP:X-Key} == 'sec1'", 1),
              "'sec1'");
    CHECK_STR(found("(%{HTTP:A} == 'a1' || %{REMOTE_ADDR} == '1.2.3.4')"
                    " && ('x' == 'x')", 1), "'a1'");
    CHECK_STR(found("! (%{HTTP:A} == 'a1')", 1), "'a1'");
    /* escaped quotes inside a double-quoted Require expr */
    CHECK_STR(found("Require expr \"%{HTTP:X} == \\\"q1\\\"\"", 0),
              "\\\"q1\\\"");
    CHECK_STR(found("Require not expr %{HTTP:X} == 'n1'", 0), "'n1'");
    CHECK_STR(found("SSLRequire %{HTTP:X} eq 'ssl1'", 0), "'ssl1'");
    /* text with no expression, and other Require lines */
    CHECK_STR(found("Require ip 10.0.0.0/8", 0), "");
    CHECK_STR(found("Require valid-user", 0), "");
    CHECK_STR(found("xRequire expr %{HTTP:X} == 'n1'", 0), "");
    /* unterminated literals and parentheses are not a crash */
    CHECK_STR(found("%{HTTP:X} == 'open", 1), "");
    CHECK_STR(found("%{HTTP:X} =~ /open", 1), "");
    CHECK_STR(found(")) %{HTTP:X} == 'c1' ((", 1), "'c1'");
    CHECK_STR(found("%{HTTP:X", 1), "");
    CHECK_STR(found("", 1), "");
    CHECK(fx_exprlit_scrub(p, "x", NULL) != NULL);
    /* empty literals are nothing to hide */
    CHECK_STR(found("%{HTTP:X} == ''", 1), "");

    /* the scrub: every occurrence, longest first, nothing else touched */
    t = "`Require expr \"%{HTTP:K} == 'ab' || %{HTTP:K} == 'abc'\"` decided;"
        " 'ab' again; ab bare";
    CHECK_STR(scrubbed(t, 0), "`Require expr \"%{HTTP:K} == '[redacted]' || "
              "%{HTTP:K} == '[redacted]'\"` decided; '[redacted]' again; "
              "ab bare");
    t = "no literal here";
    CHECK(scrubbed(t, 0) == t);

    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
