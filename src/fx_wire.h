/* fx_wire.h — the per-directory settings shared by fx_wire.c (directives,
 * hooks, the output filter) and fx_redact.c (ForbiddenExplainRedact). */
#ifndef FX_WIRE_H
#define FX_WIRE_H

#include "ap_expr.h"
#include "ap_regex.h"
#include "fx_private.h"
#include "fx_trust.h"

/* Redaction of literals in `Require expr` / `SSLRequire` text.  The
 * default (FX_UNSET, or FX_LIT_WIRE): every literal on the wire, and in the
 * log the literals a request value is compared with (fx_exprlit.h).
 * FX_LIT_WIRE_ONLY (`expr-literals wire`) shows them all in the log. */
enum { FX_LIT_OFF = 0, FX_LIT_WIRE = 1, FX_LIT_WIRE_AND_LOG = 2,
       FX_LIT_WIRE_ONLY = 3 };

typedef struct {
    ap_regex_t *re;
    const char *pattern;
    int in_log;                     /* ForbiddenExplainRedact <re> log */
} fx_redact_rule;

struct fx_wire_dir_conf {
    int headers;                    /* ForbiddenExplainHeaders */
    int request_id;                 /* ForbiddenExplainRequestId */
    int trust_set;                  /* ForbiddenExplainTrustedClients given */
    int trust_none;                 /* ... none */
    fx_trust_list *trust_addrs;     /* address part, NULL when only expr= */
    apr_array_header_t *trust_exprs;/* ap_expr_info_t *, all must hold */
    int redact_reset;               /* ForbiddenExplainRedact none */
    apr_array_header_t *redact;     /* fx_redact_rule */
    int literals;                   /* FX_LIT_*, FX_UNSET = default (wire) */
};

/* fx_redact.c */
const char *fx_redact_add(cmd_parms *cmd, fx_wire_dir_conf *c,
                          const char *arg, const char *flag);
/* A copy of e with the wire redaction applied (e itself when none). */
fx_entry *fx_redact_for_wire(apr_pool_t *p, const fx_entry *e,
                             const fx_wire_dir_conf *c);
/* Applies the log redaction to e in place: the literals a request value
 * is compared with unless `expr-literals wire|off`, and what is marked
 * `log`.  c may be NULL (no wire directive in scope: the defaults). */
void fx_redact_for_log(apr_pool_t *p, fx_entry *e, const fx_wire_dir_conf *c);

#endif
