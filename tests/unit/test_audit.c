/* test_audit.c — unit tests for the audit's pure judgements
 * (src/fx_auditrule.c): AllowOverride verdicts for .htaccess directives,
 * Options=... refusals, symlink refusals, class names, plain AliasMatch
 * targets, severity sort and the rendered finding. */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "fx_auditrule.h"
#include "fx_perm.h"
#include "fx_json.h"
#include "unit.h"

static fx_audit_finding *mk(apr_pool_t *p, const char *sev, int order)
{
    fx_audit_finding *f = apr_pcalloc(p, sizeof(*f));
    f->severity = sev;
    f->kind = "k";
    f->order = order;
    return f;
}

int main(void)
{
    apr_pool_t *p;
    apr_array_header_t *a;
    fx_audit_finding *f;
    fx_audit_step *st;
    static const char *const argv[] = { "chmod", "o+x", "/srv x", NULL };
    const char *j;

    apr_initialize();
    apr_pool_create(&p, NULL);

    /* Require needs AuthConfig; FileInfo alone refuses it (500) */
    CHECK_INT(fx_audit_directive_verdict(FX_OR_AUTHCFG, FX_OR_FILEINFO, 0),
              FX_HT_500);
    CHECK_INT(fx_audit_directive_verdict(FX_OR_AUTHCFG,
                                         FX_OR_FILEINFO | FX_OR_AUTHCFG, 0),
              FX_HT_ALLOWED);
    CHECK_INT(fx_audit_directive_verdict(FX_OR_AUTHCFG, 0, 1), FX_HT_ALLOWED);
    CHECK_INT(fx_audit_directive_verdict(FX_OR_AUTHCFG,
                                         FX_OR_FILEINFO | FX_NONFATAL_OVERRIDE,
                                         0), FX_HT_IGNORED);
    /* the NONFATAL bits never count as an override class */
    CHECK_INT(fx_audit_directive_verdict(FX_NONFATAL_OVERRIDE,
                                         FX_NONFATAL_OVERRIDE, 0), FX_HT_IGNORED);

    /* AllowOverride Options=Indexes refuses FollowSymLinks, not -Indexes */
    CHECK_STR(fx_audit_options_refused(p, "-Indexes +FollowSymLinks",
                                       FX_OPT_INDEXES), "+FollowSymLinks");
    CHECK(fx_audit_options_refused(p, "-Indexes", FX_OPT_INDEXES) == NULL);
    CHECK_STR(fx_audit_options_refused(p, "Includes", FX_OPT_INCLUDES),
              "Includes");
    CHECK(fx_audit_options_refused(p, "  IncludesNOEXEC  ", FX_OPT_INCLUDES)
          == NULL);
    CHECK(fx_audit_options_refused(p, "None", 0) == NULL);
    CHECK_STR(fx_audit_options_refused(p, "All", FX_OPT_INDEXES), "All");

    CHECK_INT(fx_audit_symlink_refused(0, 1), 1);
    CHECK_INT(fx_audit_symlink_refused(FX_OPT_SYM_LINKS, 0), 0);
    CHECK_INT(fx_audit_symlink_refused(FX_OPT_SYM_OWNER, 0), 1);
    CHECK_INT(fx_audit_symlink_refused(FX_OPT_SYM_OWNER, 1), 0);
    CHECK_INT(fx_audit_symlink_refused(FX_OPT_SYM_OWNER | FX_OPT_SYM_LINKS, 0),
              1);

    CHECK_STR(fx_audit_override_names(p, FX_OR_FILEINFO | FX_OR_AUTHCFG),
              "AuthConfig FileInfo");
    CHECK(fx_audit_override_names(p, 0) == NULL);

    CHECK_INT(fx_audit_plain_target("/srv/static/"), 1);
    CHECK_INT(fx_audit_plain_target("/srv/$1"), 0);
    CHECK_INT(fx_audit_plain_target("/srv/\\1"), 0);
    CHECK_INT(fx_audit_plain_target("relative"), 0);

    a = apr_array_make(p, 4, sizeof(fx_audit_finding *));
    APR_ARRAY_PUSH(a, fx_audit_finding *) = mk(p, "low", 0);
    APR_ARRAY_PUSH(a, fx_audit_finding *) = mk(p, "high", 1);
    APR_ARRAY_PUSH(a, fx_audit_finding *) = mk(p, "low", 2);
    APR_ARRAY_PUSH(a, fx_audit_finding *) = mk(p, "medium", 3);
    fx_audit_sort(a);
    CHECK_INT(APR_ARRAY_IDX(a, 0, fx_audit_finding *)->order, 1);
    CHECK_INT(APR_ARRAY_IDX(a, 1, fx_audit_finding *)->order, 3);
    CHECK_INT(APR_ARRAY_IDX(a, 2, fx_audit_finding *)->order, 0);
    CHECK_INT(APR_ARRAY_IDX(a, 3, fx_audit_finding *)->order, 2);

    f = mk(p, "high", 0);
    f->kind = "untraversable";
    f->path = "/srv x/\"q\"";
    f->file = "/etc/a.conf";
    f->line = 12;
    f->fix = apr_array_make(p, 2, sizeof(fx_audit_step));
    st = apr_array_push(f->fix);
    memset(st, 0, sizeof(*st));
    st->op = "run";
    st->argv = argv;
    st = apr_array_push(f->fix);
    memset(st, 0, sizeof(*st));
    st->op = "replace";
    st->file = "/etc/a.conf";
    st->line = 3;
    st->old = "AllowOverride None";
    st->text = "AllowOverride AuthConfig";
    j = fx_audit_finding_json(p, f, fx_json_std_quote);
    CHECK_STR(j, "{\"severity\":\"high\",\"kind\":\"untraversable\","
              "\"path\":\"/srv x/\\\"q\\\"\",\"file\":\"/etc/a.conf\","
              "\"line\":12,\"fix\":[{\"op\":\"run\",\"argv\":[\"chmod\","
              "\"o+x\",\"/srv x\"]},{\"op\":\"replace\",\"file\":"
              "\"/etc/a.conf\",\"line\":3,\"old\":\"AllowOverride None\","
              "\"new\":\"AllowOverride AuthConfig\"}]}");
    /* the log-safe form escapes the quote as %22 */
    j = fx_audit_finding_json(p, f, fx_json_quote);
    CHECK(strstr(j, "/srv x/%22q%22") != NULL);
    f->file = NULL;
    j = fx_audit_finding_json(p, f, fx_json_std_quote);
    CHECK(strstr(j, "\"line\"") == NULL || strstr(j, "\"line\":3") != NULL);

    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
