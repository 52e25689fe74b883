/* fx_waf.c — explains 403s from ModSecurity (mod_security2): the rule id,
 * its message, its file:line and the phase, as ModSecurity itself reported
 * them in its "Access denied with code 403" error-log line (captured by
 * fx_errorlog.c, parsed by fx_wafparse.c). */
#include <string.h>
#include "fx_private.h"
#include "apr_strings.h"
#include "fx_wafparse.h"

void fx_waf_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                    fx_entry *e)
{
    fx_waf_info w;
    int i;
    (void)failed;

    for (i = st->n_logged - 1; i >= 0; i--) {
        const char *m = st->logged[i].message;
        if (!m || strncmp(m, "ModSecurity:", 12) != 0
            || !fx_waf_parse(r->pool, m, &w) || w.status != HTTP_FORBIDDEN) {
            continue;
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
        return;
    }
}
