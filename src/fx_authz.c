/* fx_authz.c — explains authorization denials (Require, Order/Allow/Deny):
 * the rule that decided, its file:line and section, the evaluation trail and
 * the client attribute that failed.
 *
 * Require: every authz provider is wrapped (pre_config, REALLY_LAST: all
 * providers of loaded modules exist, no Require is parsed yet).  The wrapper's
 * parser returns a record {original parsed value, the Require directive
 * (file, line, args, parent sections), <Limit> mask}; its checker calls the
 * original and appends {record, result} to the request's trail.  authz_provider
 * carries no user pointer, so each wrapped provider owns a slot with its own
 * pair of functions (generated below).  Aliases (<AuthzProviderAlias>) exist
 * only once the configuration is processed: the shadow Require wraps them in
 * the parent before mod_authz_core looks them up, and post_config wraps what
 * is left so .htaccess lines are covered too.  Providers are never registered
 * at request time.
 *
 * Order/Allow/Deny: mod_access_compat's simple algorithm is re-done over the
 * shadow records of the one section in effect (it has no merger).
 *
 * Request time: only requests that evaluate a Require pay (one small array
 * in r->pool); everything else happens once the 403 is certain. */
#include <stddef.h>
#include <string.h>
#include "apr_strings.h"
#include "apr_lib.h"
#include "ap_provider.h"
#include "http_core.h"
#include "http_request.h"
#include "http_ssl.h"
#include "mod_auth.h"
#include "fx_private.h"
#include "fx_json.h"
#include "fx_authz_eval.h"
#include "fx_compat.h"
#include "fx_authz_env.h"
#include "fx_reportonly.h"
#include "fx_protect.h"

/* -------------------------------------------------------------------- */
/* provider wrapping                                                     */

#define FX_AZ_SLOTS 64
/* Provider calls kept per request (past it the replay cannot tell), calls
 * with a neutral effect kept (past it only counted), items shown. */
#define FX_AZ_MAX_STEPS 4096
#define FX_AZ_KEEP_NEUTRAL 16
#define FX_AZ_MAX_SHOWN 16
/* Responsible rules listed in "responsible", and named in the detail: an
 * entry must fit one error-log line next to its trail. */
#define FX_AZ_MAX_RESP 8
#define FX_AZ_MAX_SAID 4

/* The parsed value the wrapper hands mod_authz_core. */
typedef struct {
    const void *magic;
    int slot;
    const void *orig_parsed;
    const ap_directive_t *d;          /* the Require line */
    const ap_directive_t *alias_def;  /* set when parsed for an alias */
    apr_int64_t limited;
    int negate;
    int in_htaccess;
} fx_az_rule;

/* One provider call seen for the request (element of st->authz_trail). */
typedef struct {
    const fx_az_rule *rule;
    const char *alias_name;           /* the alias being resolved, if any */
    int result;
    int depth;                        /* 1 = inside an alias' own call */
    int pass;                         /* 1 access_checker_ex, 2 auth_checker */
} fx_az_step;

/* Per request, in st->subsys[FX_SLOT_AUTHZ]; st->authz_trail points at
 * `trail`, whose first steps live inline (apr_array_push grows it from the
 * request pool past that). */
#define FX_AZ_INLINE_STEPS 4
typedef struct {
    int depth;
    int pass;
    int calls;              /* every provider call, kept or not */
    int neutral_dropped;    /* calls with a neutral effect only counted */
    int lost;               /* other calls past FX_AZ_MAX_STEPS */
    apr_array_header_t trail;
    fx_az_step steps[FX_AZ_INLINE_STEPS];
} fx_az_req;

/* One fact for the entry (element of st->sub_authz_trail: a failed
 * sub-request's explanation, copied into the main request's pool). */
typedef struct {
    const char *key;
    const char *value;
    int raw;
} fx_az_fact;

typedef struct {
    const authz_provider *orig;
    const char *name;
} fx_az_slot_t;

/* Filled in the parent while the configuration is read (pre_config, Require
 * in the main configuration, post_config); read-only in the children. */
static fx_az_slot_t fx_az_slots[FX_AZ_SLOTS];
static int fx_az_nslots;
static const char fx_az_magic = 'z';

static int fx_az_is_alias_block(const ap_directive_t *d)
{
    return d->directive && d->directive[0] == '<'
           && !strcasecmp(d->directive, "<AuthzProviderAlias");
}

/* A quoted first word: ap_getword_conf decides (rare; out of line, so the
 * common path keeps no address-taken local). */
static int __attribute__((noinline)) fx_az_quoted_is_not(apr_pool_t *p,
                                                         const char *args)
{
    return !strcasecmp(ap_getword_conf(p, &args), "not");
}

/* ap_getword_conf's white space (apr_isspace in the C locale), without the
 * locale look-up: .htaccess lines are parsed on every request. */
static APR_INLINE int fx_az_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* mod_authz_core's test: the first word (ap_getword_conf) is "not".  An
 * unquoted word ends at white space, and a backslash in it stays, so only
 * a quote needs the real function.  (c | 0x20) == 'n' holds for 'n' and
 * 'N' only. */
static int fx_az_first_is_not(apr_pool_t *p, const char *args)
{
    const char *a = args;
    while (fx_az_space(*a)) {
        a++;
    }
    if (*a == '"' || *a == '\'') {
        return fx_az_quoted_is_not(p, args);
    }
    return (a[0] | 0x20) == 'n' && (a[1] | 0x20) == 'o'
           && (a[2] | 0x20) == 't' && (!a[3] || fx_az_space(a[3]));
}

static const char *fx_az_parse(int slot, cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    const authz_provider *orig = fx_az_slots[slot].orig;
    fx_az_rule *rule = apr_pcalloc(cmd->pool, sizeof(*rule));
    const ap_directive_t *d = cmd->directive;
    const char *err = NULL;

    rule->magic = &fx_az_magic;
    rule->slot = slot;
    rule->d = d;
    rule->limited = cmd->limited;
    rule->in_htaccess = (cmd->pool == cmd->temp_pool);
    if (orig->parse_require_line) {
        err = orig->parse_require_line(cmd, line, &rule->orig_parsed);
    }
    /* mod_authz_core parses an alias' arguments with cmd->directive left at
     * the last child of the <AuthzProviderAlias> block, or the block.
     * (.htaccess lines are parsed on every request: cheap tests first.) */
    if (d && fx_az_is_alias_block(d)) {
        rule->alias_def = d;
    }
    else if (d && d->parent && fx_az_is_alias_block(d->parent)) {
        rule->alias_def = d->parent;
    }
    else if (d && d->args) {
        rule->negate = fx_az_first_is_not(cmd->temp_pool, d->args);
    }
    *parsed = rule;
    return err;
}

/* The Require evaluation in progress on a connection, kept there until a
 * rule does not grant: a request whose rules all grant never gets a record
 * of its own, so the common allowed request allocates nothing for it (the
 * buffer is allocated once per connection).  A connection runs one
 * request's authorization at a time, on one thread (HTTP/2 streams have
 * connections of their own); fx_az_begin resets it when mod_authz_core
 * starts, and the request pointer tells sub-requests apart. */
typedef struct {
    const request_rec *r;
    int quiet;              /* fx_reportonly.c is evaluating: record nothing */
    fx_az_req az;
} fx_az_pending_t;

static APR_INLINE fx_az_pending_t *fx_az_pending_of(conn_rec *c, int create)
{
    fx_az_pending_t *pd = ap_get_module_config(c->conn_config,
                                               &forbidden_explain_module);
    if (!pd && create) {
        /* fx_az_current initialises it for each request */
        pd = apr_palloc(c->pool, sizeof(*pd));
        pd->r = NULL;
        pd->quiet = 0;
        /* Never changed while the trail is pending: fx_az_record moves a
         * full buffer into the request (fx_az_keep, which changes the
         * copy) before it would grow. */
        pd->az.trail.pool = NULL;
        pd->az.trail.elt_size = sizeof(fx_az_step);
        pd->az.trail.nalloc = FX_AZ_INLINE_STEPS;
        pd->az.trail.elts = (char *)pd->az.steps;
        ap_set_module_config(c->conn_config, &forbidden_explain_module, pd);
    }
    return pd;
}

/* Move the pending trail of r into its request state (a rule did not
 * grant, or the request ends in 403 although every rule granted). */
static fx_az_req *fx_az_keep(request_rec *r, fx_az_pending_t *pd)
{
    fx_req_state *st = fx_state_ensure(r);
    fx_az_req *az = apr_palloc(r->pool, sizeof(*az));

    *az = pd->az;
    az->trail.pool = r->pool;
    az->trail.elts = (char *)az->steps;
    st->subsys[FX_SLOT_AUTHZ] = az;
    st->authz_trail = &az->trail;
    pd->r = NULL;
    return az;
}

void fx_authz_keep_pending(request_rec *r)
{
    fx_az_pending_t *pd = fx_az_pending_of(r->connection, 0);
    if (pd && pd->r == r) {
        fx_az_keep(r, pd);
    }
}

static APR_INLINE fx_az_req *fx_az_current(request_rec *r,
                                           fx_az_pending_t *pd, int *pending)
{
    fx_req_state *st = fx_state_get(r);
    fx_az_req *az = st ? st->subsys[FX_SLOT_AUTHZ] : NULL;

    *pending = !az;
    if (az) {
        return az;
    }
    az = &pd->az;
    if (pd->r != r) {
        pd->r = r;
        az->depth = 0;
        az->pass = 1;
        az->calls = 0;
        az->neutral_dropped = 0;
        az->lost = 0;
        az->trail.nelts = 0;    /* the rest is set once (fx_az_pending_of) */
    }
    return az;
}

/* The effect of a provider's answer for rule: what mod_authz_core's
 * container sees after "Require not". */
static int fx_az_effect(const fx_az_rule *rule, int rv)
{
    if (rule->negate && !rule->alias_def) {
        return rv == AUTHZ_GRANTED ? AUTHZ_DENIED
             : (rv == AUTHZ_DENIED || rv == AUTHZ_DENIED_NO_USER)
               ? AUTHZ_NEUTRAL : rv;
    }
    return rv;
}

/* Records one provider call.  Memory is bounded, correctness is not
 * traded for it: a call whose effect is neutral is ignored by every
 * container (apply_authz_sections skips NEUTRAL children, and a container
 * of neutrals is neutral), so past FX_AZ_KEEP_NEUTRAL stored steps -- or
 * when the per-connection buffer is full, so an allowed request never
 * allocates for them -- such calls are only counted.  Every other call is
 * kept up to FX_AZ_MAX_STEPS; past that the replay says it cannot tell. */
/* The provider call of rule returned rv; the trail had n0 steps before it.
 * An alias' inner call (or a sub-request run by the provider) may have
 * moved the trail meanwhile. */
static authz_status fx_az_record(request_rec *r, fx_az_pending_t *pd,
                                 const fx_az_rule *rule,
                                 const char *alias_name, int n0,
                                 authz_status rv)
{
    fx_az_req *az;
    fx_az_step *step, *steps;
    int pending, effect, j;

    az = fx_az_current(r, pd, &pending);
    az->depth--;
    effect = fx_az_effect(rule, rv);
    if (effect == AUTHZ_NEUTRAL && az->trail.nelts == n0
        && (n0 >= FX_AZ_KEEP_NEUTRAL
            || (pending && n0 == az->trail.nalloc))) {
        az->neutral_dropped += (az->depth == 0);
        az->calls += (az->depth == 0);
        return rv;
    }
    if (az->trail.nelts >= FX_AZ_MAX_STEPS) {
        az->lost++;
        az->calls += (az->depth == 0);
        return rv;
    }
    /* Only a full buffer moves the trail into the request: a rule that
     * refuses inside a RequireAny of a request that is granted in the end
     * costs no allocation.  A hook that returns the error keeps it
     * (fx_authz_keep_pending, before anything else can run). */
    if (pending && az->trail.nelts == az->trail.nalloc) {
        az = fx_az_keep(r, pd);
        pending = 0;
    }
    if (az->trail.nelts < az->trail.nalloc) {
        az->trail.nelts++;          /* apr_array_push without the call */
    }
    else {
        (void)apr_array_push(&az->trail);
    }
    steps = (fx_az_step *)az->trail.elts;
    /* inner calls of an alias came back first: this call goes before */
    for (j = az->trail.nelts - 1; j > n0; j--) {
        steps[j] = steps[j - 1];
    }
    step = &steps[n0];
    step->rule = rule;
    step->alias_name = alias_name;
    step->result = rv;
    step->depth = az->depth;
    step->pass = az->pass;
    az->calls += (az->depth == 0);
    return rv;
}

static authz_status fx_az_check(int slot, request_rec *r, const char *line,
                                const void *parsed)
{
    const authz_provider *orig = fx_az_slots[slot].orig;
    const fx_az_rule *rule = parsed;
    fx_dir_conf *dc;
    fx_az_pending_t *pd;
    fx_az_req *az;
    int n0, pending;
    const char *alias_name;
    authz_status rv;

    if (!rule || rule->magic != &fx_az_magic
        || (dc = fx_dir_get(r)) == NULL || dc->enabled == 0) {
        return orig->check_authorization(r, line,
                                         rule && rule->magic == &fx_az_magic
                                         ? rule->orig_parsed : parsed);
    }
    pd = fx_az_pending_of(r->connection, 1);
    if (pd->quiet) {
        /* a report-only rule's alias: not part of httpd's evaluation */
        return orig->check_authorization(r, line, rule->orig_parsed);
    }
    az = fx_az_current(r, pd, &pending);
    n0 = az->trail.nelts;
    if (pending && !rule->alias_def && n0 < FX_AZ_INLINE_STEPS) {
        /* The common case: a plain rule, the trail still on the
         * connection with room.  When nothing moved it during the call,
         * the step goes straight into the buffer: what fx_az_record does
         * then (a neutral effect is kept: n0 < FX_AZ_KEEP_NEUTRAL). */
        az->depth++;
        rv = orig->check_authorization(r, line, rule->orig_parsed);
        /* pd->r == r: nothing moved the trail into r's state (fx_az_keep
         * clears pd->r, and fx_az_current sets it only while r's state
         * has no trail) nor made it another request's */
        if (pd->r == r && az->trail.nelts == n0) {
            fx_az_step *step = &az->steps[n0];
            az->depth--;
            step->rule = rule;
            step->alias_name = NULL;
            step->result = rv;
            step->depth = az->depth;
            step->pass = az->pass;
            az->trail.nelts = n0 + 1;
            az->calls += (az->depth == 0);
            return rv;
        }
        return fx_az_record(r, pd, rule, NULL, n0, rv);
    }
    alias_name = rule->alias_def
        ? apr_table_get(r->notes, AUTHZ_PROVIDER_NAME_NOTE) : NULL;
    az->depth++;
    rv = orig->check_authorization(r, line, rule->orig_parsed);
    return fx_az_record(r, pd, rule, alias_name, n0, rv);
}

/* fx_authz_begin (fx_private.h) clears the pending record's first field. */
_Static_assert(offsetof(fx_az_pending_t, r) == 0,
               "fx_authz_begin clears the record's first field");

#define FX_AZ_W(x, y)                                                        \
    static const char *fx_az_parse_##x##y(cmd_parms *cmd, const char *line,  \
                                          const void **parsed)               \
    { return fx_az_parse(0x##x##y, cmd, line, parsed); }                     \
    static authz_status fx_az_check_##x##y(request_rec *r, const char *line, \
                                           const void *parsed)               \
    { return fx_az_check(0x##x##y, r, line, parsed); }
#define FX_AZ_ROW(x) FX_AZ_W(x,0) FX_AZ_W(x,1) FX_AZ_W(x,2) FX_AZ_W(x,3)     \
    FX_AZ_W(x,4) FX_AZ_W(x,5) FX_AZ_W(x,6) FX_AZ_W(x,7) FX_AZ_W(x,8)         \
    FX_AZ_W(x,9) FX_AZ_W(x,A) FX_AZ_W(x,B) FX_AZ_W(x,C) FX_AZ_W(x,D)         \
    FX_AZ_W(x,E) FX_AZ_W(x,F)
FX_AZ_ROW(0) FX_AZ_ROW(1) FX_AZ_ROW(2) FX_AZ_ROW(3)

#define FX_AZ_P(x, y) { fx_az_check_##x##y, fx_az_parse_##x##y },
#define FX_AZ_PROW(x) FX_AZ_P(x,0) FX_AZ_P(x,1) FX_AZ_P(x,2) FX_AZ_P(x,3)    \
    FX_AZ_P(x,4) FX_AZ_P(x,5) FX_AZ_P(x,6) FX_AZ_P(x,7) FX_AZ_P(x,8)         \
    FX_AZ_P(x,9) FX_AZ_P(x,A) FX_AZ_P(x,B) FX_AZ_P(x,C) FX_AZ_P(x,D)         \
    FX_AZ_P(x,E) FX_AZ_P(x,F)
static const authz_provider fx_az_wrappers[FX_AZ_SLOTS] = {
    FX_AZ_PROW(0) FX_AZ_PROW(1) FX_AZ_PROW(2) FX_AZ_PROW(3)
};

static int fx_az_is_wrapper(const void *p)
{
    return (const char *)p >= (const char *)&fx_az_wrappers[0]
        && (const char *)p < (const char *)&fx_az_wrappers[FX_AZ_SLOTS];
}

/* Parent process only, while the configuration is read. */
static void fx_az_wrap(apr_pool_t *p, const char *name)
{
    const authz_provider *prov;
    int slot;

    prov = ap_lookup_provider(AUTHZ_PROVIDER_GROUP, name,
                              AUTHZ_PROVIDER_VERSION);
    /* A provider without a checker is refused by mod_authz_core; wrapping
     * it would make it acceptable, so it stays as it is. */
    if (!prov || fx_az_is_wrapper(prov) || !prov->check_authorization
        || fx_az_nslots >= FX_AZ_SLOTS) {
        return;
    }
    slot = fx_az_nslots++;
    fx_az_slots[slot].orig = prov;
    fx_az_slots[slot].name = apr_pstrdup(p, name);
    /* Same name, so ap_setup_auth_internal's provider count is unchanged. */
    ap_register_provider(p, AUTHZ_PROVIDER_GROUP, fx_az_slots[slot].name,
                         AUTHZ_PROVIDER_VERSION, &fx_az_wrappers[slot]);
}

static void fx_az_wrap_all(apr_pool_t *pconf)
{
    apr_array_header_t *names;
    int i;

    names = ap_list_provider_names(pconf, AUTHZ_PROVIDER_GROUP,
                                   AUTHZ_PROVIDER_VERSION);
    for (i = 0; names && i < names->nelts; i++) {
        fx_az_wrap(pconf, APR_ARRAY_IDX(names, i,
                                        ap_list_provider_names_t).provider_name);
    }
}

static int fx_az_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    /* The DSO is reloaded every generation, but a static build is not. */
    fx_az_nslots = 0;
    memset(fx_az_slots, 0, sizeof(fx_az_slots));
    fx_az_wrap_all(pconf);
    return OK;
}

static int fx_az_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    (void)s;
    /* Providers defined by the configuration (aliases, LuaAuthzProvider)
     * and not yet wrapped: .htaccess files look them up at request time. */
    fx_az_wrap_all(pconf);
    fx_azenv_collect(pconf);
    return OK;
}

/* auth_checker runs mod_authz_core's second evaluation (after
 * authentication): later trail entries belong to it (fx_trampoline.c's
 * auth_checker runner, before the phase's first hook). */
void fx_authz_second_pass(request_rec *r)
{
    fx_req_state *st = fx_state_get(r);
    fx_az_req *az = st ? st->subsys[FX_SLOT_AUTHZ] : NULL;
    fx_az_pending_t *pd;
    if (az) {
        az->pass = 2;
    }
    else if ((pd = fx_az_pending_of(r->connection, 0)) && pd->r == r) {
        pd->az.pass = 2;            /* the first pass is still pending */
    }
}

/* -------------------------------------------------------------------- */
/* explanation helpers                                                   */

/* Not a key of the entry: which trail item decided (fx_entry_mark_deciding). */
#define FX_AZ_TRAIL_DECIDING "(trail deciding)"

static void fx_fact(apr_array_header_t *out, const char *key,
                    const char *value, int raw)
{
    fx_az_fact *f = apr_array_push(out);
    f->key = key;
    f->value = value;
    f->raw = raw;
}

static int fx_is_dirname(const ap_directive_t *d, const char *name)
{
    return d && d->directive && !strcasecmp(d->directive, name);
}

static int fx_az_container_kind(const ap_directive_t *d, int *op, int *neg)
{
    if (fx_is_dirname(d, "<RequireAll")) {
        *op = FX_AZ_AND; *neg = 0; return 1;
    }
    if (fx_is_dirname(d, "<RequireAny")) {
        *op = FX_AZ_OR; *neg = 0; return 1;
    }
    if (fx_is_dirname(d, "<RequireNone")) {
        *op = FX_AZ_OR; *neg = 1; return 1;
    }
    if (fx_is_dirname(d, "<RequireNotAll")) {
        *op = FX_AZ_AND; *neg = 1; return 1;
    }
    return 0;
}

/* Containers that are not configuration sections of their own. */
static int fx_not_a_section(const ap_directive_t *d)
{
    int op, neg;
    /* <Directory>, <Location>, <VirtualHost>...: decided by one letter */
    if (!d || !d->directive || d->directive[0] != '<'
        || !strchr("rRlLiI", d->directive[1])) {
        return 0;
    }
    return fx_az_container_kind(d, &op, &neg)
        || fx_is_dirname(d, "<Limit") || fx_is_dirname(d, "<LimitExcept")
        || fx_is_dirname(d, "<IfModule") || fx_is_dirname(d, "<IfDefine")
        || fx_is_dirname(d, "<IfVersion") || fx_is_dirname(d, "<IfFile")
        || fx_is_dirname(d, "<IfDirective") || fx_is_dirname(d, "<IfSection");
}

/* The configuration section a directive belongs to (NULL: server level or
 * the top of an .htaccess file). */
static const ap_directive_t *fx_level_of(const ap_directive_t *d)
{
    const ap_directive_t *s;
    for (s = d ? d->parent : NULL; s; s = s->parent) {
        if (!fx_not_a_section(s)) {
            return s;
        }
    }
    return NULL;
}

static int fx_same_level(const ap_directive_t *a, int a_ht,
                         const ap_directive_t *b, int b_ht)
{
    const ap_directive_t *la = fx_level_of(a), *lb = fx_level_of(b);
    if (la || lb) {
        return la == lb;
    }
    if (a_ht != b_ht) {
        return 0;
    }
    if (!a_ht) {
        return 1;
    }
    return a && b && a->filename && b->filename
        && strcmp(a->filename, b->filename) == 0;
}

static const char *fx_dtext(apr_pool_t *p, const ap_directive_t *d)
{
    if (!d) {
        return NULL;
    }
    /* A container without arguments keeps only its closing '>'. */
    if (d->directive[0] == '<' && d->args && !strcmp(d->args, ">")) {
        return apr_pstrcat(p, d->directive, ">", NULL);
    }
    return apr_pstrcat(p, d->directive, d->args && *d->args ? " " : "",
                       d->args ? d->args : "", NULL);
}

static const char *fx_section_of(apr_pool_t *p, const ap_directive_t *d,
                                 int in_htaccess)
{
    const char *chain = fx_section_chain(p, d);
    if (!chain && in_htaccess && d && d->filename) {
        return apr_pstrcat(p, ".htaccess (", d->filename, ")", NULL);
    }
    return chain;
}

/* Provider name and arguments of a Require line's args. */
static const char *fx_provider_of(apr_pool_t *p, const char *args,
                                  const char **rest)
{
    const char *a = args ? args : "";
    char *name = ap_getword_conf(p, &a);
    if (!strcasecmp(name, "not")) {
        name = ap_getword_conf(p, &a);
    }
    *rest = a;
    return name;
}

/* What one decided rule looked at, and the hint for it. */
typedef struct {
    const fx_az_rule *rule;
    const ap_directive_t *d;          /* the Require line to name */
    const ap_directive_t *alias_def;
    const char *alias_name;
    int result;
    int pass;
    const char *text;                 /* the Require line as written */
} fx_az_view;

static const char *fx_az_env_facts(request_rec *r, apr_pool_t *p,
                                   const char *args)
{
    const char *a = args, *out = NULL;
    while (*a) {
        char *name = ap_getword_conf(p, &a);
        const char *v;
        if (!*name) {
            break;
        }
        v = apr_table_get(r->subprocess_env, name);
        out = apr_pstrcat(p, out ? out : "", out ? ", " : "", name,
                          v ? "=" : " unset", v ? v : "", NULL);
    }
    return out;
}

static const char *fx_az_first_word(apr_pool_t *p, const char *s)
{
    const char *a = s ? s : "";
    return ap_getword_conf(p, &a);
}

/* Where the variables of an env rule came from (SetEnvIf lines re-tested
 * against this request): "env_source" (JSON array) and "env_origin", which
 * is also returned (NULL: nothing proven). */
static const char *fx_az_env_origin(request_rec *r, apr_pool_t *p, const char *args,
                             const ap_directive_t *const *eff, int n,
                             apr_array_header_t *out)
{
    const char *a = args, *json = NULL, *words = NULL;
    while (*a) {
        char *name = ap_getword_conf(p, &a);
        const char *j, *w;
        if (!*name) {
            break;
        }
        w = fx_azenv_source(r, p, name, eff, n, &j);
        if (w && j) {
            json = apr_pstrcat(p, json ? json : "[", json ? "," : "", j, NULL);
            words = apr_pstrcat(p, words ? words : "", words ? "; " : "", w,
                                NULL);
        }
    }
    if (json) {
        fx_fact(out, "env_source", apr_pstrcat(p, json, "]", NULL), 1);
        fx_fact(out, "env_origin", words, 0);
    }
    return words;
}

/* The request headers an expression reads (%{HTTP:Name}, %{HTTP_NAME},
 * req('Name') / http('Name')), with the values this request sent:
 * "Name: value; Other: (absent)", or NULL when it reads none. */
static const char *fx_az_expr_headers(request_rec *r, apr_pool_t *p,
                                      const char *expr)
{
    const char *c = expr, *out = NULL;
    while (c && *c) {
        const char *start = NULL, *end = NULL;
        char *name;
        if (!strncasecmp(c, "%{HTTP:", 7)) {
            start = c + 7;
            end = strchr(start, '}');
        }
        else if (!strncasecmp(c, "%{HTTP_", 7)) {
            start = c + 7;
            end = strchr(start, '}');
        }
        else if ((!strncasecmp(c, "req(", 4) || !strncasecmp(c, "http(", 5))
                 && (c == expr || !apr_isalnum(c[-1]))) {
            start = strchr(c, '(') + 1;
            while (*start == ' ' || *start == '\'' || *start == '"') {
                start++;
            }
            end = start + strcspn(start, "'\") ");
        }
        if (!start || !end || end == start) {
            c++;
            continue;
        }
        name = apr_pstrmemdup(p, start, end - start);
        if (!strncasecmp(c, "%{HTTP_", 7)) {
            char *q;
            for (q = name; *q; q++) {
                *q = (*q == '_') ? '-' : *q;   /* HTTP_USER_AGENT */
            }
        }
        if (!out || !strstr(out, name)) {
            const char *v = apr_table_get(r->headers_in, name);
            out = apr_pstrcat(p, out ? out : "", out ? "; " : "", name, ": ",
                              v ? v : "(absent)", NULL);
        }
        c = end;
    }
    return out;
}

static void fx_az_attribute(request_rec *r, apr_pool_t *p,
                            const fx_az_view *v, apr_array_header_t *out,
                            const char **hint,
                            const ap_directive_t *const *eff, int n_eff)
{
    const char *rest, *prov, *text, *ip = r->useragent_ip;
    const char *peer = r->connection->client_ip;
    int neg = v->rule->negate && !v->alias_def;

    prov = fx_provider_of(p, v->d ? v->d->args : v->alias_name, &rest);
    if (v->alias_def) {
        /* The alias' real provider and arguments decide what was seen. */
        const char *a = v->alias_def->args ? v->alias_def->args : "";
        char *real = ap_getword_conf(p, &a);
        (void)ap_getword_conf(p, &a);
        prov = real;
        rest = ap_getword_conf(p, &a);
        if (*rest && rest[strlen(rest) - 1] == '>') {
            rest = apr_pstrndup(p, rest, strlen(rest) - 1);
        }
    }
    text = v->text;

    if (!strcasecmp(prov, "ip") || !strcasecmp(prov, "host")
        || !strcasecmp(prov, "local") || !strcasecmp(prov, "forward-dns")) {
        int is_ip = 1;
        const char *host = NULL;
        fx_fact(out, "rule_saw", apr_pstrcat(p, "client_ip ", ip,
                (peer && strcmp(peer, ip)) ? " (r->useragent_ip, set by "
                "mod_remoteip; the connection's peer is " : "",
                (peer && strcmp(peer, ip)) ? peer : "",
                (peer && strcmp(peer, ip)) ? ")" : "", NULL), 0);
        if (!strcasecmp(prov, "host")) {
            host = ap_get_useragent_host(r, REMOTE_DOUBLE_REV, &is_ip);
            fx_fact(out, "remote_host", (host && !is_ip) ? host
                    : "(no double-reverse verified host name)", 0);
        }
        if (neg) {
            *hint = apr_psprintf(p, "the client address %s matches the "
                                 "excluded %s '%s' of `%s`; remove it from "
                                 "that rule if this client should get in",
                                 ip, prov, rest, text);
        }
        else if (!strcasecmp(prov, "local")) {
            *hint = apr_psprintf(p, "the client address %s is not a local "
                                 "address; add `Require ip %s` to this "
                                 "section (this address only)", ip, ip);
        }
        else if (!strcasecmp(prov, "forward-dns")) {
            /* mod_authz_host resolves the names and compares addresses */
            *hint = apr_psprintf(p, "the client address %s is not among the "
                                 "addresses %s resolves to; add `Require ip "
                                 "%s` to this section (this address only)",
                                 ip, rest, ip);
        }
        else if (!strcasecmp(prov, "host")) {
            *hint = apr_psprintf(p, "the client %s (host name %s) is not in "
                                 "%s; add `Require ip %s` to this section (this "
                                 "address only)", ip,
                                 (host && !is_ip) ? host : "unknown", rest, ip);
        }
        else {
            *hint = apr_pstrcat(p, "the client address ", ip, " is not in ",
                                rest, "; add `Require ip ", ip, "` to this "
                                "section (this address only)", NULL);
        }
    }
    else if (!strcasecmp(prov, "env")) {
        const char *env = fx_az_env_facts(r, p, rest);
        fx_fact(out, "rule_saw", "env", 0);
        fx_fact(out, "env", env, 0);
        {
            const char *origin = fx_az_env_origin(r, p, rest, eff, n_eff, out);
            /* A "Require not env" fed by SetEnvIf/BrowserMatch lines is a
             * blocker list (bad bots, spam referrers): it works as
             * intended; the narrow way in is an exemption for this one
             * client, not the removal of the rule. */
            *hint = neg && origin
                ? apr_psprintf(p, "`%s` denies because %s. The block works "
                               "as intended; if this client should get in, "
                               "exempt it alone (a later `SetEnvIf` line "
                               "matching exactly its value with `!%s`), do "
                               "not remove the rule", text, origin,
                               fx_az_first_word(p, rest))
                : neg
                ? apr_psprintf(p, "`%s` denies because %s; unset it "
                               "(SetEnvIf ... !name) for this client only",
                               text, env)
                : apr_psprintf(p, "`%s` needs one of these variables set, "
                               "but %s; set it with SetEnvIf/SetEnv for this "
                               "client or add another Require", text, env);
        }
    }
    else if (!strcasecmp(prov, "method")) {
        fx_fact(out, "rule_saw", "method", 0);
        *hint = neg
            ? apr_psprintf(p, "the method %s is excluded by `%s`", r->method,
                           text)
            : apr_psprintf(p, "the method %s is not among %s; add it to the "
                           "rule if it should be allowed", r->method, rest);
    }
    else if (!strcasecmp(prov, "expr")) {
        const char *hdrs = fx_az_expr_headers(r, p, rest);
        fx_fact(out, "rule_saw", "expr", 0);
        fx_fact(out, "expr", rest, 0);
        if (hdrs) {
            fx_fact(out, "expr_headers", hdrs, 0);
        }
        *hint = apr_psprintf(p, "the expression %s was %s for this request; "
                             "adjust it or add another Require", rest,
                             neg ? "true (negated rule)" : "false");
    }
    else if (!strcasecmp(prov, "ssl") || !strcasecmp(prov, "ssl-verify-client")) {
        const char *verify = ap_ssl_var_lookup(p, r->server, r->connection, r,
                                               "SSL_CLIENT_VERIFY");
        fx_fact(out, "rule_saw", "SSL_CLIENT_VERIFY", 0);
        fx_fact(out, "ssl_client_verify", verify && *verify ? verify
                : "(not an SSL connection)", 0);
        /* Without TLS no certificate can be presented at all. */
        *hint = neg
            ? apr_psprintf(p, "`%s` refuses what this request has (%s); "
                           "remove that rule if such clients should get in",
                           text, !strcasecmp(prov, "ssl")
                                 ? "it arrived over TLS"
                                 : "a verified client certificate")
            : !strcasecmp(prov, "ssl") || !verify || !*verify
            ? "the request did not arrive over TLS; use https:// for this URL"
            : apr_psprintf(p, "the client certificate was not verified "
                           "(SSL_CLIENT_VERIFY %s); present a certificate "
                           "the server trusts", verify);
    }
    else if (!strcasecmp(prov, "all")) {
        fx_fact(out, "rule_saw", "nothing (the rule applies to every client)",
                0);
        *hint = apr_pstrcat(p, "`", text, "` denies every client here; "
                            "replace it with a Require that grants the "
                            "clients who should get in", NULL);
    }
    else {
        /* user, valid-user, group, file-owner, file-group, dbm-group,
         * dbd-group, ldap-*, third-party providers: about the user. */
        fx_fact(out, "rule_saw", "user", 0);
        *hint = r->user
            ? apr_psprintf(p, "the authenticated user %s does not satisfy "
                           "`%s`; grant that user or change the rule",
                           r->user, text)
            : apr_psprintf(p, "`%s` needs an authenticated user, and there "
                           "was none; configure authentication (AuthType) "
                           "for this section", text);
    }
}

/* The Require line that used an alias, when the alias provider itself
 * could not be wrapped: the only Require line in effect naming it. */
static const ap_directive_t *fx_az_alias_user(request_rec *r, apr_pool_t *p,
                                              const char *alias)
{
    apr_array_header_t *recs;
    const ap_directive_t *found = NULL;
    int i;

    if (!alias) {
        return NULL;
    }
    recs = fx_records_find(p, r, "Require");
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
        const char *rest, *prov = fx_provider_of(p, rec->args, &rest);
        if (!strcasecmp(prov, alias)) {
            if (found) {
                return NULL;
            }
            found = rec->where;
        }
    }
    return found;
}

static fx_az_view fx_az_view_of(request_rec *r, apr_pool_t *p,
                                const apr_array_header_t *trail, int i)
{
    const fx_az_step *s = &APR_ARRAY_IDX(trail, i, fx_az_step);
    fx_az_view v;

    memset(&v, 0, sizeof(v));
    v.rule = s->rule;
    v.result = s->result;
    v.pass = s->pass;
    if (s->rule->alias_def) {
        /* An unwrapped alias: its real provider's call is all we saw. */
        v.alias_def = s->rule->alias_def;
        v.alias_name = s->alias_name;
        v.d = fx_az_alias_user(r, p, s->alias_name);
    }
    else {
        v.d = s->rule->d;
        if (i + 1 < trail->nelts) {
            const fx_az_step *n = &APR_ARRAY_IDX(trail, i + 1, fx_az_step);
            if (n->depth > s->depth && n->rule->alias_def) {
                v.alias_def = n->rule->alias_def;
                v.alias_name = n->alias_name;
            }
        }
    }
    v.text = v.d ? fx_dtext(p, v.d)
                 : apr_pstrcat(p, "Require ", v.alias_name ? v.alias_name
                                                           : "?", NULL);
    return v;
}

static const char *fx_jstr(apr_pool_t *p, const char *s)
{
    return fx_json_quote(p, s ? s : "", 256, NULL);
}

/* One trail item (a top-level step i) as JSON. */
static const char *fx_az_item_json(request_rec *r, apr_pool_t *p,
                                   const apr_array_header_t *trail, int i,
                                   int two_passes)
{
    const fx_az_step *s = &APR_ARRAY_IDX(trail, i, fx_az_step);
    fx_az_view v = fx_az_view_of(r, p, trail, i);
    int neg = s->rule->negate && !s->rule->alias_def;
    /* apr_pstrcat, not apr_psprintf: this runs for every 403 and the
     * formatter walks its format byte by byte. */
    const char *item = apr_pstrcat(p, "{\"directive\":",
                       fx_jstr(p, v.text),
                       ",\"file\":", fx_jstr(p, v.d ? v.d->filename : NULL),
                       ",\"line\":", apr_itoa(p, v.d ? v.d->line_num : 0),
                       ",\"negated\":", neg ? "true" : "false",
                       ",\"result\":\"", fx_az_result_name(s->result), "\"",
                       NULL);
    if (neg) {
        fx_az_node *leaf = fx_az_leaf(p, 0, s->result, 1);
        fx_az_evaluate(leaf);
        item = apr_pstrcat(p, item, ",\"effect\":",
                           fx_jstr(p, fx_az_result_name(leaf->result)), NULL);
    }
    if (v.alias_def) {
        item = apr_pstrcat(p, item, ",\"alias\":", fx_jstr(p,
                           apr_psprintf(p, "%s (%s:%d)",
                                        fx_dtext(p, v.alias_def),
                                        v.alias_def->filename,
                                        v.alias_def->line_num)), NULL);
    }
    if (two_passes) {
        item = apr_psprintf(p, "%s,\"pass\":%d", item, s->pass);
    }
    return apr_pstrcat(p, item, "}", NULL);
}

/* The first FX_AZ_MAX_SHOWN top-level steps, plus the named one (must_show,
 * -1 for none) if it comes later; *omitted counts the kept steps left out. */
static const char *fx_az_trail_json(request_rec *r, apr_pool_t *p,
                                    const apr_array_header_t *trail,
                                    int two_passes, int must_show,
                                    int *omitted, int *must_at)
{
    const char *json = "[";
    int i, shown = 0;

    *omitted = 0;
    *must_at = -1;
    for (i = 0; i < trail->nelts; i++) {
        const fx_az_step *s = &APR_ARRAY_IDX(trail, i, fx_az_step);
        if (s->depth > 0) {
            continue;   /* an alias' inner call: shown with its Require */
        }
        if (shown >= FX_AZ_MAX_SHOWN - (must_show > i) && i != must_show) {
            (*omitted)++;
            continue;
        }
        if (i == must_show) {
            *must_at = shown;
        }
        json = apr_pstrcat(p, json, shown ? "," : "",
                           fx_az_item_json(r, p, trail, i, two_passes), NULL);
        shown++;
    }
    return apr_pstrcat(p, json, "]", NULL);
}

/* The AuthMerging line of the level a rule sits in (NULL: none). */
static const fx_shadow_rec *fx_az_merging(request_rec *r, apr_pool_t *p,
                                          const ap_directive_t *d, int ht)
{
    apr_array_header_t *recs = fx_records_find(p, r, "AuthMerging");
    const fx_shadow_rec *found = NULL;
    int i;
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
        if (fx_same_level(rec->where, rec->in_htaccess, d, ht)) {
            found = rec;
        }
    }
    return found;
}

static int fx_az_merge_op(const fx_shadow_rec *rec)
{
    return !rec ? 0 : !strcasecmp(rec->args, "and") ? FX_AZ_AND
         : !strcasecmp(rec->args, "or") ? FX_AZ_OR : 0;
}

/* Tags of the containers the replay makes that are no Require container. */
enum { FX_AZ_TAG_LEVEL = 1, FX_AZ_TAG_MERGE = 2 };

/* One rule to place in the rebuilt tree: a provider call the wrappers saw,
 * or (for the hints) a Require line in effect answered statically. */
typedef struct {
    const ap_directive_t *d;
    int in_htaccess;
    int negate;
    int result;
    int index;                        /* the caller's index */
} fx_az_item;

typedef struct {
    const fx_az_item *first;          /* a rule of the level */
    fx_az_node *node;
} fx_az_level;

/* `Require all denied` refuses whoever asks: an active refusal although
 * the rule is not negated. */
static int fx_az_args_absolute(apr_pool_t *p, const char *args)
{
    const char *rest, *prov = fx_provider_of(p, args, &rest);
    const char *a = args ? args : "";
    char *first = ap_getword_conf(p, &a);
    while (*rest == ' ' || *rest == '\t') {
        rest++;
    }
    return strcasecmp(first, "not") && !strcasecmp(prov, "all")
        && !strcasecmp(rest, "denied");
}

/* Rebuild the tree mod_authz_core evaluates from the rules' places in the
 * configuration: containers from each rule's parents, one implicit "any"
 * per configuration level, levels joined by their AuthMerging.  A level
 * without AuthMerging replaces what came before when replace is set (the
 * static evaluation sees every line in effect); a trail holds only the
 * levels httpd evaluated, so there they are joined as merged. */
static fx_az_node *fx_az_rebuild_items(request_rec *r, apr_pool_t *p,
                                       const apr_array_header_t *items,
                                       int replace)
{
    apr_array_header_t *levels = apr_array_make(p, 2, sizeof(fx_az_level));
    fx_az_node *root = NULL;
    int i;

    for (i = 0; i < items->nelts; i++) {
        const fx_az_item *it = &APR_ARRAY_IDX(items, i, fx_az_item);
        /* the Require containers around the rule, however deep (a fixed
         * array here cut the tree at 16 and misplaced the rule) */
        apr_array_header_t *chain = apr_array_make(p, 8,
                                                   sizeof(const ap_directive_t *));
        const ap_directive_t *c;
        fx_az_level *lv = NULL;
        fx_az_node *node, *leaf;
        int j, n, op, neg;

        for (j = 0; j < levels->nelts; j++) {
            fx_az_level *l = &APR_ARRAY_IDX(levels, j, fx_az_level);
            if (fx_same_level(l->first->d, l->first->in_htaccess, it->d,
                              it->in_htaccess)) {
                lv = l;
            }
        }
        if (!lv) {
            lv = apr_array_push(levels);
            lv->first = it;
            lv->node = fx_az_container(p, FX_AZ_OR, 0, it);
            lv->node->tag = FX_AZ_TAG_LEVEL;
        }
        for (c = it->d ? it->d->parent : NULL; c; c = c->parent) {
            if (fx_az_container_kind(c, &op, &neg)) {
                APR_ARRAY_PUSH(chain, const ap_directive_t *) = c;
            }
            else if (!fx_not_a_section(c)) {
                break;
            }
        }
        node = lv->node;
        n = chain->nelts;
        while (n-- > 0) {
            const ap_directive_t *cn = APR_ARRAY_IDX(chain, n,
                                                     const ap_directive_t *);
            fx_az_node *child = fx_az_find_child(node, cn);
            if (!child) {
                fx_az_container_kind(cn, &op, &neg);
                child = fx_az_container(p, op, neg, cn);
                fx_az_append(node, child);
            }
            node = child;
        }
        leaf = fx_az_leaf(p, it->index, it->result, it->negate);
        leaf->absolute = it->d && !it->negate
                         && fx_az_args_absolute(p, it->d->args);
        fx_az_append(node, leaf);
    }
    for (i = 0; i < levels->nelts; i++) {
        fx_az_level *lv = &APR_ARRAY_IDX(levels, i, fx_az_level);
        const fx_shadow_rec *rec = root ? fx_az_merging(r, p, lv->first->d,
                                                        lv->first->in_htaccess)
                                        : NULL;
        int op = fx_az_merge_op(rec);
        if (!root || (replace && !op)) {
            root = lv->node;
        }
        else {
            fx_az_node *m = fx_az_container(p, op ? op : FX_AZ_AND, 0, rec);
            m->tag = FX_AZ_TAG_MERGE;
            fx_az_append(m, root);
            fx_az_append(m, lv->node);
            root = m;
        }
    }
    return root;
}

/* The tree of the deciding pass, from the steps kept. */
static fx_az_node *fx_az_rebuild(request_rec *r, apr_pool_t *p,
                                 const apr_array_header_t *trail,
                                 int last_pass)
{
    apr_array_header_t *items = apr_array_make(p, trail->nelts,
                                               sizeof(fx_az_item));
    int i;
    for (i = 0; i < trail->nelts; i++) {
        const fx_az_step *s = &APR_ARRAY_IDX(trail, i, fx_az_step);
        fx_az_item *it;
        if (s->depth > 0 || s->pass != last_pass) {
            continue;
        }
        it = apr_array_push(items);
        it->d = s->rule->d;
        it->in_htaccess = s->rule->in_htaccess;
        it->negate = s->rule->alias_def ? 0 : s->rule->negate;
        it->result = s->result;
        it->index = i;
    }
    return fx_az_rebuild_items(r, p, items, 0);
}

/* Every responsible rule as a JSON array (at most FX_AZ_MAX_RESP), and the
 * same in words for the detail. */
static const char *fx_az_resp_json(request_rec *r, apr_pool_t *p,
                                   const apr_array_header_t *trail,
                                   const apr_array_header_t *resp,
                                   int skip, const char **words)
{
    const char *json = "[";
    int i, shown = 0, said = 0;

    *words = NULL;
    for (i = 0; i < resp->nelts && shown < FX_AZ_MAX_RESP; i++) {
        int k = APR_ARRAY_IDX(resp, i, int);
        const fx_az_step *s = &APR_ARRAY_IDX(trail, k, fx_az_step);
        fx_az_view v = fx_az_view_of(r, p, trail, k);
        int eff = fx_az_effect(s->rule, s->result);
        json = apr_pstrcat(p, json, shown ? "," : "", "{\"directive\":",
                           fx_jstr(p, v.text), ",\"file\":",
                           fx_jstr(p, v.d ? v.d->filename : NULL),
                           ",\"line\":", apr_itoa(p, v.d ? v.d->line_num : 0),
                           ",\"effect\":\"", fx_az_result_name(eff), "\"}",
                           NULL);
        shown++;
        if (k != skip && said < FX_AZ_MAX_SAID) {
            *words = apr_psprintf(p, "%s%s`%s` (%s:%d, %s)",
                                  *words ? *words : "", *words ? ", " : "",
                                  v.text, v.d ? v.d->filename : "?",
                                  v.d ? v.d->line_num : 0,
                                  fx_az_result_name(eff));
            said++;
        }
    }
    if (resp->nelts - (skip >= 0) > said && *words) {
        *words = apr_psprintf(p, "%s and %d more", *words,
                              resp->nelts - (skip >= 0) - said);
    }
    return apr_pstrcat(p, json, "]", NULL);
}

/* Names a container or section that failed as a whole. */
static void fx_az_name_container(request_rec *r, apr_pool_t *p,
                                 const fx_az_node *b,
                                 apr_array_header_t *out)
{
    const ap_directive_t *d = NULL;

    if (b->tag == FX_AZ_TAG_MERGE) {
        const fx_shadow_rec *rec = b->key;
        if (rec) {
            fx_fact(out, "directive", apr_pstrcat(p, rec->name, " ",
                                                  rec->args, NULL), 0);
            fx_fact(out, "file", rec->file, 0);
            fx_fact(out, "line", apr_itoa(p, rec->line), 0);
            fx_fact(out, "section", fx_section_of(p, rec->where,
                                                  rec->in_htaccess), 0);
        }
        return;
    }
    if (b->tag == FX_AZ_TAG_LEVEL) {
        const fx_az_item *it = b->key;
        d = fx_level_of(it->d);
        if (!d) {
            /* the top of an .htaccess file, or the server level */
            if (it->in_htaccess && it->d) {
                fx_fact(out, "file", it->d->filename, 0);
                fx_fact(out, "section", fx_section_of(p, it->d, 1), 0);
            }
            return;
        }
    }
    else {
        d = b->key;
    }
    fx_fact(out, "directive", fx_dtext(p, d), 0);
    fx_fact(out, "file", d->filename, 0);
    fx_fact(out, "line", apr_itoa(p, d->line_num), 0);
    fx_fact(out, "section", fx_section_of(p, d, 0), 0);
}

/* -------------------------------------------------------------------- */
/* hints that can be followed as written (issue 13)                      */

/* Require lines in effect for r's method, outermost section first. */
static apr_array_header_t *fx_az_require_recs(request_rec *r, apr_pool_t *p)
{
    apr_array_header_t *all = fx_records_find(p, r, "Require");
    apr_array_header_t *out = apr_array_make(p, all->nelts + 1,
                                             sizeof(const fx_shadow_rec *));
    apr_int64_t bit = AP_METHOD_BIT << r->method_number;
    int i;
    for (i = 0; i < all->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(all, i, const fx_shadow_rec *);
        if (rec->where && (rec->limited & bit)) {
            APR_ARRAY_PUSH(out, const fx_shadow_rec *) = rec;
        }
    }
    return out;
}

/* What a Require line's provider answers r, for the providers whose answer
 * depends only on facts at hand (all, ip, local, env, method); -1 else. */
static int fx_az_static_answer(request_rec *r, apr_pool_t *p,
                               const char *args, int *negate)
{
    const char *a = args ? args : "";
    char *prov = ap_getword_conf(p, &a), *w;

    *negate = 0;
    if (!strcasecmp(prov, "not")) {
        *negate = 1;
        prov = ap_getword_conf(p, &a);
    }
    if (!strcasecmp(prov, "all")) {
        w = ap_getword_conf(p, &a);
        return !strcasecmp(w, "granted") ? FX_AZ_GRANTED
             : !strcasecmp(w, "denied") ? FX_AZ_DENIED : -1;
    }
    if (!strcasecmp(prov, "ip") || !strcasecmp(prov, "local")) {
        int local = !strcasecmp(prov, "local");
        if (local) {
            a = "127.0.0.0/8 ::1";
            if (r->connection->local_addr && r->useragent_addr
                && apr_sockaddr_equal(r->connection->local_addr,
                                      r->useragent_addr)) {
                return FX_AZ_GRANTED;
            }
        }
        while (*a) {
            char *slash;
            apr_ipsubnet_t *sn;
            w = ap_getword_conf(p, &a);
            if (!*w) {
                break;
            }
            slash = strchr(w, '/');
            if (slash) {
                *slash++ = '\0';
            }
            if (apr_ipsubnet_create(&sn, w, slash, p) != APR_SUCCESS) {
                return -1;
            }
            if (r->useragent_addr && apr_ipsubnet_test(sn, r->useragent_addr)) {
                return FX_AZ_GRANTED;
            }
        }
        return FX_AZ_DENIED;
    }
    if (!strcasecmp(prov, "env") || !strcasecmp(prov, "method")) {
        int env = !strcasecmp(prov, "env");
        while (*a) {
            w = ap_getword_conf(p, &a);
            if (*w && (env ? apr_table_get(r->subprocess_env, w) != NULL
                           : !strcmp(w, r->method))) {
                return FX_AZ_GRANTED;
            }
        }
        return FX_AZ_DENIED;
    }
    return -1;
}

/* The tree of recs answered statically, levels replacing one another as
 * mod_authz_core merges them; NULL when a line cannot be answered. */
static fx_az_node *fx_az_static_tree(request_rec *r, apr_pool_t *p,
                                     const apr_array_header_t *recs)
{
    apr_array_header_t *items = apr_array_make(p, recs->nelts + 1,
                                               sizeof(fx_az_item));
    int i;
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
        fx_az_item *it = apr_array_push(items);
        it->d = rec->where;
        it->in_htaccess = rec->in_htaccess;
        it->result = fx_az_static_answer(r, p, rec->args, &it->negate);
        it->index = i;
        if (it->result < 0) {
            return NULL;
        }
    }
    return items->nelts ? fx_az_rebuild_items(r, p, items, 1) : NULL;
}

/* Appends one blocker ({"directive","file","line","section","mechanism"}). */
static void fx_az_blocker(apr_pool_t *p, const char **json, int *n,
                          const char *directive, const char *file, int line,
                          const char *section, const char *mechanism)
{
    *json = apr_pstrcat(p, *json ? *json : "[", *json ? "," : "",
                        "{\"directive\":", fx_jstr(p, directive),
                        ",\"file\":", fx_jstr(p, file),
                        ",\"line\":", apr_itoa(p, line),
                        ",\"section\":", fx_jstr(p, section),
                        ",\"mechanism\":", fx_jstr(p, mechanism), "}", NULL);
    (*n)++;
}

static void fx_az_blocker_rec(apr_pool_t *p, const char **json, int *n,
                              const fx_shadow_rec *rec, const char *mechanism)
{
    fx_az_blocker(p, json, n, apr_pstrcat(p, rec->name, " ", rec->args, NULL),
                  rec->file, rec->line,
                  fx_section_of(p, rec->where, rec->in_htaccess), mechanism);
}

/* The Require line in effect that a static tree's blame names. */
static const fx_shadow_rec *fx_az_static_blame(request_rec *r, apr_pool_t *p,
                                               const apr_array_header_t *recs)
{
    fx_az_node *t = fx_az_static_tree(r, p, recs);
    const fx_az_node *b;
    if (!t || fx_az_evaluate(t) == FX_AZ_GRANTED) {
        return NULL;
    }
    b = fx_az_blame(t, NULL);
    return b->is_leaf ? APR_ARRAY_IDX(recs, b->index, const fx_shadow_rec *)
                      : NULL;
}

/* The same configuration line: an .htaccess line the provider saw and
 * the record of it read again at 403 time are different nodes. */
static int fx_az_same_line(const ap_directive_t *a, const ap_directive_t *b)
{
    return a == b || (a && b && a->line_num == b->line_num && a->filename
                      && b->filename && !strcmp(a->filename, b->filename));
}

/* Did the trail see every Require line in effect from the first level
 * httpd evaluated on?  Only then does a re-evaluation of the replayed tree
 * with a change inside it need nothing the trail lacks (a level joined by
 * AuthMerging And after a failed one was never evaluated). */
static int fx_az_trail_covers(const apr_array_header_t *trail,
                              const apr_array_header_t *recs, int pass)
{
    int i, j, started = 0;
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
        int seen = 0, level = 0;
        for (j = 0; j < trail->nelts; j++) {
            const fx_az_step *s = &APR_ARRAY_IDX(trail, j, fx_az_step);
            if (s->pass != pass || s->depth > 0) {
                continue;   /* only the deciding pass was replayed */
            }
            if (fx_az_same_line(s->rule->d, rec->where)) {
                seen = 1;
            }
            if (fx_same_level(s->rule->d, s->rule->in_htaccess, rec->where,
                              rec->in_htaccess)) {
                level = 1;
            }
        }
        started |= level;
        if (started && !seen) {
            return 0;
        }
    }
    return 1;
}

/* The Require lines in effect that the levels httpd evaluated replaced:
 * what applies once those levels hold no Require any more. */
static apr_array_header_t *fx_az_replaced(apr_pool_t *p,
                                          const apr_array_header_t *trail,
                                          const apr_array_header_t *recs)
{
    apr_array_header_t *out = apr_array_make(p, 2, sizeof(const fx_shadow_rec *));
    int i, j;
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
        int level = 0;
        for (j = 0; j < trail->nelts && !level; j++) {
            const fx_az_step *s = &APR_ARRAY_IDX(trail, j, fx_az_step);
            level = fx_same_level(s->rule->d, s->rule->in_htaccess,
                                  rec->where, rec->in_htaccess);
        }
        if (level) {
            break;
        }
        APR_ARRAY_PUSH(out, const fx_shadow_rec *) = rec;
    }
    return out;
}

/* The path of a plain <Directory "path"> section, else NULL. */
static const char *fx_az_dir_path(apr_pool_t *p, const ap_directive_t *d)
{
    const char *a;
    char *path;
    apr_size_t n;
    if (!d || !fx_is_dirname(d, "<Directory") || !d->args) {
        return NULL;
    }
    a = d->args;
    path = ap_getword_conf(p, &a);
    n = strlen(path);
    if (n && path[n - 1] == '>') {
        path[--n] = '\0';
    }
    if (n > 1 && (path[n - 1] == '"' || path[n - 1] == '\'')) {
        path[--n] = '\0';
    }
    if (!n || path[0] != '/' || strpbrk(path, "*?[~")) {
        return NULL;
    }
    return path;
}

static const char *fx_az_provider_name(apr_pool_t *p, const ap_directive_t *d)
{
    const char *rest;
    return d ? fx_provider_of(p, d->args, &rest) : "";
}

static int fx_az_is_address_rule(apr_pool_t *p, const ap_directive_t *d)
{
    const char *prov = fx_az_provider_name(p, d);
    return !strcasecmp(prov, "ip") || !strcasecmp(prov, "local")
        || !strcasecmp(prov, "host") || !strcasecmp(prov, "forward-dns");
}

typedef struct {
    const char *hint;
    const char *fix;          /* JSON array, or NULL */
    int verified;
    const char *unverified;   /* why not */
    const char *blockers;     /* JSON array */
    int nblockers;
    const char *protection;
} fx_az_advice;

static void fx_az_advice_facts(apr_pool_t *p, const fx_az_advice *a,
                               apr_array_header_t *out)
{
    fx_fact(out, "hint", a->hint, 0);
    if (a->fix) {
        fx_fact(out, "fix", a->fix, 1);
    }
    fx_fact(out, "hint_verified", a->verified ? "true" : "false", 1);
    if (!a->verified) {
        fx_fact(out, "hint_unverified", a->unverified ? a->unverified
                : "the module cannot re-evaluate this change", 0);
    }
    if (a->blockers) {
        fx_fact(out, "blockers", apr_pstrcat(p, a->blockers, "]", NULL), 1);
    }
    if (a->protection) {
        fx_fact(out, "protection", a->protection, 0);
    }
}

static const char *fx_az_fix_insert(apr_pool_t *p, const char *file,
                                    int after_line, const char *text)
{
    return apr_pstrcat(p, "[{\"op\":\"insert\",\"file\":", fx_jstr(p, file),
                       ",\"after_line\":", apr_itoa(p, after_line),
                       ",\"text\":", fx_jstr(p, text), "}]", NULL);
}

/* A configuration snippet on one line, for a hint. */
static const char *fx_az_one_line(apr_pool_t *p, const char *text)
{
    char *out = apr_palloc(p, strlen(text) + 1), *o = out;
    for (; *text; text++) {
        if (*text == '\n') {
            *o++ = ' ';
            while (text[1] == ' ') {
                text++;
            }
        }
        else {
            *o++ = *text;
        }
    }
    *o = '\0';
    return out;
}

/* Is d inside a <RequireAll>/<RequireAny>/... of its section? */
static int fx_az_in_container(const ap_directive_t *d)
{
    const ap_directive_t *s;
    int op, neg;
    for (s = d ? d->parent : NULL; s && fx_not_a_section(s); s = s->parent) {
        if (fx_az_container_kind(s, &op, &neg)) {
            return 1;
        }
    }
    return 0;
}

/* A section merged after every <Directory>, .htaccess and <Files> one:
 * what a <Location> added for the exemption would not come after. */
static int fx_az_late_section(const ap_directive_t *s)
{
    return fx_is_dirname(s, "<Location") || fx_is_dirname(s, "<LocationMatch")
        || fx_is_dirname(s, "<If") || fx_is_dirname(s, "<ElseIf")
        || fx_is_dirname(s, "<Else");
}

/* The narrow alternative of a deliberate protection (issue 13): a
 * <Location> for this one URL, which mod_authz_core merges after every
 * <Directory>, .htaccess and <Files> section, restating the Require lines
 * of the level the protection replaced, so the exemption lets in exactly
 * whom the protection's surroundings let in (never "Require all granted"
 * where the site itself restricts access).  The protection itself is never
 * changed.  Verified when the restated lines, answered statically, grant
 * and nothing merged later (another <Location>, an <If>, AuthMerging,
 * Order/Allow/Deny) can change the outcome.  Returns the restated text. */
static const char *fx_az_protection_fix(request_rec *r, apr_pool_t *p,
                                        const ap_directive_t *nd,
                                        fx_az_advice *a)
{
    apr_array_header_t *all = fx_records_find(p, r, "Require");
    apr_array_header_t *replaced = apr_array_make(p, 4,
                                                  sizeof(const fx_shadow_rec *));
    apr_array_header_t *restated = apr_array_make(p, 4,
                                                  sizeof(const fx_shadow_rec *));
    const fx_shadow_rec *last = NULL, *prot = NULL;
    const char *body = "", *text, *uri = r->uri;
    fx_az_node *tree;
    int i, first;

    /* The protection among the lines in effect, by file:line (an
     * .htaccess line the provider saw and the record of it read again
     * are different nodes); the levels before its own are what it
     * replaced. */
    for (i = 0; i < all->nelts && !prot; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(all, i, const fx_shadow_rec *);
        if (rec->line == nd->line_num && rec->file && nd->filename
            && !strcmp(rec->file, nd->filename)) {
            prot = rec;
        }
    }
    if (!prot) {
        a->unverified = "a deliberate protection; its line is not among the "
                        "Require lines in effect as recorded";
        return NULL;
    }
    for (first = i - 1; first > 0; first--) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(all, first - 1,
                                                 const fx_shadow_rec *);
        if (!fx_same_level(rec->where, rec->in_htaccess, prot->where,
                           prot->in_htaccess)) {
            break;
        }
    }
    for (i = 0; i < first; i++) {
        APR_ARRAY_PUSH(replaced, const fx_shadow_rec *) =
            APR_ARRAY_IDX(all, i, const fx_shadow_rec *);
    }
    last = replaced->nelts
        ? APR_ARRAY_IDX(replaced, replaced->nelts - 1, const fx_shadow_rec *)
        : NULL;

    if (!uri || uri[0] != '/' || strpbrk(uri, "*?[\\\"\n")) {
        a->unverified = "a deliberate protection; this URL cannot be written "
                        "as a plain <Location> (wildcard or quote characters)";
        return NULL;
    }
    if (fx_records_find(p, r, "AuthMerging")->nelts) {
        a->unverified = "a deliberate protection; AuthMerging is in effect, "
                        "so an exemption's effect is not predicted";
        return NULL;
    }
    for (i = 0; i < all->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(all, i, const fx_shadow_rec *);
        if (!rec->in_htaccess && fx_az_late_section(fx_level_of(rec->where))) {
            a->unverified = "a deliberate protection; Require lines in a "
                            "<Location> or <If> apply here, so where an "
                            "exemption would have to go is not predicted";
            return NULL;
        }
    }
    for (i = 0; last && i < replaced->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(replaced, i,
                                                 const fx_shadow_rec *);
        if (!fx_same_level(rec->where, rec->in_htaccess, last->where,
                           last->in_htaccess)) {
            continue;
        }
        if (rec->limited != -1 || fx_az_in_container(rec->where)) {
            a->unverified = "a deliberate protection; the Require rules it "
                            "replaced use <Limit> or Require containers, "
                            "which an exemption cannot restate line by line";
            return NULL;
        }
        APR_ARRAY_PUSH(restated, const fx_shadow_rec *) = rec;
        body = apr_pstrcat(p, body, "    Require ", rec->args, "\n", NULL);
    }
    if (!restated->nelts) {
        body = "    Require all granted\n";
        a->verified = 1;
    }
    else if ((tree = fx_az_static_tree(r, p, restated)) == NULL) {
        a->unverified = "a deliberate protection; the exemption restates "
                        "Require lines whose answer the module cannot "
                        "evaluate here";
    }
    else if (fx_az_evaluate(tree) != FX_AZ_GRANTED) {
        /* the level the protection replaced denies too: no exemption */
        a->unverified = "a deliberate protection; without it the Require "
                        "lines it replaced would deny this request as well";
        return NULL;
    }
    else {
        a->verified = 1;
    }
    if (a->verified && fx_records_find(p, r, "order")->nelts) {
        a->verified = 0;
        a->unverified = "a deliberate protection; Order/Allow/Deny lines "
                        "also apply here";
    }
    text = apr_pstrcat(p, "<Location ", fx_protect_conf_quote(p, uri), ">\n",
                       body, "</Location>", NULL);
    if (r->server->is_virtual && r->server->defn_name) {
        /* first in the virtual host: after the main server's <Location>s,
         * and no <Location> of its own holds a Require (checked above) */
        a->fix = fx_az_fix_insert(p, r->server->defn_name,
                                  r->server->defn_line_number, text);
    }
    else {
        /* the end of the file read last: after every <Location> */
        const ap_directive_t *d = ap_conftree;
        while (d && d->next) {
            d = d->next;
        }
        if (!d || !d->filename) {
            a->verified = 0;
            a->unverified = "a deliberate protection";
            return NULL;
        }
        a->fix = apr_pstrcat(p, "[{\"op\":\"append\",\"file\":",
                 fx_jstr(p, d->filename),
                 ",\"text\":", fx_jstr(p, text), "}]", NULL);
    }
    if (!a->verified && !a->unverified) {
        a->unverified = "a deliberate protection";
    }
    return text;
}

/* The <Limit>/<LimitExcept> a directive sits in (within its section). */
static const ap_directive_t *fx_az_limit_of(const ap_directive_t *d)
{
    const ap_directive_t *s;
    for (s = d ? d->parent : NULL; s && fx_not_a_section(s); s = s->parent) {
        if (fx_is_dirname(s, "<Limit") || fx_is_dirname(s, "<LimitExcept")) {
            return s;
        }
    }
    return NULL;
}

/* The methods of a <Limit>/<LimitExcept> line, with `add` added (when not
 * NULL) and `drop` left out (when not NULL); *had says whether drop was
 * among them, *left how many remain. */
static const char *fx_az_limit_methods(apr_pool_t *p, const char *args,
                                       const char *add, const char *drop,
                                       int *had, int *left)
{
    const char *a = args ? args : "", *out = "";
    *had = 0;
    *left = 0;
    while (*a) {
        char *w = ap_getword_conf(p, &a);
        apr_size_t n = strlen(w);
        if (n && w[n - 1] == '>') {
            w[--n] = '\0';
        }
        if (!n) {
            continue;
        }
        if (drop && !strcmp(w, drop)) {
            *had = 1;
            continue;
        }
        out = apr_pstrcat(p, out, *out ? " " : "", w, NULL);
        (*left)++;
    }
    if (add) {
        out = apr_pstrcat(p, out, *out ? " " : "", add, NULL);
        (*left)++;
    }
    return out;
}

static const char *fx_az_fix_replace(apr_pool_t *p, const ap_directive_t *d,
                                     const char *old, const char *new_text)
{
    return apr_pstrcat(p, "[{\"op\":\"replace\",\"file\":",
                       fx_jstr(p, d->filename), ",\"line\":",
                       apr_itoa(p, d->line_num), ",\"old\":", fx_jstr(p, old),
                       ",\"new\":", fx_jstr(p, new_text), "}]", NULL);
}

/* Providers whose answer is about the authenticated user. */
static int fx_az_is_user_rule(const char *prov)
{
    /* file-owner and file-group are about the file: no line for them */
    static const char *const names[] = { "user", "group", "dbm-group", "dbd-group", "ldap-user", "ldap-group",
        "ldap-dn", "ldap-attribute", "ldap-filter", NULL };
    int i;
    for (i = 0; names[i]; i++) {
        if (!strcasecmp(prov, names[i])) {
            return 1;
        }
    }
    return 0;
}

/* How many trail steps of the deciding pass sit in the <Limit> lim, or
 * name the variable var in an env rule. */
static int fx_az_steps_in(apr_pool_t *p, const apr_array_header_t *trail,
                          int pass, const ap_directive_t *lim,
                          const char *var)
{
    int i, n = 0;
    for (i = 0; i < trail->nelts; i++) {
        const fx_az_step *s = &APR_ARRAY_IDX(trail, i, fx_az_step);
        const char *rest, *prov;
        if (s->pass != pass || !s->rule->d) {
            continue;
        }
        if (lim && fx_az_limit_of(s->rule->d) == lim) {
            n++;
        }
        prov = fx_provider_of(p, s->rule->d->args, &rest);
        if (var && !strcasecmp(prov, "env")) {
            while (*rest) {
                if (!strcmp(ap_getword_conf(p, &rest), var)) {
                    n++;
                    break;
                }
            }
        }
    }
    return n;
}

/* A Remote_Addr pattern matching exactly this address. */
static const char *fx_az_addr_regex(apr_pool_t *p, const char *ip)
{
    const char *c;
    char *out = apr_palloc(p, 2 * strlen(ip) + 3), *o = out;
    *o++ = '^';
    for (c = ip; *c; c++) {
        if (*c == '.') {
            *o++ = '\\';
        }
        *o++ = *c;
    }
    *o++ = '$';
    *o = '\0';
    return out;
}

/* Would the Require lines in effect grant r with the line `changed`
 * answering `answer` (negated as `negate`; FX_AZ_DROP: every line in the
 * <Limit> `changed` no longer called, as for a method it does not cover)?
 * The other lines answered statically, plus `Require user`/`valid-user`
 * from r->user; 0 when one of them cannot be answered.  This verifies a
 * change where httpd's own evaluation stopped before the lines it needs
 * (a RequireAll stops at its first denial). */
#define FX_AZ_DROP (-2)
static int fx_az_static_grants_with(request_rec *r, apr_pool_t *p,
                                    const apr_array_header_t *recs,
                                    const ap_directive_t *changed,
                                    int answer, int negate)
{
    apr_array_header_t *items = apr_array_make(p, recs->nelts + 1,
                                               sizeof(fx_az_item));
    fx_az_node *t;
    int i;
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
        fx_az_item it;
        const char *rest, *prov;
        if (answer == FX_AZ_DROP
            && fx_az_same_line(fx_az_limit_of(rec->where), changed)) {
            continue;
        }
        it.d = rec->where;
        it.in_htaccess = rec->in_htaccess;
        it.index = i;
        it.result = fx_az_static_answer(r, p, rec->args, &it.negate);
        if (fx_az_same_line(rec->where, changed)) {
            it.result = answer;
            it.negate = negate;
        }
        else if (it.result < 0) {
            prov = fx_provider_of(p, rec->args, &rest);
            if (!strcasecmp(prov, "valid-user") && r->user) {
                it.result = FX_AZ_GRANTED;
            }
            else if (!strcasecmp(prov, "user") && r->user) {
                it.result = FX_AZ_DENIED;
                while (*rest) {
                    if (!strcmp(ap_getword_conf(p, &rest), r->user)) {
                        it.result = FX_AZ_GRANTED;
                    }
                }
            }
            else {
                return 0;
            }
        }
        *(fx_az_item *)apr_array_push(items) = it;
    }
    t = items->nelts ? fx_az_rebuild_items(r, p, items, 1) : NULL;
    return t && fx_az_evaluate(t) == FX_AZ_GRANTED;
}

/* The fix that lets one more method or user (word) through rule nd of
 * provider prov: inside an "any", a `Require <prov> <word>` line of its own
 * next to it; inside an "all", the word joins the line.  Verified on the
 * replayed tree, else by answering the Require lines in effect statically. */
static void fx_az_word_fix(request_rec *r, apr_pool_t *p,
                           const apr_array_header_t *recs, fx_az_node *root,
                           fx_az_node *leaf, fx_az_node *cont,
                           const ap_directive_t *nd, const char *text,
                           const char *prov, const char *word, int or,
                           int covers, fx_az_advice *a)
{
    if (or) {
        a->fix = fx_az_fix_insert(p, nd->filename, nd->line_num,
                                  apr_pstrcat(p, "Require ", prov, " ", word,
                                              NULL));
        a->verified = covers && fx_az_grants_with(p, root, cont);
    }
    else {
        a->fix = fx_az_fix_replace(p, nd, text,
                                   apr_pstrcat(p, text, " ", word, NULL));
        a->verified = covers && fx_az_grants_if(root, leaf, FX_AZ_GRANTED, 0);
    }
    a->verified = a->verified
        || fx_az_static_grants_with(r, p, recs, nd, FX_AZ_GRANTED, 0);
}

/* Rules about who the user is, which method, which <Limit> covers it,
 * which variable is set (issue 13): the one change that lets this
 * request in and nobody else, verified on the replayed tree with that
 * change (the rest of the tree as the providers answered).  Returns 1
 * when it gave advice. */
static int fx_az_advise_who(request_rec *r, apr_pool_t *p,
                            const apr_array_header_t *trail, int last_pass,
                            const apr_array_header_t *recs, fx_az_node *root,
                            fx_az_node *leaf, const ap_directive_t *nd,
                            fx_az_advice *a)
{
    const char *rest, *prov = fx_provider_of(p, nd->args, &rest);
    const char *text = fx_dtext(p, nd), *m = r->method;
    const ap_directive_t *lim = fx_az_limit_of(nd);
    fx_az_node *cont = fx_az_parent(root, leaf);
    int covers = fx_az_trail_covers(trail, recs, last_pass);
    int or = cont && cont->op == FX_AZ_OR && !cont->negate;
    int and = cont && cont->op == FX_AZ_AND && !cont->negate;

    if (lim && !leaf->negate) {
        /* not called for a method its <Limit> does not cover: granted
         * inside an "all", neutral inside an "any" (apply_authz_sections) */
        int had, left, except = fx_is_dirname(lim, "<LimitExcept");
        const char *ms = fx_az_limit_methods(p, lim->args, except ? m : NULL,
                                             except ? NULL : m, &had, &left);
        const char *line = apr_pstrcat(p, lim->directive, " ", ms, ">", NULL);
        if (!except && (!had || !left)) {
            a->unverified = apr_psprintf(p, "%s covers only %s: dropping the "
                                         "method would leave no section",
                                         fx_dtext(p, lim), m);
            return 1;
        }
        a->fix = fx_az_fix_replace(p, lim, lim->directive, line);
        a->verified = (covers && cont
            && fx_az_steps_in(p, trail, last_pass, lim, NULL) == 1
            && fx_az_grants_if(root, leaf, and ? FX_AZ_GRANTED : FX_AZ_NEUTRAL,
                               0))
            || fx_az_static_grants_with(r, p, recs, lim, FX_AZ_DROP, 0);
        a->unverified = "re-evaluating the Require rules with the rules of "
                        "that section not applying to this method does not "
                        "let the request in, or other rules in it or not "
                        "evaluated would change too";
        a->hint = apr_psprintf(p, "`%s` applies to %s through %s (%s:%d); to "
                               "let %s through, %s the method there: `%s` "
                               "(the rules in that section then no longer "
                               "apply to %s)", text, m, fx_dtext(p, lim),
                               lim->filename, lim->line_num, m,
                               except ? "add" : "drop", line, m);
        return 1;
    }
    if (!strcasecmp(prov, "method") && !leaf->negate && (or || and)) {
        fx_az_word_fix(r, p, recs, root, leaf, cont, nd, text, "method", m,
                       or, covers, a);
        a->unverified = "re-evaluating the Require rules with the method "
                        "allowed does not let the request in, or rules that "
                        "were not evaluated would then be";
        a->hint = apr_psprintf(p, "the method %s is not among %s of `%s`; "
                               "to allow it here, %s", m, rest, text, or
                               ? apr_psprintf(p, "add `Require method %s` "
                                              "next to it (this method only)",
                                              m)
                               : apr_psprintf(p, "change the line to `%s %s`",
                                              text, m));
        return 1;
    }
    if (fx_az_is_user_rule(prov) && !leaf->negate && r->user
        && (or || (and && !strcasecmp(prov, "user")))) {
        const char *u = fx_protect_conf_quote(p, r->user);
        fx_az_word_fix(r, p, recs, root, leaf, cont, nd, text, "user", u,
                       or, covers, a);
        a->unverified = "re-evaluating the Require rules with this user "
                        "granted does not let the request in, or rules that "
                        "were not evaluated would then be";
        a->hint = apr_psprintf(p, "the authenticated user %s does not satisfy "
                               "`%s`; to let this user in, %s", r->user, text,
                               or ? apr_psprintf(p, "add `Require user %s` "
                                                 "next to it (this user only)",
                                                 u)
                               : apr_psprintf(p, "change the line to `%s %s`",
                                              text, u));
        return 1;
    }
    if (!strcasecmp(prov, "ip") && !leaf->negate && and) {
        /* inside a <RequireAll> one more rule does not help: this address
         * joins the line that refused it */
        a->fix = fx_az_fix_replace(p, nd, text, apr_pstrcat(p, text, " ",
                                                            r->useragent_ip,
                                                            NULL));
        a->verified = (covers && fx_az_grants_if(root, leaf, FX_AZ_GRANTED, 0))
            || fx_az_static_grants_with(r, p, recs, nd, FX_AZ_GRANTED, 0);
        a->unverified = "re-evaluating the Require rules with this address "
                        "added does not let the request in, or rules that "
                        "were not evaluated would then be";
        a->hint = apr_psprintf(p, "the client address %s is not in `%s`, "
                               "which sits in a <RequireAll>; to let this "
                               "address in, change the line to `%s %s` (this "
                               "address only)", r->useragent_ip, text, text,
                               r->useragent_ip);
        return 1;
    }
    if (!strcasecmp(prov, "env") && leaf->negate) {
        /* a block list (bad bots, spam referrers): works as intended; an
         * exemption for this client's address, right after the line that
         * set the variable, never the removal of the rule */
        const char *var = fx_az_first_word(p, rest);
        const ap_directive_t **eff = apr_palloc(p, sizeof(*eff)
                                                * (trail->nelts + 1));
        const ap_directive_t *set;
        const char *line;
        int i, ne = 0;
        for (i = 0; i < trail->nelts; i++) {
            const fx_az_step *s = &APR_ARRAY_IDX(trail, i, fx_az_step);
            if (s->rule->d) {
                eff[ne++] = s->rule->d;
            }
        }
        set = fx_azenv_setter(r, p, var, eff, ne);
        if (!set) {
            a->unverified = apr_psprintf(p, "which line set %s could not be "
                                         "proven, so no exemption is placed",
                                         var);
            return 1;
        }
        line = apr_psprintf(p, "SetEnvIf Remote_Addr \"%s\" !%s",
                            fx_az_addr_regex(p, r->useragent_ip), var);
        a->fix = fx_az_fix_insert(p, set->filename, set->line_num, line);
        a->verified = (covers
            && fx_az_steps_in(p, trail, last_pass, NULL, var) == 1
            && fx_az_grants_if(root, leaf, FX_AZ_DENIED, 1))
            || fx_az_static_grants_with(r, p, recs, nd, FX_AZ_DENIED, 1);
        a->unverified = apr_psprintf(p, "re-evaluating the Require rules with "
                                     "%s unset does not let the request in, "
                                     "or other rules read it too", var);
        a->hint = apr_psprintf(p, "`%s` is a block list and works as "
                               "intended (env_origin: the line that set %s); "
                               "to exempt this client alone, insert `%s` "
                               "after %s:%d; do not remove the rule", text,
                               var, line, set->filename, set->line_num);
        return 1;
    }
    if (!strcasecmp(prov, "env") && !leaf->negate) {
        a->unverified = "which requests should set the variable is the "
                        "administrator's decision: no change is proposed";
        return 1;
    }
    if (!strcasecmp(prov, "expr")) {
        /* ap_expr_parse() could evaluate a changed expression at request
         * time, but there is no change to an arbitrary expression that is
         * known to be narrow: none is proposed */
        a->unverified = "no narrow change to an arbitrary expression is "
                        "known; the values it read are in expr_headers";
        return 1;
    }
    return 0;
}

/* Advice for a Require denial.  named: the blamed node (leaf index into
 * the trail, or a container); nd: the directive named (leaf or container
 * or section), NULL for the top of an .htaccess file. */
static void fx_az_advise_require(request_rec *r, apr_pool_t *p,
                                 const apr_array_header_t *trail,
                                 int last_pass,
                                 fx_az_node *root, const fx_az_node *named,
                                 const ap_directive_t *nd, int in_htaccess,
                                 fx_az_advice *a)
{
    apr_array_header_t *recs = fx_az_require_recs(r, p);
    apr_array_header_t *replaced = fx_az_replaced(p, trail, recs);
    const fx_shadow_rec *inherited = fx_az_static_blame(r, p, replaced);
    const ap_directive_t *level = nd ? (named->is_leaf || named->tag
                                        == FX_AZ_TAG_LEVEL
                                        ? fx_level_of(nd) : fx_level_of(nd))
                                     : NULL;
    const char *ip = r->useragent_ip;
    const char *prov = named->is_leaf ? fx_az_provider_name(p, nd) : "";
    const char *dirpath = fx_az_dir_path(p, named->is_leaf ? level : NULL);
    int is_dir = r->finfo.filetype == APR_DIR;
    const char *target = r->filename ? fx_az_target_dir(p, r->filename, is_dir)
                                     : NULL;

    if (named->tag == FX_AZ_TAG_LEVEL) {
        level = nd;
    }
    if (inherited && nd && inherited->line == nd->line_num
        && inherited->file && nd->filename
        && !strcmp(inherited->file, nd->filename)) {
        /* the rule named is what applies without the section's lines
         * (a <Files> in .htaccess, merged after them): not a second one */
        inherited = NULL;
    }
    if (nd) {
        fx_az_blocker(p, &a->blockers, &a->nblockers, fx_dtext(p, nd),
                      nd->filename, nd->line_num,
                      fx_section_of(p, nd, in_htaccess), "require");
    }
    if (inherited) {
        fx_az_blocker_rec(p, &a->blockers, &a->nblockers, inherited,
                          "require (applies once the rules named above are "
                          "removed)");
    }

    /* A deny-all in an ancestor <Directory> (Debian's <Directory />): a
     * section for the directory the URL maps to, never a change to it. */
    if (named->is_leaf && named->absolute && !in_htaccess && dirpath
        && target && fx_az_is_ancestor(dirpath, target)
        && !fx_az_limit_of(nd)) {
        const char *text = apr_pstrcat(p, "<Directory \"", target, "\">\n"
                                       "    Require all granted\n"
                                       "</Directory>", NULL);
        int i, ok = 1;
        apr_array_header_t *compat = fx_records_find(p, r, "order");
        if (!strcmp(dirpath, "/")) {
            a->protection = "filesystem-root";
        }
        a->fix = fx_az_fix_insert(p, level->filename, level->line_num - 1, text);
        /* With the new section, every Require line in a <Directory> above
         * the target is replaced; anything else still applies. */
        for (i = 0; i < recs->nelts && ok; i++) {
            const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i,
                                                     const fx_shadow_rec *);
            const char *q = rec->in_htaccess ? NULL
                          : fx_az_dir_path(p, fx_level_of(rec->where));
            ok = q && fx_az_is_ancestor(q, target);
        }
        a->verified = ok && !compat->nelts;
        a->unverified = ok ? "Order/Allow/Deny lines also apply here"
                           : "other Require lines in effect here would still "
                             "be evaluated";
        a->hint = apr_pstrcat(p, "`", fx_dtext(p, nd), "` in ",
                  fx_dtext(p, level), " (", level->filename, ":",
                  apr_itoa(p, level->line_num), ") ",
                  !strcmp(dirpath, "/")
                  ? "is the server's default protection of the whole "
                    "filesystem and works as intended: do not change it. "
                  : "denies everything below that directory: leave it. ",
                  "To serve ", target, ", add a section for that "
                  "directory only: <Directory \"", target, "\"> Require all "
                  "granted </Directory>", NULL);
        return;
    }

    /* A deny-all protecting names that look like secrets, VCS data,
     * backups or dotfiles: working as intended. */
    if (named->is_leaf && named->absolute) {
        const char *prot = fx_az_protection_of(r->filename ? r->filename
                                                           : r->uri);
        const ap_directive_t *sec = level;
        const char *alt = NULL;
        const char *kind = sec && sec->args
            ? fx_protect_classify(r->filename, sec->args, &alt) : NULL;
        if (kind && !strcmp(kind, FX_PROT_NOEXEC) && alt) {
            /* scripts in an upload directory (Sucuri's <FilesMatch
             * "\.(?i:php)$">): an exemption would serve, or run, an
             * uploaded script; none is proposed */
            a->protection = kind;
            a->unverified = "a deliberate protection of an upload directory: "
                            "no exemption for a script there is proposed";
            a->hint = apr_pstrcat(p, "`", fx_dtext(p, nd), "` in ",
                      fx_dtext(p, sec), " (", sec->filename, ":",
                      apr_itoa(p, sec->line_num), "): ", alt, NULL);
            return;
        }
        if (prot && sec) {
            const char *text = fx_az_protection_fix(r, p, nd, a);
            a->protection = prot;
            a->hint = apr_pstrcat(p, "this is a deliberate protection (", prot,
                      "): `", fx_dtext(p, nd), "` in ", fx_dtext(p, sec),
                      " (", sec->filename, ":", apr_itoa(p, sec->line_num),
                      ") keeps such files from being served, and it works as "
                      "intended: do not remove or widen the protection. ",
                      text ? apr_pstrcat(p, "If this URL should be served, "
                             "exempt this URL only: ", fx_az_one_line(p, text),
                             r->server->is_virtual ? " first in the virtual "
                             "host" : " at the end of the configuration",
                             " (it restates the Require lines the protection "
                             "replaced)", NULL)
                           : "If this URL should really be served, "
                      "serve the content under a name the protection does "
                      "not cover", NULL);
            return;
        }
    }

    /* Any other deny-all of a section (phpMyAdmin's templates and
     * libraries directories): deliberate; the same one-URL exemption,
     * never "replace it with a Require that grants". */
    if (named->is_leaf && named->absolute && level && nd
        && !fx_az_limit_of(nd)) {
        const char *text = fx_az_protection_fix(r, p, nd, a);
        a->hint = apr_pstrcat(p, "`", fx_dtext(p, nd), "` in ",
                  fx_dtext(p, level), " (", level->filename, ":",
                  apr_itoa(p, level->line_num), ") refuses every client "
                  "there, deliberately: leave it. ",
                  text ? apr_pstrcat(p, "If this URL should be served, "
                         "exempt this URL only: ", fx_az_one_line(p, text),
                         r->server->is_virtual ? " first in the virtual host"
                         : " at the end of the configuration", " (it "
                         "restates the Require lines the section replaced)",
                         NULL)
                       : "If this URL should be served, serve it from a "
                         "directory the section does not cover", NULL);
        return;
    }

    if (named->is_leaf && nd
        && fx_az_advise_who(r, p, trail, last_pass, recs, root,
                            (fx_az_node *)named, nd, a)) {
        return;
    }

    /* An address rule, or an "any" where an address rule did not grant:
     * one more rule for this client's address only, verified by
     * re-evaluating the replayed tree with it. */
    if ((named->is_leaf && !named->negate && fx_az_is_address_rule(p, nd))
        || (!named->is_leaf && !named->negate && named->op == FX_AZ_OR
            && named->tag != FX_AZ_TAG_MERGE)) {
        fx_az_node *cont = named->is_leaf
            ? fx_az_parent(root, named) : (fx_az_node *)named;
        const char *file;
        int after;
        if (!cont || cont->op != FX_AZ_OR || cont->negate) {
            return;
        }
        if (named->is_leaf) {
            file = nd->filename;
            after = nd->line_num;
        }
        else if (nd) {
            file = nd->filename;
            after = nd->line_num;
        }
        else {
            const fx_az_item *it = named->key;
            file = it->d->filename;
            after = 0;
        }
        a->fix = fx_az_fix_insert(p, file, after,
                                  apr_pstrcat(p, "Require ip ", ip, NULL));
        a->verified = fx_az_trail_covers(trail, recs, last_pass)
                      && fx_az_grants_with(p, root, cont);
        a->unverified = "re-evaluating the Require rules with `Require ip` "
                        "for this address added does not let the request in, "
                        "or rules that were not evaluated would then be";
        if (inherited) {
            a->hint = apr_pstrcat(p, a->hint, "; removing `", fx_dtext(p, nd),
                      "` would not help: `", inherited->name, " ",
                      inherited->args, "` (", inherited->file, ":",
                      apr_itoa(p, inherited->line), ") applies then", NULL);
        }
        (void)prov;
    }
}

/* The client was refused by name ("Require not ip ...", a matching rule
 * of a <RequireNone>) by rules none of which decided alone: the hint names
 * each, and proposes nothing -- a grant beside a ban in a RequireAny would
 * lift it, and a ban is a deliberate protection.  The blockers found by
 * the advice stay. */
static void fx_az_advise_bans(request_rec *r, apr_pool_t *p,
                              const apr_array_header_t *trail,
                              const apr_array_header_t *bans, fx_az_advice *a)
{
    const char *named = "";
    int i;

    for (i = 0; i < bans->nelts; i++) {
        fx_az_view v = fx_az_view_of(r, p, trail, APR_ARRAY_IDX(bans, i, int));
        named = apr_pstrcat(p, named, i ? (i + 1 == bans->nelts ? " and " : ", ")
                            : "", "`", v.text, "`", v.d
                            ? apr_psprintf(p, " (%s:%d)", v.d->filename,
                                           v.d->line_num) : "", NULL);
    }
    a->protection = "ban";
    a->fix = NULL;
    a->verified = 0;
    a->unverified = "the client is refused explicitly (a ban): no change "
                    "that lets it in is proposed";
    a->hint = apr_pstrcat(p, "this client is refused explicitly: ", named,
                          bans->nelts > 1 ? " each match it and deny"
                                          : " matches it and denies",
                          ", and no other rule here grants it. A ban works as "
                          "intended: if it catches this client by mistake, "
                          "change the ban itself; a Require that grants the "
                          "client beside it would lift the ban for all its "
                          "requests", NULL);
}

static void fx_az_explain_require(request_rec *r, fx_req_state *st,
                                  apr_pool_t *p, apr_array_header_t *out)
{
    const apr_array_header_t *trail = st->authz_trail;
    const fx_az_req *az = st->subsys[FX_SLOT_AUTHZ];
    apr_array_header_t *resp;
    const fx_az_node *blamed;
    fx_az_node *root;
    int i, last_pass = 1, first_pass = 2, omitted, result, active;
    int named = -1, named_at = -1, uncounted;
    const char *hint = NULL, *phase = st->origin.phase, *others, *rjson;
    fx_az_advice adv;

    memset(&adv, 0, sizeof(adv));

    if (!trail || !trail->nelts) {
        fx_fact(out, "decided_by", "unknown", 0);
        fx_fact(out, "detail", "mod_authz_core denied the request, but no "
                "Require rule was seen being evaluated (the provider may have "
                "been registered after the configuration was read).", 0);
        return;
    }
    for (i = 0; i < trail->nelts; i++) {
        const fx_az_step *s = &APR_ARRAY_IDX(trail, i, fx_az_step);
        last_pass = s->pass > last_pass ? s->pass : last_pass;
        first_pass = s->pass < first_pass ? s->pass : first_pass;
    }
    root = fx_az_rebuild(r, p, trail, last_pass);
    result = root ? fx_az_evaluate(root) : FX_AZ_GRANTED;
    resp = apr_array_make(p, 4, sizeof(int));
    blamed = NULL;
    if (root) {
        fx_az_responsible(root, resp);
        blamed = fx_az_blame(root, &active);
        named = blamed->is_leaf ? blamed->index : -1;
    }
    uncounted = az ? az->neutral_dropped + az->lost : 0;
    fx_fact(out, "trail", fx_az_trail_json(r, p, trail, first_pass != last_pass,
                                           named, &omitted, &named_at), 1);
    if (named_at >= 0) {
        /* the size policy keeps the rule that decided longest */
        fx_fact(out, FX_AZ_TRAIL_DECIDING, apr_itoa(p, named_at), 0);
    }
    if (omitted + uncounted > 0) {
        fx_fact(out, "trail_omitted", apr_itoa(p, omitted + uncounted), 0);
    }
    if (az) {
        fx_fact(out, "trail_calls", apr_itoa(p, az->calls), 0);
    }
    if (az && az->lost) {
        fx_fact(out, "decided_by", "unknown", 0);
        fx_fact(out, "detail", apr_psprintf(p, "This request made more than "
                "%d Require calls that did not have a neutral effect; the "
                "ones past that were not kept, so no rule is named.",
                FX_AZ_MAX_STEPS), 0);
        return;
    }
    if (result == FX_AZ_GRANTED || !resp->nelts) {
        fx_fact(out, "decided_by", "unknown", 0);
        fx_fact(out, "detail", "The Require rules seen evaluating for this "
                "request do not reproduce the denial; no rule is named.", 0);
        return;
    }
    rjson = fx_az_resp_json(r, p, trail, resp, named, &others);
    fx_fact(out, "responsible", rjson, 1);
    if (resp->nelts > FX_AZ_MAX_RESP) {
        fx_fact(out, "responsible_count", apr_itoa(p, resp->nelts), 0);
    }
    if (named >= 0) {
        fx_az_view v = fx_az_view_of(r, p, trail, named);
        const char *text = v.text;
        const char *detail;
        int neg = v.rule->negate && !v.alias_def;

        fx_fact(out, "decided_by", "rule", 0);
        fx_fact(out, "directive", text, 0);
        if (v.d) {
            fx_fact(out, "file", v.d->filename, 0);
            fx_fact(out, "line", apr_itoa(p, v.d->line_num), 0);
            fx_fact(out, "section", fx_section_of(p, v.d, v.rule->in_htaccess), 0);
        }
        else if (v.alias_def) {
            fx_fact(out, "file", v.alias_def->filename, 0);
            fx_fact(out, "line", apr_itoa(p, v.alias_def->line_num), 0);
        }
        if (v.alias_def) {
            fx_fact(out, "alias", apr_psprintf(p, "%s (%s:%d)",
                                               fx_dtext(p, v.alias_def),
                                               v.alias_def->filename,
                                               v.alias_def->line_num), 0);
        }
        detail = apr_pstrcat(p, "`", text, "` decided: the provider answered ",
                             fx_az_result_name(v.result),
                             neg ? " and the rule is negated (Require not), "
                                   "so a match denies." : ".", NULL);
        if (others) {
            detail = apr_pstrcat(p, detail, " The alternatives that could "
                                 "have let the client in did not grant "
                                 "either: ", others, ".", NULL);
        }
        if (v.alias_def && !v.d) {
            detail = apr_pstrcat(p, detail, " The Require line that used the "
                                 "alias could not be told apart from others "
                                 "naming it; the alias definition is named.",
                                 NULL);
        }
        if (phase && !strcmp(phase, "auth_checker")) {
            apr_array_header_t *f = fx_records_find(p, r,
                                                   "AuthzSendForbiddenOnFailure");
            if (f->nelts) {
                const fx_shadow_rec *rec = APR_ARRAY_IDX(f, f->nelts - 1,
                                                         const fx_shadow_rec *);
                detail = apr_psprintf(p, "%s The user authenticated; "
                                      "AuthzSendForbiddenOnFailure %s (%s:%d) "
                                      "turns the 401 into 403.", detail,
                                      rec->args, rec->file, rec->line);
            }
        }
        fx_fact(out, "detail", detail, 0);
        {
            /* the sections known to apply: those of the rules evaluated */
            const ap_directive_t **eff = apr_palloc(p, sizeof(*eff)
                                                    * (trail->nelts + 1));
            int ne = 0;
            for (i = 0; i < trail->nelts; i++) {
                const fx_az_step *s = &APR_ARRAY_IDX(trail, i, fx_az_step);
                if (s->rule->d) {
                    eff[ne++] = s->rule->d;
                }
            }
            fx_az_attribute(r, p, &v, out, &hint, eff, ne);
        }
        adv.hint = hint;
        if (!st->cheap) {           /* fx_repeat.c: only the cause needed */
            fx_az_advise_require(r, p, trail, last_pass, root, blamed, v.d,
                                 v.rule->in_htaccess, &adv);
        }
        fx_az_advice_facts(p, &adv, out);
    }
    else {
        apr_array_header_t *bans = apr_array_make(p, 2, sizeof(int));
        fx_az_refusals(blamed, bans);
        fx_fact(out, "decided_by", "no-rule-granted", 0);
        fx_az_name_container(r, p, blamed, out);
        fx_fact(out, "detail", apr_psprintf(p, "No single rule decided: none "
                                            "of the %d rules tried granted "
                                            "access: %s.", resp->nelts,
                                            others ? others : "?"), 0);
        adv.hint = apr_psprintf(p, "none of the rules matched this "
                                "client (address %s%s%s); add a "
                                "Require that grants it to this "
                                "section", r->useragent_ip,
                                r->user ? ", user " : "",
                                r->user ? r->user : "");
        {
            const ap_directive_t *cd = NULL;
            int ht = 0;
            if (blamed->tag == FX_AZ_TAG_LEVEL) {
                const fx_az_item *it = blamed->key;
                cd = fx_level_of(it->d);
                ht = it->in_htaccess;
            }
            else if (blamed->tag != FX_AZ_TAG_MERGE) {
                cd = blamed->key;
            }
            if (!st->cheap) {       /* fx_repeat.c: only the cause needed */
                fx_az_advise_require(r, p, trail, last_pass, root, blamed, cd,
                                     ht, &adv);
            }
        }
        if (bans->nelts) {
            fx_az_advise_bans(r, p, trail, bans, &adv);
        }
        fx_az_advice_facts(p, &adv, out);
    }
}

/* -------------------------------------------------------------------- */
/* mod_access_compat                                                     */

static const char *fx_cm_env(void *baton, const char *name)
{
    return apr_table_get(((request_rec *)baton)->subprocess_env, name);
}

static const char *fx_cm_host(void *baton)
{
    int is_ip = 1;
    const char *h = ap_get_useragent_host(baton, REMOTE_DOUBLE_REV, &is_ip);
    return (h && !is_ip) ? h : NULL;
}

/* An Order line's argument as mod_access_compat reads it (spaces
 * dropped), or -1. */
static int fx_cm_order_of(apr_pool_t *p, const char *args)
{
    char *word = apr_pstrdup(p, args);
    apr_collapse_spaces(word, word);
    return fx_cm_order_parse(word);
}

static int fx_is_compat(const fx_shadow_rec *rec)
{
    return !strcasecmp(rec->name, "order") || !strcasecmp(rec->name, "allow")
        || !strcasecmp(rec->name, "deny") || !strcasecmp(rec->name, "Satisfy");
}

/* Advice for an Order/Allow/Deny denial: every blocker (the Require
 * lines in effect are answered statically: with Satisfy All they still
 * have to grant once mod_access_compat lets the request through), a fix
 * for this client's address where one line is enough, and never a literal
 * edit httpd would refuse (a "Deny from" without hosts). */
static void fx_az_advise_compat(request_rec *r, apr_pool_t *p,
                                const fx_shadow_rec *decisive,
                                const char *text, int order,
                                const fx_shadow_rec *order_rec,
                                const fx_shadow_rec *allow_rec,
                                const fx_shadow_rec *deny_rec,
                                const fx_cm_item *it, const char *hint,
                                apr_array_header_t *out)
{
    const char *order_note = "";
    apr_array_header_t *recs = fx_az_require_recs(r, p);
    fx_az_node *tree = fx_az_static_tree(r, p, recs);
    int req_result = !recs->nelts ? FX_AZ_GRANTED
                   : tree ? fx_az_evaluate(tree) : -1;
    const fx_shadow_rec *req_blocker = fx_az_static_blame(r, p, recs);
    const char *ip = r->useragent_ip;
    fx_az_advice a;
    int only_word = 0;

    memset(&a, 0, sizeof(a));
    a.hint = hint;
    fx_az_blocker(p, &a.blockers, &a.nblockers, text, decisive->file,
                  decisive->line, fx_section_of(p, decisive->where,
                                                decisive->in_htaccess),
                  "access-compat");
    /* Allow,Deny where no Allow matched: without the Deny line the Order
     * line still denies (AH01797 again). */
    if (deny_rec && order == FX_CM_ALLOW_DENY && !allow_rec && order_rec) {
        fx_az_blocker_rec(p, &a.blockers, &a.nblockers, order_rec,
                          "access-compat (no Allow line matches)");
        order_note = apr_psprintf(p, ", and `%s %s` (%s:%d) denies too: no "
                                  "Allow line matches this client",
                                  order_rec->name, order_rec->args,
                                  order_rec->file, order_rec->line);
    }
    if (req_blocker) {
        fx_az_blocker_rec(p, &a.blockers, &a.nblockers, req_blocker,
                          "require");
    }
    if (deny_rec && it) {
        apr_array_header_t *items = fx_cm_parse(p, deny_rec->args);
        only_word = items && items->nelts == 1;
    }
    if (deny_rec && only_word) {
        /* "remove 'all' from that line" leaves "Deny from": a 500 */
        a.hint = apr_psprintf(p, "the client %s matched `%s`, which denies "
                              "%s; the line has no other host, so it would "
                              "have to go as a whole (a `Deny from` without "
                              "hosts is refused by httpd)%s", ip, text,
                              it->type == FX_CM_ALL ? "every client"
                                                    : "this client",
                              order == FX_CM_DENY_ALLOW
                              ? apr_psprintf(p, ", or add `Allow from %s` "
                                             "after it (Order deny,allow)",
                                             ip) : "");
    }
    if (req_blocker) {
        a.hint = apr_psprintf(p, "two protections deny this request: 1) `%s` "
                              "(%s:%d, mod_access_compat%s) 2) `%s %s` (%s:%d, "
                              "mod_authz_core)%s. Changing one of them is not "
                              "enough", text, decisive->file, decisive->line,
                              order_note,
                              req_blocker->name, req_blocker->args,
                              req_blocker->file, req_blocker->line,
                              it && it->type == FX_CM_ALL
                              && fx_az_args_absolute(p, req_blocker->args)
                              ? "; both refuse every client here, "
                                "deliberately: if this URL should be served, "
                                "serve it from a directory they do not cover"
                              : "");
        a.unverified = "a Require line in effect denies this request too";
    }
    else if ((deny_rec && order == FX_CM_DENY_ALLOW)
             || (!deny_rec && order == FX_CM_ALLOW_DENY)) {
        /* Deny,Allow: a matching Allow wins; Allow,Deny without a matching
         * Deny: a matching Allow is enough.  This address only. */
        const fx_shadow_rec *after = deny_rec ? deny_rec : decisive;
        a.fix = fx_az_fix_insert(p, after->file, after->line,
                                 apr_pstrcat(p, "Allow from ", ip, NULL));
        a.verified = req_result == FX_AZ_GRANTED
                     && !fx_cm_denied(order, 1, deny_rec != NULL);
        a.unverified = req_result < 0
            ? "the Require lines in effect cannot be evaluated here"
            : "the Require lines in effect would still deny";
    }
    else {
        a.unverified = "with Order allow,deny a matching Deny wins over any "
                       "Allow: no single added line lets this client in";
    }
    if (it && it->type == FX_CM_ALL) {
        const ap_directive_t *sec = fx_level_of(decisive->where);
        const char *alt = NULL;
        const char *kind = sec && sec->args
            ? fx_protect_classify(r->filename, sec->args, &alt) : NULL;
        const char *named = fx_az_protection_of(r->filename ? r->filename
                                                            : r->uri);
        const char *prot = kind ? kind : named;
        if (!alt && prot) {
            alt = fx_protect_alternative(prot);
        }
        a.protection = named;
        if (prot && alt && !req_blocker) {
            /* `Deny from all` in a recognised protection (Sucuri's older
             * <Files *.php> in uploads, a <Files ".env">): working as
             * intended; an "Allow from" would open every such file of the
             * section to this client */
            a.protection = prot;
            a.fix = NULL;
            a.verified = 0;
            a.unverified = "a deliberate protection: no change is proposed";
            a.hint = apr_pstrcat(p, "`", text, "` in ", fx_dtext(p, sec),
                                 " (", sec->filename, ":",
                                 apr_itoa(p, sec->line_num), "): ", alt,
                                 NULL);
        }
    }
    fx_az_advice_facts(p, &a, out);
}

/* mod_access_compat's check replayed for r over the lines in effect (the
 * last section holding any of its directives is the whole set: it has no
 * merger): what the Order line says, the first Allow and Deny lines that
 * match the client, and the Allow lines tried.  0 when none is in effect. */
typedef struct {
    int order;
    const fx_shadow_rec *order_rec, *allow_rec, *deny_rec;
    const fx_cm_item *deny_it;      /* the Deny line's item that matched */
    const char *allows;             /* "`Allow x` (file:line), ..." */
    const char *host;               /* the client's name, if looked up */
} fx_cm_replay;

static int fx_cm_replay_of(request_rec *r, apr_pool_t *p, fx_cm_replay *rp)
{
    apr_array_header_t *all = fx_records_find(p, r, NULL);
    const fx_shadow_rec *last = NULL;
    apr_int64_t bit = AP_METHOD_BIT << r->method_number;
    fx_cm_client c;
    int i, hs = 0;

    memset(rp, 0, sizeof(*rp));
    rp->order = FX_CM_DENY_ALLOW;
    for (i = 0; i < all->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(all, i, const fx_shadow_rec *);
        if (fx_is_compat(rec)) {
            last = rec;
        }
    }
    if (!last) {
        return 0;
    }
    c.addr = r->useragent_addr;
    c.env = fx_cm_env;
    c.host = fx_cm_host;
    c.baton = r;
    for (i = 0; i < all->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(all, i, const fx_shadow_rec *);
        apr_array_header_t *items;
        int m, allow;
        if (!fx_is_compat(rec) || !(rec->limited & bit)
            || !fx_same_level(rec->where, rec->in_htaccess, last->where,
                              last->in_htaccess)
            || !strcasecmp(rec->name, "Satisfy")) {
            continue;
        }
        if (!strcasecmp(rec->name, "order")) {
            int o = fx_cm_order_of(p, rec->args);
            if (o >= 0) {
                rp->order = o;
                rp->order_rec = rec;
            }
            continue;
        }
        items = fx_cm_parse(p, rec->args);
        if (!items) {
            continue;
        }
        allow = !strcasecmp(rec->name, "allow");
        if (allow) {
            rp->allows = apr_psprintf(p, "%s%s`Allow %s` (%s:%d)",
                                      rp->allows ? rp->allows : "",
                                      rp->allows ? ", " : "",
                                      rec->args, rec->file, rec->line);
        }
        if (allow ? rp->allow_rec != NULL : rp->deny_rec != NULL) {
            continue;
        }
        m = fx_cm_first_match(items, &c, &hs, &rp->host);
        if (m < 0) {
            continue;
        }
        if (allow) {
            rp->allow_rec = rec;
        }
        else {
            rp->deny_rec = rec;
            rp->deny_it = &APR_ARRAY_IDX(items, m, fx_cm_item);
        }
    }
    return 1;
}

static void fx_az_explain_compat(request_rec *r, apr_pool_t *p,
                                 apr_array_header_t *out)
{
    const fx_shadow_rec *order_rec, *allow_rec, *deny_rec, *decisive;
    const fx_cm_item *deny_it, *it;
    const char *allows, *host, *detail, *hint, *text;
    fx_cm_replay rp;
    int order;

    if (!fx_cm_replay_of(r, p, &rp)) {
        fx_fact(out, "decided_by", "unknown", 0);
        return;
    }
    order = rp.order;
    order_rec = rp.order_rec;
    allow_rec = rp.allow_rec;
    deny_rec = rp.deny_rec;
    deny_it = rp.deny_it;
    allows = rp.allows;
    host = rp.host;
    if (!fx_cm_denied(order, allow_rec != NULL, deny_rec != NULL)) {
        fx_fact(out, "decided_by", "unknown", 0);
        fx_fact(out, "detail", "Re-evaluating Order/Allow/Deny for this "
                "request does not reproduce mod_access_compat's denial; no "
                "line is named.", 0);
        return;
    }
    if (deny_rec) {
        decisive = deny_rec;
        it = deny_it;
        text = apr_pstrcat(p, "Deny ", deny_rec->args, NULL);
        detail = apr_psprintf(p, "`%s` matched the client (by '%s')%s; "
                              "Order %s%s.", text, it->word,
                              allow_rec ? "" : " and no Allow line matched",
                              fx_cm_order_name(order),
                              order_rec ? "" : " (the default)");
        if (order == FX_CM_ALLOW_DENY && allow_rec) {
            detail = apr_psprintf(p, "%s `Allow %s` matched too, but with "
                                  "Order allow,deny a matching Deny wins.",
                                  detail, allow_rec->args);
        }
        hint = apr_psprintf(p, "the client %s matched `%s`; remove '%s' from "
                            "that line%s, or migrate the section to Require",
                            r->useragent_ip, text, it->word,
                            order == FX_CM_DENY_ALLOW
                            ? apr_psprintf(p, " or add `Allow from %s`",
                                           r->useragent_ip) : "");
    }
    else {
        decisive = order_rec;
        it = NULL;
        text = apr_pstrcat(p, "Order ", order_rec->args, NULL);
        detail = apr_psprintf(p, "No Allow line matched the client%s%s; with "
                              "`%s` a client that no Allow matches is denied.",
                              allows ? " (tried: " : " (there is none",
                              allows ? apr_pstrcat(p, allows, ")", NULL) : ")",
                              text);
        hint = apr_psprintf(p, "the client %s matched no Allow line; add "
                            "`Allow from %s` to this section, or migrate it "
                            "to Require", r->useragent_ip, r->useragent_ip);
    }
    fx_fact(out, "decided_by", "rule", 0);
    fx_fact(out, "directive", text, 0);
    fx_fact(out, "file", decisive->file, 0);
    fx_fact(out, "line", apr_itoa(p, decisive->line), 0);
    fx_fact(out, "section", fx_section_of(p, decisive->where,
                                          decisive->in_htaccess), 0);
    if (it) {
        fx_fact(out, "matched", it->word, 0);
        if (it->type == FX_CM_ENV || it->type == FX_CM_NENV) {
            fx_fact(out, "rule_saw", "env", 0);
            fx_fact(out, "env", fx_az_env_facts(r, p, it->name), 0);
            {
                const ap_directive_t *eff[1];
                eff[0] = decisive->where;
                (void)fx_az_env_origin(r, p, it->name, eff, eff[0] ? 1 : 0,
                                       out);
            }
        }
        else if (it->type == FX_CM_HOST) {
            fx_fact(out, "rule_saw", "remote_host", 0);
            fx_fact(out, "remote_host", host ? host : "(none)", 0);
        }
        else if (it->type == FX_CM_IP) {
            fx_fact(out, "rule_saw", "client_ip", 0);
        }
        else {
            fx_fact(out, "rule_saw", "nothing (the line applies to every "
                    "client)", 0);
        }
    }
    else {
        fx_fact(out, "rule_saw", "client_ip", 0);
    }
    fx_fact(out, "detail", detail, 0);
    if (fx_state_get(r) && fx_state_get(r)->cheap) {
        return;                     /* fx_repeat.c: only the cause needed */
    }
    fx_az_advise_compat(r, p, decisive, text, order, order_rec, allow_rec,
                        deny_rec, it, hint, out);
}

/* -------------------------------------------------------------------- */
/* entry points                                                          */

static apr_array_header_t *fx_az_analyze(request_rec *r, fx_req_state *st,
                                         const char *module, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 12, sizeof(fx_az_fact));
    if (module && !strcmp(module, "mod_access_compat.c")) {
        fx_az_explain_compat(r, p, out);
    }
    else if (module && !strcmp(module, "mod_authz_core.c")) {
        fx_az_explain_require(r, st, p, out);
    }
    return out;
}

void fx_authz_subrequest_denied(request_rec *sub, fx_req_state *main_st)
{
    fx_req_state *st = fx_state_get(sub);

    main_st->sub_authz_trail = NULL;
    if (!st || !st->has_origin || st->origin.status != HTTP_FORBIDDEN
        || !sub->main) {
        return;
    }
    if (!st->origin.module
        || (strcmp(st->origin.module, "mod_authz_core.c")
            && strcmp(st->origin.module, "mod_access_compat.c"))) {
        return;
    }
    /* The sub-request's pool (and any .htaccess parsed in it) dies before
     * the main request is explained: everything goes to the main's pool. */
    main_st->sub_authz_trail = fx_az_analyze(sub, st, st->origin.module,
                                             sub->main->pool);
}

void fx_authz_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                      fx_entry *e)
{
    const char *reason = fx_entry_get(e, "reason");
    const apr_array_header_t *facts;
    int i;

    if (!reason || (strcmp(reason, "authz") && strcmp(reason, "access-compat"))) {
        return;
    }
    if (fx_entry_get(e, "subrequest_uri")) {
        facts = st->sub_authz_trail;
    }
    else {
        facts = fx_az_analyze(failed, st, fx_entry_get(e, "module"),
                              failed->pool);
    }
    for (i = 0; facts && i < facts->nelts; i++) {
        const fx_az_fact *f = &APR_ARRAY_IDX(facts, i, fx_az_fact);
        if (!f->value) {
            continue;
        }
        if (f->raw) {
            fx_entry_set_raw(e, f->key, f->value);
        }
        else if (!strcmp(f->key, FX_AZ_TRAIL_DECIDING)) {
            fx_entry_mark_deciding(e, "trail", atoi(f->value));
        }
        else if (!strcmp(f->key, "trail_omitted")) {
            /* an integer, so that the size policy adds the trail items it
             * leaves out to this count (a raw value is left as it is) */
            fx_entry_set_int(e, f->key, apr_atoi64(f->value));
        }
        else if (!strcmp(f->key, "trail_calls")
                 || !strcmp(f->key, "responsible_count")) {
            /* counts travel as JSON numbers, like the trail they describe
             * (the problem+json rendering passes raw values through) */
            fx_entry_set_raw(e, f->key, apr_itoa(r->pool, (int)apr_atoi64(
                                                 f->value)));
        }
        else if (!strcmp(f->key, "line")) {
            fx_entry_set_int(e, f->key, apr_atoi64(f->value));
        }
        else {
            fx_entry_set(e, f->key, f->value);
        }
    }
}

void fx_authz_register_hooks(apr_pool_t *p)
{
    (void)p;
    /* After every other pre_config: all providers of loaded modules exist,
     * no Require has been parsed. */
    ap_hook_pre_config(fx_az_pre_config, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_post_config(fx_az_post_config, NULL, NULL, APR_HOOK_REALLY_LAST);
    /* The start of each Require evaluation is seen by the phase runners
     * (fx_authz_begin, fx_authz_second_pass): no auth hook of this module,
     * so httpd's per-configuration auth optimisation is unchanged. */
}

/* -------------------------------------------------------------------- */
/* for the report-only rules (fx_reportonly.c)                           */

const authz_provider *fx_authz_unwrapped(const authz_provider *prov)
{
    if (prov && fx_az_is_wrapper(prov)) {
        return fx_az_slots[(const authz_provider *)prov - fx_az_wrappers].orig;
    }
    return prov;
}

int fx_authz_quiet(conn_rec *c, int on)
{
    fx_az_pending_t *pd = fx_az_pending_of(c, on);
    int was = pd ? pd->quiet : 0;
    if (pd) {
        pd->quiet = on;
    }
    return was;
}

void fx_authz_rule_saw(request_rec *r, apr_pool_t *p, const ap_directive_t *d,
                       int negate, int result, fx_entry *e)
{
    fx_az_rule rule;
    fx_az_view v;
    apr_array_header_t *out = apr_array_make(p, 6, sizeof(fx_az_fact));
    const ap_directive_t *eff[1];
    const char *hint = NULL;
    int i;

    memset(&rule, 0, sizeof(rule));
    memset(&v, 0, sizeof(v));
    rule.magic = &fx_az_magic;
    rule.d = d;
    rule.negate = negate;
    v.rule = &rule;
    v.d = d;
    v.result = result;
    v.text = fx_dtext(p, d);
    eff[0] = d;
    fx_az_attribute(r, p, &v, out, &hint, eff, 1);
    for (i = 0; i < out->nelts; i++) {
        const fx_az_fact *f = &APR_ARRAY_IDX(out, i, fx_az_fact);
        if (!f->value) {
            continue;
        }
        if (f->raw) {
            fx_entry_set_raw(e, f->key, f->value);
        }
        else {
            fx_entry_set(e, f->key, f->value);
        }
    }
}

/* -------------------------------------------------------------------- */
/* fx_whatif.c: why a simulated request was allowed                      */

/* The Require rules that granted r (kept for simulated requests even when
 * all granted): *granted a JSON array of {directive, file, line, section,
 * mechanism, effect}, *trail the trail as in an entry (both log-safe
 * JSON).  Returns the number of granting rules, 0 when no Require was
 * evaluated, -1 when the rules seen do not reproduce a grant. */
int fx_authz_granted(request_rec *r, apr_pool_t *p, const char **granted,
                     const char **trail)
{
    fx_req_state *st;
    const apr_array_header_t *t;
    apr_array_header_t *resp;
    fx_az_node *root;
    const char *json = "[";
    int i, last_pass = 1, first_pass = 2, omitted, at;

    fx_authz_keep_pending(r);
    st = fx_state_get(r);
    t = st ? st->authz_trail : NULL;
    *granted = *trail = NULL;
    if (!t || !t->nelts) {
        return 0;
    }
    for (i = 0; i < t->nelts; i++) {
        const fx_az_step *s = &APR_ARRAY_IDX(t, i, fx_az_step);
        last_pass = s->pass > last_pass ? s->pass : last_pass;
        first_pass = s->pass < first_pass ? s->pass : first_pass;
    }
    *trail = fx_az_trail_json(r, p, t, first_pass != last_pass, -1,
                              &omitted, &at);
    root = fx_az_rebuild(r, p, t, last_pass);
    if (!root || fx_az_evaluate(root) != FX_AZ_GRANTED) {
        return -1;
    }
    resp = apr_array_make(p, 4, sizeof(int));
    fx_az_responsible(root, resp);
    for (i = 0; i < resp->nelts && i < FX_AZ_MAX_RESP; i++) {
        int k = APR_ARRAY_IDX(resp, i, int);
        const fx_az_step *s = &APR_ARRAY_IDX(t, k, fx_az_step);
        fx_az_view v = fx_az_view_of(r, p, t, k);
        json = apr_pstrcat(p, json, i ? "," : "", "{\"directive\":",
                           fx_jstr(p, v.text), ",\"file\":",
                           fx_jstr(p, v.d ? v.d->filename : NULL),
                           ",\"line\":", apr_itoa(p, v.d ? v.d->line_num : 0),
                           ",\"section\":",
                           fx_jstr(p, v.d ? fx_section_of(p, v.d,
                                                          s->rule->in_htaccess)
                                          : NULL),
                           ",\"mechanism\":\"authz\",\"effect\":\"",
                           fx_az_result_name(fx_az_effect(s->rule, s->result)),
                           "\"}", NULL);
    }
    *granted = apr_pstrcat(p, json, "]", NULL);
    return resp->nelts;
}

/* fx_whatif.c: the line that let an allowed request through
 * mod_access_compat (the Allow line that matched, else the Order line whose
 * default admits it), replayed as fx_az_explain_compat replays a denial:
 * a log-safe JSON object, or NULL when no Order/Allow/Deny is in effect or
 * the replay does not say allowed. */
const char *fx_authz_compat_granted(request_rec *r, apr_pool_t *p)
{
    const fx_shadow_rec *g;
    fx_cm_replay rp;

    if (!fx_cm_replay_of(r, p, &rp)) {
        return NULL;
    }
    if (fx_cm_denied(rp.order, rp.allow_rec != NULL, rp.deny_rec != NULL)) {
        return NULL;
    }
    g = rp.allow_rec ? rp.allow_rec : rp.order_rec;
    if (!g) {
        return "{\"directive\":\"Order Deny,Allow (the default: no Deny "
               "line matched)\",\"mechanism\":\"access-compat\","
               "\"effect\":\"granted\"}";
    }
    return apr_pstrcat(p, "{\"directive\":",
                       fx_jstr(p, apr_pstrcat(p, g->name, " ", g->args, NULL)),
                       ",\"file\":", fx_jstr(p, g->file),
                       ",\"line\":", apr_itoa(p, g->line),
                       ",\"section\":", fx_jstr(p, fx_section_of(p, g->where,
                                                          g->in_htaccess)),
                       ",\"mechanism\":\"access-compat\",\"effect\":\"granted\"}",
                       NULL);
}
