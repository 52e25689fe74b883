/* fx_redact.c — ForbiddenExplainRedact: administrator regexes (httpd's
 * ap_regex, PCRE2) and the default redaction of literals in expressions.
 * On the wire every literal and every regex goes; in the log entry (error
 * log, own log, note) by default the literals a request value is compared
 * with (API keys against a header, cookie or query: fx_exprlit.h), and
 * whatever the administrator marks `log`. */
#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "fx_wire.h"
#include "fx_wire_render.h"
#include "fx_exprlit.h"
#include "fx_json.h"

#define FX_REDACTED "[redacted]"

/* ForbiddenExplainRedact none | expr-literals [log|off] | <regex> [log] */
const char *fx_redact_add(cmd_parms *cmd, fx_wire_dir_conf *c,
                          const char *arg, const char *flag)
{
    fx_redact_rule *rule;

    if (strcasecmp(arg, "none") == 0) {
        if (flag) {
            return apr_psprintf(cmd->pool, "ForbiddenExplainRedact none "
                                "takes no flag ('%s')", flag);
        }
        c->redact_reset = 1;
        c->redact = apr_array_make(cmd->pool, 2, sizeof(fx_redact_rule));
        c->literals = FX_LIT_OFF;
        return NULL;
    }
    if (strcasecmp(arg, "expr-literals") == 0) {
        if (!flag) {
            c->literals = FX_LIT_WIRE;
        }
        else if (strcasecmp(flag, "log") == 0) {
            c->literals = FX_LIT_WIRE_AND_LOG;
        }
        else if (strcasecmp(flag, "off") == 0) {
            c->literals = FX_LIT_OFF;
        }
        else if (strcasecmp(flag, "wire") == 0) {
            c->literals = FX_LIT_WIRE_ONLY;
        }
        else {
            return apr_psprintf(cmd->pool, "ForbiddenExplainRedact "
                                "expr-literals: unknown flag '%s' (log, wire "
                                "or off)", flag);
        }
        return NULL;
    }
    if (flag && strcasecmp(flag, "log") != 0) {
        return apr_psprintf(cmd->pool, "ForbiddenExplainRedact: unknown flag "
                            "'%s' after the regular expression (only 'log')",
                            flag);
    }
    if (!*arg) {
        return "ForbiddenExplainRedact: empty regular expression";
    }
    if (!c->redact) {
        c->redact = apr_array_make(cmd->pool, 2, sizeof(fx_redact_rule));
    }
    rule = apr_array_push(c->redact);
    rule->pattern = arg;
    rule->in_log = flag != NULL;
    rule->re = ap_pregcomp(cmd->pool, arg, 0);
    if (!rule->re) {
        return apr_psprintf(cmd->pool, "ForbiddenExplainRedact: '%s' is not "
                            "a valid regular expression", arg);
    }
    return NULL;
}

/* Every match of re in s[0..n) replaced with [redacted], into parts. */
static int fx_redact_regex_span(apr_pool_t *p, const char *s, apr_size_t n,
                                const ap_regex_t *re,
                                apr_array_header_t *parts)
{
    const char *text = apr_pstrndup(p, s, n), *rest = text;
    ap_regmatch_t m[1];
    int eflags = 0, changed = 0;

    while (*rest && ap_regexec(re, rest, 1, m, eflags) == 0) {
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrndup(p, rest,
                                                           m[0].rm_so);
        APR_ARRAY_PUSH(parts, const char *) = FX_REDACTED;
        changed = 1;
        if (m[0].rm_eo == m[0].rm_so) {
            /* an empty match moves on by one byte so the loop ends */
            if (!rest[m[0].rm_eo]) {
                rest += m[0].rm_eo;
                break;
            }
            APR_ARRAY_PUSH(parts, const char *) = apr_pstrndup(p, rest
                                                               + m[0].rm_eo, 1);
            rest += m[0].rm_eo + 1;
        }
        else {
            rest += m[0].rm_eo;
        }
        eflags = AP_REG_NOTBOL;
    }
    APR_ARRAY_PUSH(parts, const char *) = rest;
    return changed;
}

/* The regex applied to a value; for the module's pre-rendered JSON only
 * inside its strings (which hold no backslash, see fx_json.h), so the
 * structure stays valid. */
static const char *fx_redact_regex(apr_pool_t *p, const char *s, int is_raw,
                                   const ap_regex_t *re)
{
    apr_array_header_t *parts = apr_array_make(p, 8, sizeof(const char *));
    int changed = 0, in_string = 0;
    const char *q, *whole = s;

    if (!is_raw) {
        changed = fx_redact_regex_span(p, s, strlen(s), re, parts);
        return changed ? apr_array_pstrcat(p, parts, 0) : s;
    }
    for (q = s; *s; s = q) {
        q = strchr(s, '"');
        if (!q) {
            q = s + strlen(s);
        }
        if (in_string) {
            changed |= fx_redact_regex_span(p, s, q - s, re, parts);
        }
        else {
            APR_ARRAY_PUSH(parts, const char *) = apr_pstrndup(p, s, q - s);
        }
        if (*q) {
            APR_ARRAY_PUSH(parts, const char *) = "\"";
            q++;
            in_string = !in_string;
        }
    }
    return changed ? apr_array_pstrcat(p, parts, 0) : whole;
}

typedef struct {
    apr_pool_t *p;
    const fx_wire_dir_conf *c;
    int for_log;
    int literals;                   /* scrub expression literals */
    apr_array_header_t *lits;       /* ... these */
    fx_entry *out;                  /* wire: the copy */
    apr_array_header_t *changes;    /* log: key, new value pairs */
} fx_redact_baton;

/* First pass: the literals of every expression the entry quotes; the
 * "expr" fact is a bare expression. */
static void fx_redact_collect(void *baton, const char *key, const char *value,
                              int is_raw)
{
    fx_redact_baton *b = baton;
    if (value && !is_raw) {
        fx_wire_collect_literals(b->p, value, strcmp(key, "expr") == 0,
                                 b->lits);
    }
}

/* The redacted form of one value. */
static const char *fx_redact_value(fx_redact_baton *b, const char *key,
                                   const char *v, int is_raw)
{
    const char *out = v;
    int i;

    /* the id is ours and must match between the wire and the log */
    if (!v || strcmp(key, "request_id") == 0) {
        return v;
    }
    if (b->literals) {
        out = fx_wire_scrub(b->p, out, b->lits, is_raw);
    }
    for (i = 0; b->c->redact && i < b->c->redact->nelts; i++) {
        const fx_redact_rule *rule = &APR_ARRAY_IDX(b->c->redact, i,
                                                    fx_redact_rule);
        if (!b->for_log || rule->in_log) {
            out = fx_redact_regex(b->p, out, is_raw, rule->re);
        }
    }
    return out;
}

static void fx_redact_visit(void *baton, const char *key, const char *value,
                            int is_raw)
{
    fx_redact_baton *b = baton;
    const char *v = fx_redact_value(b, key, value, is_raw);
    if (b->for_log) {
        if (v != value) {
            APR_ARRAY_PUSH(b->changes, const char *) = key;
            APR_ARRAY_PUSH(b->changes, const char *) = v;
            APR_ARRAY_PUSH(b->changes, const char *) = is_raw ? "raw" : NULL;
        }
    }
    else if (is_raw) {
        fx_entry_set_raw(b->out, key, v);
    }
    else {
        fx_entry_set(b->out, key, v);
    }
}

static void fx_redact_prepare(fx_redact_baton *b, apr_pool_t *p,
                              const fx_entry *e, const fx_wire_dir_conf *c,
                              int for_log)
{
    int lit = c->literals == FX_UNSET ? FX_LIT_WIRE : c->literals;
    b->p = p;
    b->c = c;
    b->for_log = for_log;
    /* every literal: on the wire unless off, in the log only with `log`
     * (the log's default is fx_redact_compared_for_log) */
    b->literals = for_log ? lit == FX_LIT_WIRE_AND_LOG : lit != FX_LIT_OFF;
    b->lits = apr_array_make(p, 4, sizeof(const char *));
    b->out = NULL;
    b->changes = NULL;
    if (b->literals) {
        fx_entry_visit(e, fx_redact_collect, b);
    }
}

fx_entry *fx_redact_for_wire(apr_pool_t *p, const fx_entry *e,
                             const fx_wire_dir_conf *c)
{
    fx_redact_baton b;
    fx_redact_prepare(&b, p, e, c, 0);
    if (!b.lits->nelts && (!c->redact || !c->redact->nelts)) {
        return (fx_entry *)e;
    }
    b.out = fx_entry_make(p);
    fx_entry_visit(e, fx_redact_visit, &b);
    return b.out;
}

/* The log default: the compared literals of the rule the entry names. */
typedef struct {
    apr_pool_t *p;
    apr_array_header_t *lits;       /* fx_exprlit, as the values hold them */
    apr_array_header_t *enc;        /* fx_exprlit, as raw JSON holds them */
    apr_array_header_t *changes;    /* key, new value, "raw" or NULL */
} fx_redact_cmp_baton;

/* The literals an expression compares with, from the two facts that hold
 * directive text as written (in their rendering order: directive is a
 * documented key, expr is not). */
static void fx_redact_cmp_collect(fx_redact_cmp_baton *b, const fx_entry *e)
{
    const char *directive = fx_entry_get_str(e, "directive");
    const char *expr = fx_entry_get_str(e, "expr");
    if (directive) {
        fx_exprlit_collect(b->p, directive, 0, b->lits);
    }
    if (expr) {
        fx_exprlit_collect(b->p, expr, 1, b->lits);
    }
}

/* The module's raw JSON holds strings in their encoded form. */
static const char *fx_redact_encoded(apr_pool_t *p, const char *s)
{
    char *q = fx_json_quote(p, s, 0, NULL);
    q[strlen(q) - 1] = '\0';
    return q + 1;
}

static void fx_redact_cmp_visit(void *baton, const char *key,
                                const char *value, int is_raw)
{
    fx_redact_cmp_baton *b = baton;
    const char *v;
    /* the id is ours and must match between the wire and the log */
    if (!value || strcmp(key, "request_id") == 0) {
        return;
    }
    v = fx_exprlit_scrub(b->p, value, is_raw ? b->enc : b->lits);
    if (v != value) {
        APR_ARRAY_PUSH(b->changes, const char *) = key;
        APR_ARRAY_PUSH(b->changes, const char *) = v;
        APR_ARRAY_PUSH(b->changes, const char *) = is_raw ? "raw" : NULL;
    }
}

static void fx_redact_apply_changes(fx_entry *e, apr_array_header_t *changes)
{
    int i;
    for (i = 0; i + 2 < changes->nelts; i += 3) {
        const char *key = APR_ARRAY_IDX(changes, i, const char *);
        const char *v = APR_ARRAY_IDX(changes, i + 1, const char *);
        if (APR_ARRAY_IDX(changes, i + 2, const char *)) {
            fx_entry_set_raw(e, key, v);
        }
        else {
            fx_entry_set(e, key, v);
        }
    }
}

static void fx_redact_compared_for_log(apr_pool_t *p, fx_entry *e)
{
    fx_redact_cmp_baton b;
    int i;

    b.p = p;
    b.lits = apr_array_make(p, 2, sizeof(fx_exprlit));
    fx_redact_cmp_collect(&b, e);
    if (!b.lits->nelts) {
        return;
    }
    b.enc = apr_array_make(p, b.lits->nelts, sizeof(fx_exprlit));
    for (i = 0; i < b.lits->nelts; i++) {
        const fx_exprlit *l = &APR_ARRAY_IDX(b.lits, i, fx_exprlit);
        fx_exprlit *x = apr_array_push(b.enc);
        x->written = fx_redact_encoded(p, l->written);
        x->redacted = fx_redact_encoded(p, l->redacted);
    }
    b.changes = apr_array_make(p, 6, sizeof(const char *));
    fx_entry_visit(e, fx_redact_cmp_visit, &b);
    fx_redact_apply_changes(e, b.changes);
}

void fx_redact_for_log(apr_pool_t *p, fx_entry *e, const fx_wire_dir_conf *c)
{
    fx_redact_baton b;
    int i, lit = c ? c->literals : FX_UNSET, any = lit == FX_LIT_WIRE_AND_LOG;

    if (lit == FX_UNSET || lit == FX_LIT_WIRE) {
        fx_redact_compared_for_log(p, e);
    }
    for (i = 0; !any && c && c->redact && i < c->redact->nelts; i++) {
        any = APR_ARRAY_IDX(c->redact, i, fx_redact_rule).in_log;
    }
    if (!any) {
        return;
    }
    fx_redact_prepare(&b, p, e, c, 1);
    b.changes = apr_array_make(p, 6, sizeof(const char *));
    fx_entry_visit(e, fx_redact_visit, &b);
    fx_redact_apply_changes(e, b.changes);
}
