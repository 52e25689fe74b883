/* fx_reportonly.c — report-only authorization rules: the
 * <ForbiddenExplainReportOnly> container, its own tree of Require rules,
 * their evaluation with httpd's real providers, and the "would deny"
 * entries.
 *
 * Configuration: the container's children are parsed here, not by
 * mod_authz_core (its Require would enforce them): each Require line's
 * provider is looked up as mod_authz_core looks it up and its own
 * parse_require_line runs at configuration time, so an unknown provider or
 * a bad argument is refused at startup (or as a 500 in .htaccess) with the
 * line's file:line and httpd's own message; so are the shapes
 * mod_authz_core refuses (a negative rule in an "any", an empty or
 * only-negative container).  Anything else inside is refused.  A section's
 * candidate replaces the one it inherits (no AuthMerging: a candidate is
 * tried as a whole).
 *
 * Request time: right before type_checker (authorization has let the
 * request through; fx_trampoline.c owns that hook array, so no access or
 * auth hook is added: core counts those), a request whose per-dir config
 * has a candidate evaluates it once, as apply_authz_sections would, with
 * the real (unwrapped) providers.  The results of the calls go to a stack
 * buffer; when the candidate grants nothing is allocated.  Nothing of the
 * request changes: r->user, the host-name caches, a Vary an expression
 * adds and the providers' own log lines are put back or kept silent.  When
 * httpd denies in an authorization phase, the candidate is evaluated
 * there, so the 403 entry can say whether it would have denied too.
 *
 * Output: a request served although the candidate would deny gets one
 * entry at log_transaction (fx_report.c), "report_only": true. */
#include <string.h>
#include "apr_strings.h"
#include "ap_provider.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "fx_private.h"
#include "fx_json.h"
#include "fx_authz_eval.h"
#include "fx_section.h"
#include "fx_reportonly.h"
#include "fx_rotree.h"

#define FX_RO_NAME "<ForbiddenExplainReportOnly"
/* Leaf results live on the stack up to this many leaves per candidate. */
#define FX_RO_STACK_LEAVES 1024
/* Trail items shown (the named rule is always among them). */
#define FX_RO_MAX_SHOWN 16
#define FX_RO_MAX_RESP 8

struct fx_ro_conf {
    fx_ro_node *root;               /* the section's implicit RequireAny */
    const ap_directive_t *d;        /* its first container line */
    apr_array_header_t *leaves;     /* fx_ro_node *, by index */
    apr_int64_t limited;            /* methods (a <Limit> around it) */
};

/* One evaluation's verdict (st->subsys[FX_SLOT_REPORTONLY]): kept only
 * when the candidate would deny, or when httpd denied the request. */
typedef struct {
    const struct fx_ro_conf *conf;
    int result;                     /* the candidate's answer, authz_status */
    int would_deny;
    int known;                      /* the replay reproduced the result */
    const fx_ro_node *named;        /* the rule (or container) that decided */
    const char *decided_by;
    const char *rule_json;          /* {"directive","file","line","section"} */
    const char *phase;              /* where it was evaluated */
    fx_entry *facts;                /* trail, responsible, rule_saw, ... */
    int named_at;                   /* the named rule's trail item, or -1 */
    int logged;
} fx_ro_verdict;

/* -------------------------------------------------------------------- */
/* configuration                                                         */

static const char *fx_ro_trim(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

static const char *fx_ro_parse_body(cmd_parms *cmd, struct fx_ro_conf *c,
                                    fx_ro_node *parent, ap_directive_t *d);

/* A Require line, as mod_authz_core's add_authz_provider takes it. */
static const char *fx_ro_parse_require(cmd_parms *cmd, struct fx_ro_conf *c,
                                       fx_ro_node *parent, ap_directive_t *d)
{
    const char *args = d->args ? d->args : "";
    fx_ro_node *n = fx_ro_node_new(cmd->pool, 0, 0, d);
    const authz_provider *prov, *real;
    ap_directive_t *saved = cmd->directive;

    n->prov_name = ap_getword_conf(cmd->pool, &args);
    if (!strcasecmp(n->prov_name, "not")) {
        n->prov_name = ap_getword_conf(cmd->pool, &args);
        n->negate = 1;
    }
    n->args = args;
    prov = ap_lookup_provider(AUTHZ_PROVIDER_GROUP, n->prov_name,
                              AUTHZ_PROVIDER_VERSION);
    if (!prov) {
        return apr_psprintf(cmd->pool, "Unknown Authz provider: %s",
                            n->prov_name);
    }
    if (!prov->check_authorization) {
        return apr_psprintf(cmd->pool, "The '%s' Authz provider is not "
                            "supported by any of the loaded authorization "
                            "modules", n->prov_name);
    }
    /* The real provider: the wrappers of fx_authz.c would record these
     * calls in the trail of httpd's own evaluation. */
    n->prov = real = fx_authz_unwrapped(prov);
    if (real->parse_require_line) {
        const char *err;
        apr_pool_userdata_setn(n->prov_name, AUTHZ_PROVIDER_NAME_NOTE,
                               apr_pool_cleanup_null, cmd->temp_pool);
        cmd->directive = d;     /* ap_expr_parse_cmd names this line */
        err = real->parse_require_line(cmd, args, &n->parsed);
        cmd->directive = saved;
        if (err) {
            return err;
        }
    }
    if (n->negate && parent->op == FX_AZ_OR) {
        return apr_psprintf(cmd->pool, "negative Require directive has no "
                            "effect in %s directive", fx_ro_cont_name(parent));
    }
    n->absolute = !n->negate && !strcasecmp(n->prov_name, "all")
                  && !strcasecmp(fx_ro_trim(args), "denied");
    n->index = c->leaves->nelts;
    APR_ARRAY_PUSH(c->leaves, fx_ro_node *) = n;
    fx_ro_append(parent, n);
    return NULL;
}

/* <RequireAll|Any|None>, as mod_authz_core's add_authz_section takes it. */
static const char *fx_ro_parse_container(cmd_parms *cmd, struct fx_ro_conf *c,
                                         fx_ro_node *parent, ap_directive_t *d,
                                         int op, int negate)
{
    const char *args = d->args ? d->args : "";
    const char *endp = ap_strrchr_c(args, '>');
    fx_ro_node *n;
    const char *err;

    if (!endp) {
        return apr_pstrcat(cmd->pool, d->directive,
                           "> directive missing closing '>'", NULL);
    }
    if (*fx_ro_trim(args) != '>') {
        return apr_pstrcat(cmd->pool, d->directive,
                           "> directive doesn't take additional arguments",
                           NULL);
    }
    n = fx_ro_node_new(cmd->pool, op, negate, d);
    if ((err = fx_ro_parse_body(cmd, c, n, d->first_child)) != NULL) {
        return err;
    }
    if (!n->first) {
        return apr_pstrcat(cmd->pool, fx_ro_cont_name(n), " directive "
                           "contains no authorization directives", NULL);
    }
    if (n->negate && parent->op == FX_AZ_OR) {
        return apr_pstrcat(cmd->pool, fx_ro_cont_name(n), " directive has no "
                           "effect in ", fx_ro_cont_name(parent), " directive",
                           NULL);
    }
    fx_ro_append(parent, n);
    return NULL;
}

static const char *fx_ro_shown(apr_pool_t *p, const char *name)
{
    return name[0] == '<' ? apr_pstrcat(p, name, ">", NULL) : name;
}

/* mod_access_compat's directives, as it spells them. */
static const char *fx_ro_compat_name(const char *name)
{
    static const char *const compat[] = { "Order", "Allow", "Deny", "Satisfy",
                                          NULL };
    int i;
    for (i = 0; compat[i]; i++) {
        if (!strcasecmp(name, compat[i])) {
            return compat[i];
        }
    }
    return NULL;
}

static const char *fx_ro_parse_body(cmd_parms *cmd, struct fx_ro_conf *c,
                                    fx_ro_node *parent, ap_directive_t *d)
{
    for (; d; d = d->next) {
        const char *name = d->directive, *err, *compat;
        int op, neg;

        if (!strcasecmp(name, "Require")) {
            err = fx_ro_parse_require(cmd, c, parent, d);
        }
        else if (fx_ro_container_kind(name, &op, &neg)) {
            err = fx_ro_parse_container(cmd, c, parent, d, op, neg);
        }
        else if (!strcasecmp(name, FX_RO_NAME)) {
            err = "<ForbiddenExplainReportOnly> cannot be nested in another "
                  "<ForbiddenExplainReportOnly>";
        }
        else if ((compat = fx_ro_compat_name(name)) != NULL) {
            err = apr_pstrcat(cmd->pool, compat, " is not supported inside "
                              "<ForbiddenExplainReportOnly>: only Require "
                              "rules are evaluated report-only; write the "
                              "candidate with Require (`Deny from 10.0.0.0/8` "
                              "is `Require not ip 10.0.0.0/8` in a "
                              "<RequireAll>)", NULL);
        }
        else {
            err = apr_pstrcat(cmd->pool, fx_ro_shown(cmd->pool, name),
                              " is not an authorization rule: "
                              "<ForbiddenExplainReportOnly> holds only "
                              "Require, <RequireAll>, <RequireAny> and "
                              "<RequireNone>", NULL);
        }
        if (err) {
            if (!cmd->err_directive) {
                cmd->err_directive = d;
            }
            return err;
        }
    }
    return NULL;
}

/* A candidate that cannot tell requests apart is reported at startup (and,
 * in .htaccess, when the file is read): it says nothing about traffic. */
static void fx_ro_warn_useless(cmd_parms *cmd, const fx_ro_node *box)
{
    int set = fx_ro_outcomes(box);
    const ap_directive_t *d = box->d;
    if (!(set & FX_RO_G)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                     "forbidden_explain: the report-only rules of "
                     "<ForbiddenExplainReportOnly> at %s:%d can never grant: "
                     "every request they cover would be reported as denied",
                     d->filename, d->line_num);
    }
    else if (!(set & (FX_RO_D | FX_RO_N))) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                     "forbidden_explain: the report-only rules of "
                     "<ForbiddenExplainReportOnly> at %s:%d can never deny: "
                     "no request would ever be reported",
                     d->filename, d->line_num);
    }
}

static int fx_ro_is_authz_parent(const ap_directive_t *up)
{
    int op, neg;
    return fx_ro_container_kind(up->directive, &op, &neg)
        || !strcasecmp(up->directive, "<RequireNotAll")
        || !strcasecmp(up->directive, "<AuthzProviderAlias");
}

const char *fx_reportonly_section(cmd_parms *cmd, void *dconf,
                                  const char *args)
{
    fx_dir_conf *dc = dconf;
    const char *endp = ap_strrchr_c(args, '>');
    const ap_directive_t *up;
    struct fx_ro_conf *c = dc->reportonly;
    fx_ro_node *box, *n, *next;
    const fx_ro_node *bad;
    const char *err;

    if (!endp) {
        return "<ForbiddenExplainReportOnly> directive missing closing '>'";
    }
    if (*fx_ro_trim(args) != '>') {
        return "<ForbiddenExplainReportOnly> takes no arguments";
    }
    for (up = cmd->directive->parent; up; up = up->parent) {
        if (fx_ro_is_authz_parent(up)) {
            return apr_pstrcat(cmd->pool, "<ForbiddenExplainReportOnly> "
                               "cannot be inside ", up->directive, ">: it "
                               "holds a candidate of its own, next to the "
                               "Require rules of a section", NULL);
        }
    }
    if (!c) {
        c = apr_pcalloc(cmd->pool, sizeof(*c));
        c->root = fx_ro_node_new(cmd->pool, FX_AZ_OR, 0, cmd->directive);
        c->d = cmd->directive;
        c->leaves = apr_array_make(cmd->pool, 8, sizeof(fx_ro_node *));
    }
    /* This container alone, for the checks; then its rules join the
     * section's implicit "any" (several containers in one section are
     * alternatives, as several Require lines are). */
    box = fx_ro_node_new(cmd->pool, FX_AZ_OR, 0, cmd->directive);
    if ((err = fx_ro_parse_body(cmd, c, box, cmd->directive->first_child))) {
        return err;
    }
    if (!box->first) {
        return "<ForbiddenExplainReportOnly> directive contains no "
               "authorization directives";
    }
    if ((bad = fx_ro_only_negative(box)) != NULL) {
        cmd->err_directive = (ap_directive_t *)bad->d;
        return apr_pstrcat(cmd->pool, bad == box
                           ? "<ForbiddenExplainReportOnly>"
                           : fx_ro_cont_name(bad), " directive contains "
                           "only negative authorization directives", NULL);
    }
    fx_ro_warn_useless(cmd, box);
    for (n = box->first; n; n = next) {
        next = n->next;
        n->limited = cmd->limited;  /* a <Limit> around this container */
        fx_ro_append(c->root, n);
    }
    c->limited |= cmd->limited;
    dc->reportonly = c;
    return NULL;
}

/* -------------------------------------------------------------------- */
/* evaluation                                                            */

/* Level below emerg: the providers' own lines stay out of the error log
 * while the candidate is evaluated (httpd's log lines are httpd's). */
static const struct ap_logconf fx_ro_silent = { NULL, -1 };

typedef struct {
    request_rec *r;
    unsigned char *res;             /* per leaf: 0 not called, else 1+result */
} fx_ro_run;

/* One provider call, as apply_authz_sections makes it. */
static int fx_ro_call(void *baton, const fx_ro_node *n)
{
    fx_ro_run *run = baton;
    request_rec *r = run->r;
    const authz_provider *prov = n->prov;
    int result;

    apr_table_setn(r->notes, AUTHZ_PROVIDER_NAME_NOTE, n->prov_name);
    result = prov->check_authorization(r, n->args, n->parsed);
    apr_table_unset(r->notes, AUTHZ_PROVIDER_NAME_NOTE);
    if (result < AUTHZ_DENIED || result > AUTHZ_DENIED_NO_USER) {
        result = AUTHZ_GENERAL_ERROR;
    }
    run->res[n->index] = (unsigned char)(result + 1);
    return result;
}

/* The first Vary entry of headers_out (an expression read a header and
 * ap_expr_exec merged its name in): put back as it was. */
typedef struct {
    int idx;
    int nelts;
    char *val;
} fx_ro_vary;

static void fx_ro_vary_save(request_rec *r, fx_ro_vary *v)
{
    const apr_array_header_t *a = apr_table_elts(r->headers_out);
    const apr_table_entry_t *t = (const apr_table_entry_t *)a->elts;
    int i;
    v->idx = -1;
    v->val = NULL;
    v->nelts = a->nelts;
    for (i = 0; i < a->nelts; i++) {
        if (t[i].key && !strcasecmp(t[i].key, "Vary")) {
            v->idx = i;
            v->val = t[i].val;
            return;
        }
    }
}

static void fx_ro_vary_restore(request_rec *r, const fx_ro_vary *v)
{
    const apr_array_header_t *a = apr_table_elts(r->headers_out);
    apr_table_entry_t *t = (apr_table_entry_t *)a->elts;
    if (v->idx >= 0) {
        if (v->idx < a->nelts && t[v->idx].val != v->val) {
            t[v->idx].val = v->val;
        }
    }
    else if (a->nelts != v->nelts && apr_table_get(r->headers_out, "Vary")) {
        apr_table_unset(r->headers_out, "Vary");
    }
}

/* Evaluates c for r; res (one byte per leaf, zeroed) receives each call's
 * result.  Whatever the providers touch of r is put back. */
static int fx_ro_eval(request_rec *r, const struct fx_ro_conf *c,
                      unsigned char *res)
{
    conn_rec *conn = r->connection;
    const struct ap_logconf *log = r->log;
    char *user = r->user, *auth_type = r->ap_auth_type;
    char *ua_host = r->useragent_host, *c_host = conn->remote_host;
    int ua_dr = r->double_reverse, c_dr = conn->double_reverse;
    fx_ro_vary vary;
    fx_ro_run run;
    int quiet, result;

    fx_ro_vary_save(r, &vary);
    quiet = fx_authz_quiet(conn, 1);
    r->log = &fx_ro_silent;
    run.r = r;
    run.res = res;
    result = fx_ro_apply(c->root, FX_AZ_AND, r->method_number, fx_ro_call,
                         &run);
    r->log = log;
    fx_authz_quiet(conn, quiet);
    r->user = user;
    r->ap_auth_type = auth_type;
    r->useragent_host = ua_host;
    r->double_reverse = ua_dr;
    conn->remote_host = c_host;
    conn->double_reverse = c_dr;
    fx_ro_vary_restore(r, &vary);
    return result;
}

/* -------------------------------------------------------------------- */
/* the verdict                                                           */

static const char *fx_ro_text(apr_pool_t *p, const fx_ro_node *n)
{
    const ap_directive_t *d = n->d;
    if (d->directive[0] == '<') {
        return apr_pstrcat(p, d->directive, ">", NULL);
    }
    return apr_pstrcat(p, d->directive, d->args && *d->args ? " " : "",
                       d->args ? d->args : "", NULL);
}

static const char *fx_ro_q(apr_pool_t *p, const char *s)
{
    return fx_json_quote(p, s ? s : "", 256, NULL);
}

/* The tree of what was called, for fx_az_blame (the same naming rules as
 * httpd's own denials: a matched `Require not` is named, not the
 * alternatives beside it that merely did not grant). */
static fx_az_node *fx_ro_replay(apr_pool_t *p, const fx_ro_node *n,
                                const unsigned char *res)
{
    fx_az_node *out;
    const fx_ro_node *c;
    if (!n->op) {
        if (!res[n->index]) {
            return NULL;
        }
        out = fx_az_leaf(p, n->index, res[n->index] - 1, n->negate);
        out->absolute = n->absolute;
        return out;
    }
    out = fx_az_container(p, n->op, n->negate, n);
    for (c = n->first; c; c = c->next) {
        fx_az_node *k = fx_ro_replay(p, c, res);
        if (k) {
            fx_az_append(out, k);
        }
    }
    return out->first ? out : NULL;
}

static const char *fx_ro_item(apr_pool_t *p, const fx_ro_node *n, int raw)
{
    const char *item = apr_pstrcat(p, "{\"directive\":", fx_ro_q(p, fx_ro_text(p, n)),
                                   ",\"file\":", fx_ro_q(p, n->d->filename),
                                   ",\"line\":", apr_itoa(p, n->d->line_num),
                                   ",\"negated\":", n->negate ? "true" : "false",
                                   ",\"result\":\"", fx_az_result_name(raw),
                                   "\"", NULL);
    if (n->negate) {
        fx_az_node *leaf = fx_az_leaf(p, 0, raw, 1);
        fx_az_evaluate(leaf);
        item = apr_pstrcat(p, item, ",\"effect\":\"",
                           fx_az_result_name(leaf->result), "\"", NULL);
    }
    return apr_pstrcat(p, item, "}", NULL);
}

static int fx_ro_trail(apr_pool_t *p, const struct fx_ro_conf *c,
                       const unsigned char *res, const fx_ro_node *named,
                       fx_entry *facts)
{
    const char *json = "[";
    int i, shown = 0, calls = 0, omitted = 0, named_at = -1;
    int n = c->leaves->nelts;
    int must = named && !named->op ? named->index : -1;

    for (i = 0; i < n; i++) {
        const fx_ro_node *leaf;
        if (!res[i]) {
            continue;
        }
        calls++;
        if (shown >= FX_RO_MAX_SHOWN - (must > i) && i != must) {
            omitted++;
            continue;
        }
        leaf = APR_ARRAY_IDX(c->leaves, i, const fx_ro_node *);
        if (i == must) {
            named_at = shown;
        }
        json = apr_pstrcat(p, json, shown ? "," : "",
                           fx_ro_item(p, leaf, res[i] - 1), NULL);
        shown++;
    }
    fx_entry_set_raw(facts, "trail", apr_pstrcat(p, json, "]", NULL));
    if (named_at >= 0) {
        fx_entry_mark_deciding(facts, "trail", named_at);
    }
    fx_entry_set_raw(facts, "trail_calls", apr_itoa(p, calls));
    if (omitted) {
        fx_entry_set_raw(facts, "trail_omitted", apr_itoa(p, omitted));
    }
    return named_at;
}

static const char *fx_ro_rule_json(apr_pool_t *p, const fx_ro_node *n,
                                   const char *result)
{
    const char *section = fx_section_chain(p, n->d);
    return apr_pstrcat(p, "{\"directive\":", fx_ro_q(p, fx_ro_text(p, n)),
                       ",\"file\":", fx_ro_q(p, n->d->filename),
                       ",\"line\":", apr_itoa(p, n->d->line_num),
                       section ? ",\"section\":" : "",
                       section ? fx_ro_q(p, section) : "",
                       ",\"result\":\"", result, "\"}", NULL);
}

/* Providers whose attribute fx_authz.c knows how to show. */
static int fx_ro_known_provider(const char *name)
{
    static const char *const known[] = {
        "all", "ip", "host", "local", "forward-dns", "env", "method", "expr",
        "ssl", "ssl-verify-client", "user", "valid-user", "group",
        "file-owner", "file-group", "dbm-group", "dbd-group", NULL
    };
    int i;
    for (i = 0; known[i]; i++) {
        if (!strcasecmp(name, known[i])) {
            return 1;
        }
    }
    return !strncasecmp(name, "ldap-", 5);
}

/* Names what decided and keeps the facts of this moment (the variables,
 * the user, the headers an expression read). */
static fx_ro_verdict *fx_ro_judge(request_rec *r, const struct fx_ro_conf *c,
                                  int result, const unsigned char *res,
                                  const char *phase)
{
    apr_pool_t *p = r->pool;
    fx_ro_verdict *v = apr_pcalloc(p, sizeof(*v));
    fx_az_node *root = fx_ro_replay(p, c->root, res);
    const fx_az_node *named = NULL;
    apr_array_header_t *resp = apr_array_make(p, 4, sizeof(int));
    int i, active;

    v->conf = c;
    v->result = result;
    v->would_deny = (result != AUTHZ_GRANTED);
    v->phase = phase;
    v->facts = fx_entry_make(p);
    v->known = root && fx_az_evaluate(root) == result;
    if (v->known) {
        fx_az_responsible(root, resp);
        if (result == AUTHZ_GRANTED) {
            /* the rule that let the request in */
            if (resp->nelts) {
                v->named = APR_ARRAY_IDX(c->leaves, APR_ARRAY_IDX(resp, 0, int),
                                         const fx_ro_node *);
            }
        }
        else if (result == AUTHZ_GENERAL_ERROR) {
            for (i = 0; i < c->leaves->nelts && !v->named; i++) {
                if (res[i] - 1 == AUTHZ_GENERAL_ERROR) {
                    v->named = APR_ARRAY_IDX(c->leaves, i, const fx_ro_node *);
                }
            }
        }
        else {
            named = fx_az_blame(root, &active);
            v->named = named->is_leaf
                ? APR_ARRAY_IDX(c->leaves, named->index, const fx_ro_node *)
                : (const fx_ro_node *)named->key;
        }
    }
    v->decided_by = !v->named ? "unknown" : v->named->op ? "no-rule-granted"
                                                          : "rule";
    v->named_at = fx_ro_trail(p, c, res, v->named, v->facts);
    if (v->known && resp->nelts) {
        const char *json = "[";
        for (i = 0; i < resp->nelts && i < FX_RO_MAX_RESP; i++) {
            int k = APR_ARRAY_IDX(resp, i, int);
            const fx_ro_node *leaf = APR_ARRAY_IDX(c->leaves, k,
                                                   const fx_ro_node *);
            json = apr_pstrcat(p, json, i ? "," : "",
                               fx_ro_item(p, leaf, res[k] - 1), NULL);
        }
        fx_entry_set_raw(v->facts, "responsible", apr_pstrcat(p, json, "]",
                                                              NULL));
        if (resp->nelts > FX_RO_MAX_RESP) {
            fx_entry_set_raw(v->facts, "responsible_count",
                             apr_itoa(p, resp->nelts));
        }
    }
    if (v->named) {
        v->rule_json = fx_ro_rule_json(p, v->named,
                                       fx_az_result_name(result));
        if (!v->named->op) {
            if (fx_ro_known_provider(v->named->prov_name)) {
                fx_authz_rule_saw(r, p, v->named->d, v->named->negate,
                                  res[v->named->index] - 1, v->facts);
            }
            else {
                fx_entry_set(v->facts, "rule_saw", apr_pstrcat(p, "provider ",
                             v->named->prov_name, NULL));
            }
        }
    }
    return v;
}

/* -------------------------------------------------------------------- */
/* request time                                                          */

/* The requests a candidate is evaluated for: main requests that ran
 * httpd's authorization (not an ErrorDocument, nor a redirect that kept
 * the configuration: httpd skips authorization for those too), where the
 * module is on and the method is one the container covers. */
static int fx_ro_applies(const request_rec *r, const fx_dir_conf *dc)
{
    return !r->main && dc->enabled != 0
        && !(r->prev && (r->prev->per_dir_config == r->per_dir_config
                         || ap_is_HTTP_ERROR(r->prev->status)))
        && (dc->reportonly->limited & (AP_METHOD_BIT << r->method_number));
}

static fx_ro_verdict *fx_ro_verdict_of(const request_rec *r)
{
    fx_req_state *st = fx_state_get(r);
    return st ? st->subsys[FX_SLOT_REPORTONLY] : NULL;
}

/* One evaluation; the verdict is kept when it would deny or keep is set
 * (a request httpd denies: its entry says so either way). */
static fx_ro_verdict *fx_ro_evaluate_now(request_rec *r,
                                         const struct fx_ro_conf *c,
                                         const char *phase, int keep)
{
    unsigned char stack[FX_RO_STACK_LEAVES], *res = stack;
    int n = c->leaves->nelts, result;

    if (n > FX_RO_STACK_LEAVES) {
        res = apr_palloc(r->pool, n);
    }
    memset(res, 0, n);
    result = fx_ro_eval(r, c, res);
    if (result == AUTHZ_GRANTED && !keep) {
        return NULL;                /* the common case: nothing allocated */
    }
    return fx_ro_judge(r, c, result, res, phase);
}

void fx_reportonly_authorized(request_rec *r)
{
    const fx_dir_conf *dc = fx_dir_get(r);
    fx_ro_verdict *v;

    if (!fx_ro_applies(r, dc) || fx_ro_verdict_of(r)) {
        return;
    }
    v = fx_ro_evaluate_now(r, dc->reportonly, "type_checker", 0);
    if (v) {
        fx_state_ensure(r)->subsys[FX_SLOT_REPORTONLY] = v;
    }
}

static int fx_ro_is_auth_phase(const char *phase)
{
    return !strcmp(phase, "access_checker")
        || !strcmp(phase, "access_checker_ex")
        || !strcmp(phase, "check_user_id") || !strcmp(phase, "auth_checker");
}

static int fx_ro_after_auth(const char *phase)
{
    return !strcmp(phase, "type_checker") || !strcmp(phase, "fixups")
        || !strcmp(phase, "handler");
}

void fx_reportonly_denied(request_rec *r, const char *phase)
{
    const fx_dir_conf *dc = fx_dir_get(r);
    fx_ro_verdict *v;

    if (!dc || !dc->reportonly || !phase || !fx_ro_applies(r, dc)
        || fx_ro_verdict_of(r)) {
        return;
    }
    if (fx_ro_is_auth_phase(phase)) {
        v = fx_ro_evaluate_now(r, dc->reportonly, phase, 1);
    }
    else if (fx_ro_after_auth(phase)) {
        /* Before type_checker the candidate granted (no verdict was
         * kept); evaluated again only to name the rule that grants, which
         * is named only when it still grants. */
        v = fx_ro_evaluate_now(r, dc->reportonly, "type_checker", 1);
        if (v->would_deny) {
            v->would_deny = 0;
            v->result = AUTHZ_GRANTED;
            v->named = NULL;
            v->rule_json = NULL;
            v->decided_by = "unknown";
            v->facts = fx_entry_make(r->pool);
            v->named_at = -1;
        }
    }
    else {
        return;                     /* denied before authorization */
    }
    fx_state_ensure(r)->subsys[FX_SLOT_REPORTONLY] = v;
}

/* The facts of a verdict under report_only_* keys (a 403 entry, or the
 * what-if simulator's). */
static void fx_ro_add_keys(request_rec *r, const fx_ro_verdict *v,
                           fx_entry *e)
{
    fx_entry_set_raw(e, "report_only_would_deny",
                     v->would_deny ? "true" : "false");
    fx_entry_set(e, "report_only_result", fx_az_result_name(v->result));
    if (v->rule_json) {
        fx_entry_set_raw(e, "report_only_rule", v->rule_json);
    }
    fx_entry_set(e, "report_only_container",
                 apr_psprintf(r->pool, "%s> (%s:%d)", FX_RO_NAME,
                              v->conf->d->filename, v->conf->d->line_num));
    /* no second trail: the regular entry's own must keep its room */
}

void fx_reportonly_explain(request_rec *r, request_rec *failed, fx_entry *e)
{
    const fx_ro_verdict *v = failed ? fx_ro_verdict_of(failed) : NULL;
    request_rec *rr;
    for (rr = r; !v && rr; rr = rr->next) {
        v = fx_ro_verdict_of(rr);
    }
    if (v) {
        fx_ro_add_keys(r, v, e);
    }
}

static void fx_ro_copy_fact(void *baton, const char *key, const char *value,
                            int is_raw)
{
    fx_entry *e = baton;
    if (is_raw) {
        fx_entry_set_raw(e, key, value);
    }
    else {
        fx_entry_set(e, key, value);
    }
}

static const char *fx_ro_detail(apr_pool_t *p, const fx_ro_verdict *v,
                                int status)
{
    const char *what;
    const char *where = apr_psprintf(p, "%s> (%s:%d)", FX_RO_NAME,
                                     v->conf->d->filename,
                                     v->conf->d->line_num);
    if (v->result == AUTHZ_DENIED_NO_USER) {
        what = "would ask for authentication (401): its rules need an "
               "authenticated user and the request had none";
    }
    else if (v->result == AUTHZ_GENERAL_ERROR) {
        what = "would fail (500): a provider answered an error";
    }
    else if (!v->named) {
        what = "would deny this request; the replay of its calls does not "
               "reproduce that, so no rule is named";
    }
    else if (v->named->op) {
        what = apr_pstrcat(p, "would deny this request: none of the rules of ",
                           fx_ro_text(p, v->named), " (",
                           v->named->d->filename, ":",
                           apr_itoa(p, v->named->d->line_num),
                           ") granted", NULL);
    }
    else {
        what = apr_pstrcat(p, "would deny this request: `",
                           fx_ro_text(p, v->named), "` decided",
                           v->named->negate ? " (it matched, and the rule "
                           "is negated)" : "", NULL);
    }
    return apr_psprintf(p, "Report-only: the candidate rules of %s %s. They "
                        "are not enforced: httpd answered %d.", where, what,
                        status);
}

fx_entry *fx_reportonly_entry(request_rec *r)
{
    request_rec *rr, *at = NULL, *last = r;
    fx_ro_verdict *v = NULL;
    fx_req_state *st;
    fx_entry *e;
    apr_pool_t *p = r->pool;

    for (rr = r; rr; rr = rr->next) {
        fx_ro_verdict *x = fx_ro_verdict_of(rr);
        if (!v && x && x->would_deny && !x->logged) {
            v = x;
            at = rr;
        }
        last = rr;
    }
    if (!v) {
        return NULL;                /* the allowed path ends here */
    }
    v->logged = 1;
    st = fx_state_ensure(r);
    e = fx_entry_make(p);
    fx_entry_set_int(e, "status", last->status);
    fx_entry_set_raw(e, "report_only", "true");
    fx_entry_set(e, "reason", "authz");
    fx_entry_set(e, "module", "mod_forbidden_explain.c");
    fx_entry_set(e, "phase", "report_only");
    if (v->named) {
        fx_entry_set(e, "directive", fx_ro_text(p, v->named));
        fx_entry_set(e, "file", v->named->d->filename);
        fx_entry_set_int(e, "line", v->named->d->line_num);
        fx_entry_set(e, "section", fx_section_chain(p, v->named->d));
    }
    if (at->filename) {
        fx_entry_set(e, "path", at->filename);
    }
    fx_explain_request_facts(r, at, e);
    fx_entry_set(e, "request_id", fx_request_id(r, st));
    fx_entry_set(e, "detail", fx_ro_detail(p, v, last->status));
    fx_entry_set(e, "hint", "Nothing was denied. Before enforcing these "
                 "rules (moving them out of <ForbiddenExplainReportOnly>), "
                 "decide whether this client should keep access; if so, "
                 "change the candidate so that it grants it.");
    fx_entry_set_raw(e, "hint_verified", "false");
    fx_entry_set(e, "hint_unverified", "a report-only entry: nothing was "
                 "denied, so there is nothing to verify");
    fx_entry_set(e, "decided_by", v->decided_by);
    fx_entry_set(e, "report_only_result", fx_az_result_name(v->result));
    fx_entry_set(e, "report_only_container",
                 apr_psprintf(p, "%s> (%s:%d)", FX_RO_NAME,
                              v->conf->d->filename, v->conf->d->line_num));
    fx_entry_visit(v->facts, fx_ro_copy_fact, e);
    if (v->named_at >= 0) {
        /* the size policy keeps the deciding call longest */
        fx_entry_mark_deciding(e, "trail", v->named_at);
    }
    return e;
}

int fx_reportonly_evaluate(request_rec *r, fx_entry *e)
{
    const fx_dir_conf *dc = fx_dir_get(r);
    fx_ro_verdict *v;

    if (!dc || !dc->reportonly || dc->enabled == 0
        || !(dc->reportonly->limited & (AP_METHOD_BIT << r->method_number))) {
        return -1;
    }
    v = fx_ro_evaluate_now(r, dc->reportonly, "what-if", e != NULL);
    if (!v) {
        return 0;
    }
    if (e) {
        fx_ro_add_keys(r, v, e);
    }
    return v->would_deny;
}
