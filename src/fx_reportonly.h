/* fx_reportonly.h — report-only authorization rules (fx_reportonly.c):
 * <ForbiddenExplainReportOnly> holds Require lines and <RequireAll|Any|None>
 * containers that are evaluated with httpd's real providers on live
 * traffic, reported when they would deny, and never enforced. */
#ifndef FX_REPORTONLY_H
#define FX_REPORTONLY_H

#include "httpd.h"
#include "http_config.h"
#include "mod_auth.h"
#include "fx_private.h"
#include "fx_entry.h"

/* The container's handler (fx_cmds in mod_forbidden_explain.c). */
const char *fx_reportonly_section(cmd_parms *cmd, void *dconf,
                                  const char *args);

/* fx_trampoline.c: type_checker is about to run for r, so authorization
 * let r through.  The one test an uncovered request pays is inline here. */
void fx_reportonly_authorized(request_rec *r);
static APR_INLINE void fx_reportonly_point(request_rec *r)
{
    const fx_dir_conf *dc = fx_dir_get(r);
    if (dc && dc->reportonly) {
        fx_reportonly_authorized(r);
    }
}
/* fx_trampoline.c: a hook of phase returned 403 for r. */
void fx_reportonly_denied(request_rec *r, const char *phase);

/* fx_explain.c: a 403 entry says whether the candidate would have denied
 * too ("report_only_would_deny", "report_only_rule"). */
void fx_reportonly_explain(request_rec *r, request_rec *failed, fx_entry *e);

/* fx_report.c, log_transaction of a request whose final status is not
 * 403: the report-only entry of the chain, or NULL (the common case). */
fx_entry *fx_reportonly_entry(request_rec *r);

/* For the what-if simulator (and anyone else): evaluate the report-only
 * rules in effect for r now, with httpd's providers, changing nothing of
 * r.  Returns -1 when no report-only rule applies to r (none configured,
 * ForbiddenExplain Off, or a method the container's <Limit> excludes),
 * 0 when the candidate grants, 1 when it would deny (or fail).  When e is
 * not NULL, the candidate's facts are added to it: report_only_would_deny,
 * report_only_result, report_only_rule {directive, file, line, section,
 * result}, report_only_container. */
int fx_reportonly_evaluate(request_rec *r, fx_entry *e);

/* fx_authz.c, for this file: the provider a wrapper stands for (prov
 * itself when it is none); silence the wrappers on c while a candidate
 * is evaluated (an alias calls the wrapped provider), returning the old
 * setting; what a Require line d looked at (rule_saw, env, env_source,
 * env_origin, expr, expr_headers, remote_host, ssl_client_verify). */
const authz_provider *fx_authz_unwrapped(const authz_provider *prov);
int fx_authz_quiet(conn_rec *c, int on);
void fx_authz_rule_saw(request_rec *r, apr_pool_t *p, const ap_directive_t *d,
                       int negate, int result, fx_entry *e);

#endif
