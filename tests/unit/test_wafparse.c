/* test_wafparse.c — unit tests of the ModSecurity message parser, on lines
 * as httpd hands them to the error_log hook (real CRS 3.3.4 lines from
 * Debian's modsecurity-crs, and hostile variants: tag-like text a client
 * put into a variable name, a message ModSecurity cut at 1 KB). */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include "fx_wafparse.h"
#include "unit.h"

#define L_SQLI "[client 127.0.0.1] ModSecurity: Warning. detected SQLi using libinjection with fingerprint 's&sos' [file \"/usr/share/modsecurity-crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf\"] [line \"66\"] [id \"942100\"] [msg \"SQL Injection Attack Detected via libinjection\"] [data \"Matched Data: s&sos found within ARGS:id: 1' OR '1'='1\"] [severity \"CRITICAL\"] [ver \"OWASP_CRS/3.3.4\"] [tag \"application-multi\"] [tag \"language-multi\"] [tag \"platform-multi\"] [tag \"attack-sqli\"] [tag \"paranoia-level/1\"] [tag \"OWASP_CRS\"] [tag \"capec/1000/152/248/66\"] [tag \"PCI/6.5.2\"] [hostname \"127.0.0.1\"] [uri \"/index.html\"] [unique_id \"aw7lRXMk9BsYt8biNH_DdAAAAAM\"]"
#define L_HOST "[client 127.0.0.1] ModSecurity: Warning. Pattern match \"^[\\\\\\\\d.:]+$\" at REQUEST_HEADERS:Host. [file \"/usr/share/modsecurity-crs/rules/REQUEST-920-PROTOCOL-ENFORCEMENT.conf\"] [line \"736\"] [id \"920350\"] [msg \"Host header is a numeric IP address\"] [data \"127.0.0.1:43349\"] [severity \"WARNING\"] [ver \"OWASP_CRS/3.3.4\"] [tag \"attack-protocol\"] [tag \"paranoia-level/1\"] [hostname \"127.0.0.1\"] [uri \"/index.html\"] [unique_id \"aw7lRXMk9BsYt8biNH_DdAAAAAM\"]"
#define L_DENY "[client 127.0.0.1] ModSecurity: Access denied with code 403 (phase 2). Operator GE matched 5 at TX:anomaly_score. [file \"/usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf\"] [line \"94\"] [id \"949110\"] [msg \"Inbound Anomaly Score Exceeded (Total Score: 8)\"] [severity \"CRITICAL\"] [ver \"OWASP_CRS/3.3.4\"] [tag \"application-multi\"] [tag \"attack-generic\"] [hostname \"127.0.0.1\"] [uri \"/index.html\"] [unique_id \"aw7lRXMk9BsYt8biNH_DdAAAAAM\"]"
#define L_SPOOF "ModSecurity: Warning. Pattern match \"(?i)<script[^>]*>\" at ARGS:a\"] [file \"/fake\"] [line \"1\"] [id \"31337\"] [msg \"spoof. [file \"/r/941.conf\"] [line \"83\"] [id \"941110\"] [msg \"XSS Filter\"] [data \"Matched Data: <script> found within ARGS:a\\\\x22] [file \\\\x22/fake: <script>\"] [severity \"CRITICAL\"] [tag \"attack-xss\"] [hostname \"h\"] [uri \"/x\"] [unique_id \"U1\"]"
#define L_CUT "ModSecurity: Warning. Pattern match \"xyz\" at ARGS:q\"] [file \"/fake\"] [line \"2\"] [id \"666\"] [msg \"m. [file \"/r/941.conf\"] [line \"200\"] [id \"941160\"] [msg \"NoScript XSS\"] [data \"Matched Data: <s found within ARGS:q: <s\"] [severity \"CRITICAL\"] [tag \"attack-xss\"] [tag \"paranoia-lev [hostname \"h\"] [uri \"/x\"] [unique_id \"U2\"]"
#define L_ESC "ModSecurity: Warning. Pattern match \"a\" at ARGS:x. [file \"/r/a.conf\"] [line \"5\"] [id \"1\"] [msg \"say \\\\\"hi\\\\\" \\\\\\\\ there\"] [data \"Matched Data: a\\\\x22b\\\\x5cc found within ARGS:x: a\\\\x22b\"] [severity \"NOTICE\"] [hostname \"h\"] [uri \"/x\"] [unique_id \"U3\"]"

static int has_tag(const fx_waf_info *w, const char *t)
{
    int i;
    for (i = 0; i < w->tags->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(w->tags, i, const char *), t) == 0) {
            return 1;
        }
    }
    return 0;
}

int main(void)
{
    apr_pool_t *p;
    fx_waf_info w;
    const char *m, *v, *val;
    apr_initialize();
    apr_pool_create(&p, NULL);

    /* a custom rule's denial */
    CHECK(fx_waf_parse(p, "ModSecurity: Access denied with code 403 (phase 2)"
        ". String match \"attack\" at ARGS:test. [file \"/etc/ms/t.conf\"] "
        "[line \"12\"] [id \"10001\"] [msg \"test \\\\\"rule\\\\\"\"] "
        "[hostname \"127.0.0.1\"] [uri \"/x\"] [unique_id \"abc\"]", &w)
          == FX_WAF_DENIED);
    CHECK(w.status == 403);
    CHECK(w.phase == 2);
    CHECK_STR(w.file, "/etc/ms/t.conf");
    CHECK(w.line == 12);
    CHECK_STR(w.id, "10001");
    CHECK_STR(w.msg, "test \"rule\"");
    CHECK_STR(w.match, "String match \"attack\" at ARGS:test.");
    CHECK_STR(w.unique_id, "abc");
    CHECK_STR(fx_waf_match_var(p, w.match), "ARGS:test");
    CHECK(!w.cut);

    /* a message cut inside a tag keeps what is complete */
    CHECK(fx_waf_parse(p, "ModSecurity: Access denied with code 406 (phase 1)"
                       ". x [file \"/a\"] [line \"3\"] [id \"12", &w) == 1);
    CHECK(w.status == 406);
    CHECK(w.line == 3);
    CHECK(w.id == NULL);
    CHECK(w.cut);

    /* CRS: a contributing rule, libinjection (no variable in the match) */
    CHECK(fx_waf_parse(p, L_SQLI, &w) == FX_WAF_WARNING);
    CHECK_STR(w.id, "942100");
    CHECK(w.line == 66);
    CHECK_STR(w.file, "/usr/share/modsecurity-crs/rules/"
              "REQUEST-942-APPLICATION-ATTACK-SQLI.conf");
    CHECK_STR(w.severity, "CRITICAL");
    CHECK_STR(w.unique_id, "aw7lRXMk9BsYt8biNH_DdAAAAAM");
    CHECK(has_tag(&w, "attack-sqli"));
    CHECK(has_tag(&w, "paranoia-level/1"));
    CHECK_INT(w.tags->nelts, 8);
    CHECK_STR(w.match, "detected SQLi using libinjection with fingerprint "
              "'s&sos'");
    CHECK(fx_waf_match_var(p, w.match) == NULL);
    CHECK(fx_waf_split_data(p, w.data, 0, &m, &v, &val) == 1);
    CHECK_STR(m, "s&sos");
    CHECK_STR(v, "ARGS:id");
    CHECK_STR(val, "1' OR '1'='1");
    CHECK(fx_waf_split_data(p, w.data, 1, &m, &v, &val) == 0);

    /* the pattern's backslashes: ModSecurity's and httpd's escaping undone */
    CHECK(fx_waf_parse(p, L_HOST, &w) == FX_WAF_WARNING);
    CHECK_STR(w.match, "Pattern match \"^[\\\\d.:]+$\" at REQUEST_HEADERS:Host.");
    CHECK_STR(fx_waf_match_var(p, w.match), "REQUEST_HEADERS:Host");
    CHECK_STR(w.data, "127.0.0.1:43349");
    CHECK(fx_waf_split_data(p, w.data, 0, &m, &v, &val) == 0);
    CHECK_STR(w.severity, "WARNING");
    CHECK_INT(fx_waf_severity_score(w.severity), 3);

    /* CRS's blocking evaluation */
    CHECK(fx_waf_parse(p, L_DENY, &w) == FX_WAF_DENIED);
    CHECK_STR(w.id, "949110");
    CHECK(fx_waf_is_evaluation_rule(w.id));
    CHECK(!fx_waf_is_evaluation_rule("942100"));
    CHECK(fx_waf_is_evaluation_rule("980130"));
    CHECK(fx_waf_is_evaluation_rule("959100"));
    CHECK(!fx_waf_is_evaluation_rule("9491100"));
    CHECK_INT(fx_waf_total_score(w.msg), 8);
    CHECK_INT(fx_waf_threshold(w.match), 5);
    CHECK_INT(fx_waf_total_score("Inbound Anomaly Score Exceeded (Total "
              "Inbound Score: 18 - SQLI=0)"), 18);
    CHECK_INT(fx_waf_total_score("no score"), -1);
    CHECK_INT(fx_waf_threshold("String match"), -1);

    /* tag-like text in a client's variable name is not metadata */
    CHECK(fx_waf_parse(p, L_SPOOF, &w) == FX_WAF_WARNING);
    CHECK_STR(w.id, "941110");
    CHECK_STR(w.file, "/r/941.conf");
    CHECK(w.line == 83);
    CHECK_STR(w.msg, "XSS Filter");
    CHECK(!w.cut);
    CHECK(strstr(w.match, "31337") != NULL);
    CHECK(fx_waf_split_data(p, w.data, 0, &m, &v, &val) == 1);
    CHECK_STR(v, "ARGS:a\"] [file \"/fake");

    /* ... also when ModSecurity cut the message inside its tags */
    CHECK(fx_waf_parse(p, L_CUT, &w) == FX_WAF_WARNING);
    CHECK(w.cut);
    CHECK_STR(w.id, "941160");
    CHECK(w.line == 200);
    CHECK_STR(w.severity, "CRITICAL");
    CHECK(has_tag(&w, "attack-xss"));
    CHECK_INT(w.tags->nelts, 1);
    CHECK_STR(w.unique_id, "U2");

    /* escapes inside values */
    CHECK(fx_waf_parse(p, L_ESC, &w) == FX_WAF_WARNING);
    CHECK_STR(w.msg, "say \"hi\" \\ there");
    CHECK(fx_waf_split_data(p, w.data, 0, &m, &v, &val) == 1);
    CHECK_STR(m, "a\"b\\c");
    CHECK_STR(val, "a\"b");
    CHECK_STR(fx_waf_tag(p, L_ESC, "id"), "1");
    CHECK_STR(fx_waf_tag(p, L_ESC, "line"), "5");

    /* data holding " found within " more than once: every split offered */
    CHECK(fx_waf_split_data(p, "Matched Data: x found within y found "
                            "within ARGS:b: v", 0, &m, &v, &val) == 1);
    CHECK_STR(v, "y found within ARGS:b");
    CHECK(fx_waf_split_data(p, "Matched Data: x found within y found "
                            "within ARGS:b: v", 1, &m, &v, &val) == 1);
    CHECK_STR(m, "x found within y");
    CHECK_STR(v, "ARGS:b");
    CHECK_STR(val, "v");

    /* variables named after the operator's argument */
    CHECK_STR(fx_waf_match_var(p, "Matched phrase \"sqlmap\" at "
              "REQUEST_HEADERS:User-Agent."), "REQUEST_HEADERS:User-Agent");
    CHECK_STR(fx_waf_match_var(p, "Pattern match \"a \\\" at ARGS:z\" at "
              "ARGS:q."), "ARGS:q");
    CHECK(fx_waf_match_var(p, "Pattern match \"a\" at lower.") == NULL);

    CHECK(fx_waf_config_safe("ARGS:id"));
    CHECK(fx_waf_config_safe("/app/index.php"));
    CHECK(!fx_waf_config_safe("ARGS:a b"));
    CHECK(!fx_waf_config_safe("ARGS:a\""));
    CHECK(!fx_waf_config_safe("ARGS:a,b"));
    CHECK(!fx_waf_config_safe(""));

    /* other ModSecurity lines are neither */
    CHECK(fx_waf_parse(p, "ModSecurity: Warning. Match of \"x\" [id \"1\"]",
                       &w) == FX_WAF_WARNING);
    CHECK(fx_waf_parse(p, "ModSecurity: collection_store: Failed", &w)
          == FX_WAF_NONE);
    CHECK(fx_waf_parse(p, "AH01630: client denied", &w) == 0);
    CHECK(fx_waf_parse(p, NULL, &w) == 0);

    /* choosing what a false-positive exclusion must cover */
    {
        /* SQLi: 942100 on ARGS:id (+5), 920350 on the Host (+3); 8 >= 5 */
        const char *v1[] = { "REQUEST_HEADERS:Host", "ARGS:id" };
        int s1[] = { 3, 5 }, c1[2];
        CHECK_INT(fx_waf_choose(p, 2, v1, s1, 8, 5, 1, c1), 3);
        CHECK(!c1[0] && c1[1]);

        /* XSS: three rules on ARGS:q outweigh one of 5 elsewhere */
        const char *v2[] = { "ARGS:a", "ARGS:q", "ARGS:q", "ARGS:q" };
        int s2[] = { 5, 5, 5, 5 }, c2[4];
        CHECK_INT(fx_waf_choose(p, 4, v2, s2, 20, 5, 1, c2), 0);
        /* ... 5 is not below 5: ARGS:a too */
        CHECK(c2[0] && c2[1] && c2[2] && c2[3]);
        CHECK_INT(fx_waf_choose(p, 4, v2, s2, 20, 6, 1, c2), 5);
        CHECK(!c2[0] && c2[1] && c2[2] && c2[3]);

        /* a tie: the first seen; rules without a variable stand alone */
        const char *v3[] = { NULL, "ARGS:b", NULL };
        int s3[] = { 5, 5, 5 }, c3[3];
        CHECK_INT(fx_waf_choose(p, 3, v3, s3, 15, 11, 1, c3), 10);
        CHECK(c3[0] && !c3[1] && !c3[2]);

        /* scores that do not add up, or no threshold: everything */
        CHECK_INT(fx_waf_choose(p, 2, v1, s1, 9, 5, 0, c1), 1);
        CHECK(c1[0] && c1[1]);
        CHECK_INT(fx_waf_choose(p, 3, v3, s3, 0, -1, 0, c3), -15);
        CHECK(c3[0] && c3[1] && c3[2]);
        CHECK_INT(fx_waf_choose(p, 0, v3, s3, 7, 5, 1, c3), 7);
    }

    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
