/* fx_waf.c — explains 403s from ModSecurity (mod_security2): the rule id,
 * its message, its file:line and the phase, as ModSecurity itself reported
 * them in its "Access denied with code 403" error-log line (parsed by
 * fx_wafparse.c).  mod_security2 writes that line as
 * "[client a.b.c.d] ModSecurity: Access denied ...", so it is captured here
 * by its own error_log hook; the hook only runs for lines httpd actually
 * writes, and keeps nothing unless the line is a ModSecurity denial. */
#include <string.h>
#include "fx_private.h"
#include "apr_strings.h"
#include "http_core.h"
#include "fx_wafparse.h"

/* Long enough for the tags ModSecurity puts after a long match text. */
#define FX_WAF_LINE_MAX 4096

static void fx_waf_error_log(const ap_errorlog_info *info, const char *errstr)
{
    request_rec *top;
    fx_req_state *st;

    /* Every written line passes here; our own (long) entries are skipped
     * before the search. */
    if (!info->r || info->level < 0 || info->level > APLOG_WARNING
        || info->module_index == forbidden_explain_module.module_index
        || !strstr(errstr, "ModSecurity: Access denied with code ")) {
        return;
    }
    for (top = (request_rec *)info->r; top->main; top = top->main)
        ;
    st = fx_state_ensure(top);
    if (!st->subsys[FX_SLOT_WAF]) {
        /* The first denial is the one that ended the request. */
        st->subsys[FX_SLOT_WAF] = apr_pstrndup(top->pool, errstr,
                                                   FX_WAF_LINE_MAX);
    }
}

void fx_waf_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_error_log(fx_waf_error_log, NULL, NULL, APR_HOOK_MIDDLE);
}

void fx_waf_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                    fx_entry *e)
{
    fx_waf_info w;
    fx_req_state *first = fx_state_get(r);
    const char *m = st->subsys[FX_SLOT_WAF];
    (void)failed;

    /* Logged on the request that failed, or on the initial one. */
    if (!m && first) {
        m = first->subsys[FX_SLOT_WAF];
    }
    if (!m || !fx_waf_parse(r->pool, m, &w) || w.status != HTTP_FORBIDDEN) {
        return;
    }
    fx_entry_set(e, "reason", "waf");
    if (w.file) {
        fx_entry_set(e, "file", w.file);
    }
    if (w.line) {
        fx_entry_set_int(e, "line", w.line);
    }
    if (w.id) {
        fx_entry_set(e, "waf_rule_id", w.id);
    }
    if (w.msg) {
        fx_entry_set(e, "waf_msg", w.msg);
    }
    if (w.phase) {
        fx_entry_set_int(e, "waf_phase", w.phase);
    }
    if (w.match) {
        fx_entry_set(e, "waf_match", w.match);
    }
    fx_entry_set(e, "detail", apr_psprintf(r->pool, "ModSecurity rule %s "
                 "denied the request in its phase %d%s%s.",
                 w.id ? w.id : "(no id)", w.phase,
                 w.msg ? ": " : "", w.msg ? w.msg : ""));
    fx_entry_set(e, "hint", apr_psprintf(r->pool, "If this is a false "
                 "positive, exclude rule %s for this location "
                 "(SecRuleRemoveById or ctl:ruleRemoveById) or fix the "
                 "rule at the file and line shown.",
                 w.id ? w.id : "shown"));
}
