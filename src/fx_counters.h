/* fx_counters.h — the interface of the denial counters (fx_counters.c):
 * called once per 403 that is certain (and once per request a report-only
 * rule would deny), never on the allowed path. */
#ifndef FX_COUNTERS_H
#define FX_COUNTERS_H

#include "httpd.h"
#include "http_config.h"
#include "fx_entry.h"

typedef enum {
    FX_COUNT_DENIED = 0,        /* a 403 httpd answered */
    FX_COUNT_WOULD_DENY = 1     /* a report-only rule would have denied */
} fx_count_kind;

/* Count the entry e of request r (reason, module, phase, rule file:line,
 * virtual host, client, path as the entry states them). */
void fx_counters_add(request_rec *r, const fx_entry *e, fx_count_kind kind);

void fx_counters_register_hooks(apr_pool_t *p);
int fx_counters_handler(request_rec *r);   /* metrics and status */

/* Directives (main server only), fx_cmds in mod_forbidden_explain.c:
 * ForbiddenExplainCounters On|Off, ForbiddenExplainCountClients
 * off|hashed|on, ForbiddenExplainCounterRules N (rule table rows),
 * ForbiddenExplainMetricsRules N (rule series shown). */
const char *fx_counters_set_enabled(cmd_parms *cmd, void *dconf, int on);
const char *fx_counters_set_clients(cmd_parms *cmd, void *dconf,
                                    const char *arg);
const char *fx_counters_set_rules(cmd_parms *cmd, void *dconf,
                                  const char *arg);
const char *fx_counters_set_top(cmd_parms *cmd, void *dconf, const char *arg);

#endif
