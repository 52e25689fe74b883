/* test_sf.c — unit tests for the wire encodings: RFC 8941 Dictionary
 * serialization and bounds, the wire text rule, the problem document, the
 * Accept test and the default literal redaction. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "fx_sf.h"
#include "fx_entry.h"
#include "fx_wire_render.h"
#include "unit.h"

static int printable(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static void test_grammar(void)
{
    CHECK(fx_sf_key_valid("reason"));
    CHECK(fx_sf_key_valid("client_ip"));
    CHECK(fx_sf_key_valid("*a-b.c"));
    CHECK(!fx_sf_key_valid("Reason"));
    CHECK(!fx_sf_key_valid("1st"));
    CHECK(!fx_sf_key_valid(""));
    CHECK(!fx_sf_key_valid("a b"));
    CHECK(fx_sf_token_valid("authz"));
    CHECK(fx_sf_token_valid("fs.search_perm"));
    CHECK(fx_sf_token_valid("a:b/c"));
    CHECK(!fx_sf_token_valid("9lives"));
    CHECK(!fx_sf_token_valid("a b"));
    CHECK(!fx_sf_token_valid("a\"b"));
    CHECK(!fx_sf_token_valid(""));
    CHECK(!fx_sf_token_valid("caf\xc3\xa9"));
}

static void test_escape(apr_pool_t *p)
{
    int cut = 0;
    const char raw[] = "a\"b\\c%d\r\n\x01\x7f\xc3\xa9\xff e";
    CHECK_STR(fx_sf_escape(p, raw, sizeof(raw) - 1, 0, &cut),
              "a\\\"b\\\\c%25d%0D%0A%01%7F%C3%A9%FF e");
    CHECK(!cut);
    /* a NUL inside the value is encoded, never written */
    CHECK_STR(fx_sf_escape(p, "a\0b", 3, 0, &cut), "a%00b");
    /* cuts never split an escape */
    CHECK_STR(fx_sf_escape(p, "ab\"cd", 5, 3, &cut), "ab");
    CHECK(cut);
    CHECK_STR(fx_sf_escape(p, "ab\"cd", 5, 4, &cut), "ab\\\"");
    CHECK(cut);
    CHECK_STR(fx_sf_escape(p, "a%b", 3, 3, &cut), "a");
    CHECK(cut);
    CHECK_STR(fx_sf_json_string(p, "q\"\\\n", 0, &cut), "\"q\\\"\\\\%0A\"");
    CHECK_STR(fx_sf_json_string(p, NULL, 0, &cut), "\"\"");
}

static void test_dict(apr_pool_t *p)
{
    fx_sf_dict *d = fx_sf_dict_make(p);
    char *s, big[9000];
    int i;

    CHECK(fx_sf_dict_token(d, "reason", "authz", 1));
    CHECK(fx_sf_dict_string(d, "module", "mod_authz_core.c", 0));
    CHECK(fx_sf_dict_token(d, "odd", "has space", 0));   /* becomes string */
    CHECK(fx_sf_dict_integer(d, "line", 14, 0));
    CHECK(fx_sf_dict_integer(d, "huge", APR_INT64_C(1000000000000000), 0));
    CHECK(!fx_sf_dict_string(d, "Bad", "x", 0));
    CHECK(fx_sf_dict_string(d, "id", "fx-1", 1));
    CHECK(fx_sf_dict_string(d, "module", "again", 0));   /* replaced in place */
    CHECK_STR(fx_sf_dict_serialize(d, p, 4096),
              "reason=authz, module=\"again\", odd=\"has space\", line=14, "
              "huge=\"1000000000000000\", id=\"fx-1\"");

    /* 8 KB hostile value: cut, listed, bounded, printable */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (i = 0; i < 40; i++) {
        big[i * 200] = "\r\n\"\\\x00\x80"[i % 6] ? "\r\n\"\\\x00\x80"[i % 6] : '\x01';
    }
    d = fx_sf_dict_make(p);
    fx_sf_dict_token(d, "reason", "authz", 1);
    fx_sf_dict_string(d, "uri", big, 0);
    fx_sf_dict_string(d, "path", big, 0);
    fx_sf_dict_string(d, "id", "keep-me", 1);
    s = fx_sf_dict_serialize(d, p, 4096);
    CHECK(strlen(s) <= 4096);
    CHECK(printable(s));
    CHECK(strstr(s, ", id=\"keep-me\", truncated=(uri path)") != NULL);
    CHECK(strncmp(s, "reason=authz, uri=\"", 19) == 0);

    /* many members: trailing ones dropped, kept ones stay */
    d = fx_sf_dict_make(p);
    fx_sf_dict_token(d, "reason", "authz", 1);
    for (i = 0; i < 60; i++) {
        fx_sf_dict_string(d, apr_psprintf(p, "k%d", i), big, 0);
    }
    fx_sf_dict_string(d, "id", "keep-me", 1);
    s = fx_sf_dict_serialize(d, p, 512);
    CHECK(strlen(s) <= 512);
    CHECK(strstr(s, "id=\"keep-me\", truncated") != NULL);
    CHECK(s[strlen(s) - 1] == 'd');
    CHECK(strncmp(s, "reason=authz, k0=\"", 18) == 0);
}

static void test_accept(void)
{
    CHECK(fx_sf_accepts_problem_json("application/problem+json"));
    CHECK(fx_sf_accepts_problem_json("text/html, Application/Problem+JSON;q=0.5"));
    CHECK(fx_sf_accepts_problem_json("application/problem+json ; q=1"));
    CHECK(!fx_sf_accepts_problem_json("application/problem+json;q=0"));
    CHECK(!fx_sf_accepts_problem_json("application/problem+json; q=0.000"));
    CHECK(fx_sf_accepts_problem_json("application/problem+json; q=0.001"));
    CHECK(!fx_sf_accepts_problem_json("*/*"));
    CHECK(!fx_sf_accepts_problem_json("application/json"));
    CHECK(!fx_sf_accepts_problem_json("application/problem+jsonx"));
    CHECK(!fx_sf_accepts_problem_json(""));
    CHECK(!fx_sf_accepts_problem_json(NULL));
}

static void test_render(apr_pool_t *p)
{
    fx_entry *e = fx_entry_make(p);
    const char *h, *j;

    fx_entry_set_int(e, "status", 403);
    fx_entry_set(e, "reason", "authz");
    fx_entry_set(e, "module", "mod_authz_core.c");
    fx_entry_set(e, "phase", "access_checker_ex");
    fx_entry_set(e, "directive", "Require ip 10.0.0.0/8");
    fx_entry_set(e, "file", "/etc/site.conf");
    fx_entry_set_int(e, "line", 14);
    fx_entry_set(e, "uri", "/a\"b\r\n");
    fx_entry_set(e, "request_id", "fx-1-2");
    fx_entry_set(e, "detail", "Denied.");
    fx_entry_set(e, "hint", "Check it.");
    fx_entry_set_raw(e, "trail", "[\"x\"]");

    h = fx_wire_header_value(p, e, 4096);
    CHECK_STR(h, "reason=authz, module=\"mod_authz_core.c\", "
              "phase=\"access_checker_ex\", at=\"/etc/site.conf:14\", "
              "directive=\"Require ip 10.0.0.0/8\", uri=\"/a\\\"b%0D%0A\", "
              "detail=\"Denied.\", hint=\"Check it.\", id=\"fx-1-2\"");
    /* standard JSON, one escape form (no %HH mixed in) */
    j = fx_wire_problem_json(p, e, 16384);
    CHECK_STR(j, "{\"type\":\"about:blank\",\"title\":\"Forbidden\","
              "\"status\":403,\"detail\":\"Denied.\","
              "\"instance\":\"urn:forbidden-explain:fx-1-2\","
              "\"reason\":\"authz\",\"module\":\"mod_authz_core.c\","
              "\"phase\":\"access_checker_ex\","
              "\"directive\":\"Require ip 10.0.0.0/8\","
              "\"file\":\"/etc/site.conf\",\"line\":14,"
              "\"uri\":\"/a\\\"b\\r\\n\",\"request_id\":\"fx-1-2\","
              "\"hint\":\"Check it.\",\"trail\":[\"x\"]}");
}

static void test_redact(apr_pool_t *p)
{
    CHECK_STR(fx_wire_redact_literals(p,
              "Require expr %{HTTP:X-Key} == 'abc123'"),
              "Require expr %{HTTP:X-Key} == '[redacted]'");
    CHECK_STR(fx_wire_redact_literals(p,
              "Require expr \"%{HTTP:X-Key} == 'abc' || %{QUERY_STRING} =~ /k=s3cr3t/i\""),
              "Require expr \"%{HTTP:X-Key} == '[redacted]' || %{QUERY_STRING} =~ /[redacted]/i\"");
    CHECK_STR(fx_wire_redact_literals(p,
              "require not expr %{REMOTE_USER} in {'bob', \"eve\"}"),
              "require not expr %{REMOTE_USER} in {'[redacted]', \"[redacted]\"}");
    CHECK_STR(fx_wire_redact_literals(p,
              "SSLRequire %{SSL_CLIENT_S_DN_O} eq \"Snake Oil, Ltd.\""),
              "SSLRequire %{SSL_CLIENT_S_DN_O} eq \"[redacted]\"");
    CHECK_STR(fx_wire_redact_literals(p,
              "Require expr %{HTTP:A} =~ m#x\\#y# && 'it\\'s'"),
              "Require expr %{HTTP:A} =~ m#[redacted]# && '[redacted]'");
    /* an unterminated literal is redacted to the end */
    CHECK_STR(fx_wire_redact_literals(p, "Require expr 'abc"),
              "Require expr '[redacted]");
    /* nothing else is touched */
    CHECK_STR(fx_wire_redact_literals(p, "Require ip 'x'"), "Require ip 'x'");
    CHECK_STR(fx_wire_redact_literals(p, "Requirement expr 'x'"),
              "Requirement expr 'x'");
    CHECK_STR(fx_wire_redact_literals(p, "Require expr true"),
              "Require expr true");
    CHECK(fx_wire_redact_literals(p, NULL) == NULL);
    /* prose after a wrapped expression is not part of it */
    CHECK_STR(fx_wire_redact_literals(p,
              "`Require expr \"%{HTTP:K} == 'abc'\"` decided: 'x'"),
              "`Require expr \"%{HTTP:K} == '[redacted]'\"` decided: 'x'");
}

static void test_scrub(apr_pool_t *p)
{
    apr_array_header_t *lits = apr_array_make(p, 4, sizeof(const char *));
    const char *raw;

    fx_wire_collect_literals(p, "\"%{HTTP:K} == 'abc123' && %{X} =~ /t.ue/\"",
                             1, lits);
    fx_wire_collect_literals(p, "Require ip 10.0.0.0/8", 0, lits);
    fx_wire_collect_literals(p, "SSLRequire %{A} eq \"red\"", 0, lits);
    CHECK(lits->nelts == 3);
    /* elsewhere in prose, once, and [redacted] is not scanned again */
    CHECK_STR(fx_wire_scrub(p, "the expression \"%{HTTP:K} == 'abc123'\" "
                            "was false; abc123abc123 red", lits, 0),
              "the expression \"%{HTTP:K} == '[redacted]'\" was false; "
              "[redacted][redacted] [redacted]");
    /* raw JSON: only inside strings, in the encoded form */
    apr_array_clear(lits);
    APR_ARRAY_PUSH(lits, const char *) = "true";
    APR_ARRAY_PUSH(lits, const char *) = "a\"b";
    raw = fx_wire_scrub(p, "[{\"d\":\"x true a%22b\",\"n\":true}]", lits, 1);
    CHECK_STR(raw, "[{\"d\":\"x [redacted] [redacted]\",\"n\":true}]");
    raw = "[1]";
    CHECK(fx_wire_scrub(p, raw, lits, 1) == raw);
}

int main(void)
{
    apr_pool_t *p;
    apr_initialize();
    apr_pool_create(&p, NULL);
    test_grammar();
    test_escape(p);
    test_dict(p);
    test_accept();
    test_render(p);
    test_redact(p);
    test_scrub(p);
    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
