/* test_wafparse.c — unit tests of the ModSecurity message parser. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include "fx_wafparse.h"
#include "unit.h"

int main(void)
{
    apr_pool_t *p;
    fx_waf_info w;
    apr_initialize();
    apr_pool_create(&p, NULL);

    CHECK(fx_waf_parse(p, "ModSecurity: Access denied with code 403 (phase 2)"
        ". String match \"attack\" at ARGS:test. [file \"/etc/ms/t.conf\"] "
        "[line \"12\"] [id \"10001\"] [msg \"test \\\"rule\\\"\"] "
        "[hostname \"127.0.0.1\"] [uri \"/x\"] [unique_id \"abc\"]", &w) == 1);
    CHECK(w.status == 403);
    CHECK(w.phase == 2);
    CHECK_STR(w.file, "/etc/ms/t.conf");
    CHECK(w.line == 12);
    CHECK_STR(w.id, "10001");
    CHECK_STR(w.msg, "test \"rule\"");
    CHECK_STR(w.match, "String match \"attack\" at ARGS:test.");

    /* a message cut inside a tag keeps what is complete */
    CHECK(fx_waf_parse(p, "ModSecurity: Access denied with code 406 (phase 1)"
                       ". x [file \"/a\"] [line \"3\"] [id \"12", &w) == 1);
    CHECK(w.status == 406);
    CHECK(w.line == 3);
    CHECK(w.id == NULL);

    /* other ModSecurity lines are not denials */
    CHECK(fx_waf_parse(p, "ModSecurity: Warning. Match of \"x\" [id \"1\"]",
                       &w) == 0);
    CHECK(fx_waf_parse(p, "AH01630: client denied", &w) == 0);
    CHECK(fx_waf_parse(p, NULL, &w) == 0);

    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
