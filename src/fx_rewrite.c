/* fx_rewrite.c — explains 403s from mod_rewrite: RewriteRule [F] / [R=403]
 * in server and virtual-host context (translate_name) and in <Directory>,
 * <Location> and .htaccess context (fixups), the %3f safety check (AH10508)
 * and the FollowSymLinks requirement (AH00670).
 *
 * mod_rewrite keeps no file:line and does not say which rule fired, so once
 * the 403 is certain the rules in effect are replayed (fx_rwmatch.c) over
 * the RewriteRule/RewriteCond lines the shadow directives recorded.  A rule
 * is named only when the replay reproduces the 403; otherwise the entry says
 * why it could not.  Nothing here runs for requests that are not 403. */
#include <string.h>
#include "fx_private.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_hash.h"
#include "apr_thread_mutex.h"
#include "ap_regex.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "fx_json.h"
#include "fx_rwmatch.h"

/* ------------------------------------------------------------------ */
/* the request as the replay sees it                                   */

/* Compiled patterns, per child.  The replay matches the rules' own
 * patterns, which the configuration (and the .htaccess files) fix:
 * compiling one per 403 cost more than all the rest of the replay.  Bounded,
 * so .htaccess edits over a child's life cannot grow it without end;
 * compiled under the lock, which only a pattern's first use takes long. */
#define FX_RE_CACHE_MAX 256
static apr_thread_mutex_t *fx_re_lock;
static apr_pool_t *fx_re_pool;
static apr_hash_t *fx_re_cache;

static ap_regex_t *fx_rw_compiled(request_rec *r, const char *pattern,
                                  int nocase)
{
    int flags = AP_REG_EXTENDED | (nocase ? AP_REG_ICASE : 0);
    const char *key = apr_pstrcat(r->pool, nocase ? "i" : "-", pattern, NULL);
    ap_regex_t *re = NULL;

    if (fx_re_cache) {
        apr_thread_mutex_lock(fx_re_lock);
        re = apr_hash_get(fx_re_cache, key, APR_HASH_KEY_STRING);
        if (!re && apr_hash_count(fx_re_cache) < FX_RE_CACHE_MAX) {
            re = ap_pregcomp(fx_re_pool, pattern, flags);
            if (re) {
                apr_hash_set(fx_re_cache, apr_pstrdup(fx_re_pool, key),
                             APR_HASH_KEY_STRING, re);
            }
        }
        apr_thread_mutex_unlock(fx_re_lock);
    }
    return re ? re : ap_pregcomp(r->pool, pattern, flags);
}

static void fx_rewrite_child_init(apr_pool_t *pchild, server_rec *s)
{
    (void)s;
    if (apr_pool_create(&fx_re_pool, pchild) == APR_SUCCESS
        && apr_thread_mutex_create(&fx_re_lock, APR_THREAD_MUTEX_DEFAULT,
                                   pchild) == APR_SUCCESS) {
        fx_re_cache = apr_hash_make(fx_re_pool);
    }
}

static int fx_rw_regex(void *baton, const char *pattern, int nocase,
                       const char *subject, fx_rw_caps *caps)
{
    request_rec *r = baton;
    ap_regmatch_t m[FX_RW_NCAP];
    ap_regex_t *re = fx_rw_compiled(r, pattern, nocase);
    int i;

    if (!re) {
        return -1;
    }
    if (ap_regexec(re, subject, FX_RW_NCAP, m, 0) != 0) {
        return 0;
    }
    for (i = 0; caps && i < FX_RW_NCAP; i++) {
        caps->so[i] = m[i].rm_so;
        caps->eo[i] = m[i].rm_eo;
    }
    return 1;
}

static const char *fx_hdr(request_rec *r, const char *name)
{
    const char *v = apr_table_get(r->headers_in, name);
    return v ? v : "";
}

static const char *fx_or_empty(const char *s)
{
    return s ? s : "";
}

/* The subset of mod_rewrite's lookup_variable whose value is still the one
 * the rule saw; anything else returns NULL so the replay stops honestly. */
static const char *fx_rw_var(void *baton, const char *var,
                             const char *filename, const char *args)
{
    request_rec *r = baton;
    static const struct { const char *var, *header; } headers[] = {
        { "HTTP_USER_AGENT", "User-Agent" }, { "HTTP_REFERER", "Referer" },
        { "HTTP_COOKIE", "Cookie" }, { "HTTP_FORWARDED", "Forwarded" },
        { "HTTP_HOST", "Host" }, { "HTTP_PROXY_CONNECTION", "Proxy-Connection" },
        { "HTTP_ACCEPT", "Accept" },
    };
    apr_size_t i;

    if (!strncasecmp(var, "HTTP:", 5) && var[5]) {
        return fx_hdr(r, var + 5);
    }
    if (!strncasecmp(var, "ENV:", 4) && var[4]) {
        const char *v = apr_table_get(r->notes, var + 4);
        if (!v) {
            v = apr_table_get(r->subprocess_env, var + 4);
        }
        if (!v) {
            v = getenv(var + 4);
        }
        return fx_or_empty(v);
    }
    if (!strncasecmp(var, "SSL:", 4) && var[4]) {
        return fx_or_empty(ap_ssl_var_lookup(r->pool, r->server, r->connection,
                                             r, var + 4));
    }
    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        if (!strcmp(var, headers[i].var)) {
            return fx_hdr(r, headers[i].header);
        }
    }
    if (!strcmp(var, "REQUEST_FILENAME") || !strcmp(var, "SCRIPT_FILENAME")) {
        return fx_or_empty(filename);
    }
    if (!strcmp(var, "QUERY_STRING")) {
        return fx_or_empty(args);
    }
    if (!strcmp(var, "REQUEST_URI")) {
        return fx_or_empty(r->uri);
    }
    if (!strcmp(var, "REMOTE_ADDR")) {
        return fx_or_empty(r->useragent_ip);
    }
    if (!strcmp(var, "REMOTE_PORT")) {
        return apr_itoa(r->pool, r->connection->client_addr->port);
    }
    if (!strcmp(var, "REMOTE_USER")) {
        return fx_or_empty(r->user);
    }
    if (!strcmp(var, "REQUEST_METHOD")) {
        return r->method;
    }
    if (!strcmp(var, "REQUEST_SCHEME")) {
        return ap_http_scheme(r);
    }
    if (!strcmp(var, "THE_REQUEST")) {
        return fx_or_empty(r->the_request);
    }
    if (!strcmp(var, "SERVER_NAME")) {
        return ap_get_server_name_for_url(r);
    }
    if (!strcmp(var, "SERVER_PORT")) {
        return apr_psprintf(r->pool, "%u", ap_get_server_port(r));
    }
    if (!strcmp(var, "SERVER_ADDR")) {
        return r->connection->local_ip;
    }
    if (!strcmp(var, "SERVER_PROTOCOL")) {
        return fx_or_empty(r->protocol);
    }
    if (!strcmp(var, "SERVER_ADMIN")) {
        return fx_or_empty(r->server->server_admin);
    }
    if (!strcmp(var, "DOCUMENT_ROOT")) {
        return ap_document_root(r);
    }
    if (!strcmp(var, "CONTEXT_PREFIX")) {
        return fx_or_empty(ap_context_prefix(r));
    }
    if (!strcmp(var, "CONTEXT_DOCUMENT_ROOT")) {
        return fx_or_empty(ap_context_document_root(r));
    }
    if (!strcmp(var, "HTTPS")) {
        return ap_ssl_conn_is_ssl(r->connection) ? "on" : "off";
    }
    if (!strcmp(var, "IS_SUBREQ")) {
        return r->main ? "true" : "false";
    }
    if (!strcmp(var, "AUTH_TYPE")) {
        return fx_or_empty(r->ap_auth_type);
    }
    if (!strcmp(var, "PATH_INFO")) {
        return fx_or_empty(r->path_info);
    }
    return NULL;
}

static int fx_rw_filetest(void *baton, char op, const char *path)
{
    request_rec *r = baton;
    apr_finfo_t fi;
    apr_int32_t want = APR_FINFO_MIN | (op == 'l' ? APR_FINFO_LINK : 0)
                       | (op == 'x' ? APR_FINFO_PROT : 0);

    if (apr_stat(&fi, path, want, r->pool) != APR_SUCCESS) {
        return 0;
    }
    switch (op) {
    case 'f': return fi.filetype == APR_REG;
    case 's': return fi.filetype == APR_REG && fi.size > 0;
    case 'd': return fi.filetype == APR_DIR;
    case 'l': return fi.filetype == APR_LNK;
    case 'x': return (fi.protection
                      & (APR_UEXECUTE | APR_GEXECUTE | APR_WEXECUTE)) != 0;
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* which recorded lines mod_rewrite used                               */

static int fx_is_rewrite(const fx_shadow_rec *rec)
{
    return !strcasecmp(rec->name, "RewriteRule")
           || !strcasecmp(rec->name, "RewriteCond")
           || !strcasecmp(rec->name, "RewriteOptions")
           || !strcasecmp(rec->name, "RewriteEngine");
}

static int fx_in_vhost(const fx_shadow_rec *rec)
{
    const ap_directive_t *d;
    for (d = rec->where ? rec->where->parent : NULL; d; d = d->parent) {
        if (!strcasecmp(d->directive, "<VirtualHost")) {
            return 1;
        }
    }
    return 0;
}

/* Does this section's RewriteOptions contain word (e.g. "Inherit"; NULL:
 * any RewriteOptions at all)? */
static int fx_has_option(apr_array_header_t *recs, const char *word)
{
    int i;
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
        char *args, *w, *last;
        if (strcasecmp(rec->name, "RewriteOptions")) {
            continue;
        }
        args = apr_pstrdup(recs->pool, rec->args);
        for (w = apr_strtok(args, " \t", &last); w;
             w = apr_strtok(NULL, " \t", &last)) {
            if (!word || !strcasecmp(w, word)) {
                return 1;
            }
        }
    }
    return 0;
}

typedef struct {
    apr_array_header_t *recs;       /* const fx_shadow_rec *, in order */
    const char *perdir;             /* NULL: server context */
} fx_ruleset;

/* Rules of r's virtual host (or main server) as mod_rewrite merged them. */
static fx_ruleset fx_server_rules(apr_pool_t *p, apr_array_header_t *all,
                                  request_rec *r)
{
    apr_array_header_t *main = apr_array_make(p, 8, sizeof(void *));
    apr_array_header_t *vh = apr_array_make(p, 8, sizeof(void *));
    fx_ruleset rs = { NULL, NULL };
    int i;

    for (i = 0; i < all->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(all, i, const fx_shadow_rec *);
        if (!fx_is_rewrite(rec) || rec->dir_path || rec->in_htaccess) {
            continue;
        }
        APR_ARRAY_PUSH(fx_in_vhost(rec) ? vh : main, const fx_shadow_rec *) = rec;
    }
    if (!r->server->is_virtual) {
        rs.recs = main;
    }
    else {
        /* RewriteOptions of the vhost, else those inherited from main. */
        apr_array_header_t *opts = fx_has_option(vh, NULL) ? vh : main;
        int ignore = fx_has_option(opts, "IgnoreInherit");
        if (fx_has_option(opts, "Inherit")
            || (fx_has_option(main, "InheritDown") && !ignore)) {
            rs.recs = apr_array_append(p, vh, main);
        }
        else if (fx_has_option(opts, "InheritBefore")
                 || (fx_has_option(main, "InheritDownBefore") && !ignore)) {
            rs.recs = apr_array_append(p, main, vh);
        }
        else {
            rs.recs = vh;
        }
    }
    return rs;
}

/* Per-directory rules: records of the innermost section (or .htaccess)
 * holding rewrite directives, plus its parents' under RewriteOptions
 * Inherit / InheritBefore (mod_rewrite's config_perdir_merge). */
static fx_ruleset fx_perdir_rules(apr_pool_t *p, apr_array_header_t *all)
{
    apr_array_header_t *groups = apr_array_make(p, 4, sizeof(void *));
    apr_array_header_t *cur = NULL;
    const fx_shadow_rec *prev = NULL;
    fx_ruleset rs = { NULL, NULL };
    int i;

    for (i = 0; i < all->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(all, i, const fx_shadow_rec *);
        if (!fx_is_rewrite(rec) || (!rec->dir_path && !rec->in_htaccess)) {
            continue;
        }
        if (!prev || prev->in_htaccess != rec->in_htaccess
            || apr_strnatcmp(fx_or_empty(prev->dir_path),
                             fx_or_empty(rec->dir_path)) != 0
            || (!rec->in_htaccess && prev->where && rec->where
                && prev->where->parent != rec->where->parent)) {
            cur = apr_array_make(p, 8, sizeof(void *));
            APR_ARRAY_PUSH(groups, apr_array_header_t *) = cur;
        }
        APR_ARRAY_PUSH(cur, const fx_shadow_rec *) = rec;
        prev = rec;
    }
    if (!groups->nelts) {
        return rs;
    }
    i = groups->nelts - 1;
    cur = APR_ARRAY_IDX(groups, i, apr_array_header_t *);
    rs.recs = cur;
    {
        const fx_shadow_rec *first = APR_ARRAY_IDX(cur, 0, const fx_shadow_rec *);
        apr_size_t len = strlen(first->dir_path);
        rs.perdir = (len && first->dir_path[len - 1] == '/')
                    ? first->dir_path
                    : apr_pstrcat(p, first->dir_path, "/", NULL);
    }
    while (i > 0 && (fx_has_option(cur, "Inherit")
                     || fx_has_option(cur, "InheritBefore"))) {
        int before = fx_has_option(cur, "InheritBefore");
        cur = APR_ARRAY_IDX(groups, --i, apr_array_header_t *);
        rs.recs = before ? apr_array_append(p, cur, rs.recs)
                         : apr_array_append(p, rs.recs, cur);
    }
    return rs;
}

/* ------------------------------------------------------------------ */
/* the entry                                                           */

static const char *fx_rec_section(apr_pool_t *p, const fx_shadow_rec *rec)
{
    const char *chain = fx_section_chain(p, rec->where);
    if (chain) {
        return chain;
    }
    if (rec->in_htaccess) {
        return apr_pstrcat(p, ".htaccess of ", fx_or_empty(rec->dir_path),
                           NULL);
    }
    return "server config";
}

static void fx_set_directive(apr_pool_t *p, fx_entry *e,
                             const fx_shadow_rec *rec)
{
    fx_entry_set(e, "directive", apr_pstrcat(p, rec->name, " ", rec->args,
                                             NULL));
    if (rec->file) {
        fx_entry_set(e, "file", rec->file);
        fx_entry_set_int(e, "line", rec->line);
    }
    fx_entry_set(e, "section", fx_rec_section(p, rec));
}

/* Conditions listed at most; the entry builder shortens the list further
 * to fit a document, keeping the deciding ones (fx_entry.h). */
#define FX_MAX_CONDS 64

/* conditions: [{"directive":..,"file":..,"line":N,"tested":..,"result":B}]
 * as a list whose deciding items are the conditions that held (the chain
 * that made the rule apply); conditions_omitted counts those past
 * FX_MAX_CONDS. */
static void fx_set_conditions(apr_pool_t *p, fx_entry *e,
                              apr_array_header_t *recs,
                              const fx_rw_result *res)
{
    int i, n = res->conds ? res->conds->nelts : 0;
    apr_array_header_t *items = apr_array_make(p, n ? n : 1, sizeof(char *));
    apr_array_header_t *held = apr_array_make(p, n ? n : 1, sizeof(int));

    for (i = 0; i < n && i < FX_MAX_CONDS; i++) {
        const fx_rw_cond_eval *ev = &APR_ARRAY_IDX(res->conds, i,
                                                   fx_rw_cond_eval);
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, ev->line,
                                                 const fx_shadow_rec *);
        APR_ARRAY_PUSH(items, char *) = apr_psprintf(p,
            "{\"directive\":%s,\"file\":%s,\"line\":%d,\"tested\":%s,"
            "\"result\":%s}",
            fx_json_quote(p, apr_pstrcat(p, rec->name, " ", rec->args, NULL),
                          0, NULL),
            fx_json_quote(p, fx_or_empty(rec->file), 0, NULL), rec->line,
            fx_json_quote(p, ev->tested ? ev->tested : "", 0, NULL),
            ev->result ? "true" : "false");
        APR_ARRAY_PUSH(held, int) = ev->result;
    }
    fx_entry_set_list(e, "conditions", items, held);
    if (n > FX_MAX_CONDS) {
        fx_entry_set_int(e, "conditions_omitted", n - FX_MAX_CONDS);
    }
}

/* Does the rule's flags field hold R=<code> (not F)? */
static int fx_rule_flag_is_r(apr_pool_t *p, const char *args)
{
    char *w[3];
    const char *f;
    if (fx_rw_split(p, args, w) < 3) {
        return 0;
    }
    for (f = w[2]; *f; f++) {
        if ((*f == 'R' || *f == 'r') && (f[1] == '=')
            && (f == w[2] || f[-1] == '[' || f[-1] == ',')) {
            return 1;
        }
    }
    return 0;
}

static void fx_rewrite_replay(request_rec *r, request_rec *failed,
                              const fx_origin *cause, int via_subreq,
                              fx_entry *e, int want_unsafe)
{
    apr_pool_t *p = r->pool;
    apr_array_header_t *all = fx_shadow_find(p, fx_dir_get(failed), NULL);
    int server_ctx = cause->phase && !strcmp(cause->phase, "translate_name");
    fx_ruleset rs = server_ctx ? fx_server_rules(p, all, failed)
                               : fx_perdir_rules(p, all);
    fx_rw_line *lines;
    fx_rw_ops ops = { fx_rw_regex, fx_rw_var, fx_rw_filetest, NULL };
    fx_rw_result res;
    const char *start;
    int i, group = 0;

    if (!rs.recs || !rs.recs->nelts) {
        fx_entry_set(e, "detail", apr_psprintf(p, "mod_rewrite returned 403 "
                     "in the %s phase, but no RewriteRule recorded for this "
                     "context explains it.", cause->phase));
        return;
    }
    lines = apr_pcalloc(p, sizeof(*lines) * rs.recs->nelts);
    for (i = 0; i < rs.recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(rs.recs, i,
                                                 const fx_shadow_rec *);
        const fx_shadow_rec *prev = i ? APR_ARRAY_IDX(rs.recs, i - 1,
                                                      const fx_shadow_rec *)
                                      : NULL;
        /* Conditions attach to a rule of their own section only. */
        if (prev && (prev->dir_path != rec->dir_path
                     || fx_in_vhost(prev) != fx_in_vhost(rec)
                     || (prev->where && rec->where
                         && prev->where->parent != rec->where->parent))) {
            group++;
        }
        lines[i].name = rec->name;
        lines[i].args = rec->args;
        lines[i].group = group;
    }
    ops.baton = failed;
    /* Per-dir rules run on the file name as it was when mod_rewrite's
     * fixup started; earlier rules of the list may have changed it since. */
    start = server_ctx ? failed->uri
                       : (cause->filename_in ? cause->filename_in
                                             : cause->filename);
    fx_rw_evaluate(p, lines, rs.recs->nelts, rs.perdir, start,
                   server_ctx || via_subreq ? NULL : failed->path_info,
                   failed->args, via_subreq, &ops, &res);

    if (res.outcome == FX_RW_FOUND && res.status == HTTP_FORBIDDEN
        && res.unsafe_qmark == want_unsafe) {
        const fx_shadow_rec *rule = APR_ARRAY_IDX(rs.recs, res.rule,
                                                  const fx_shadow_rec *);
        int nconds = res.conds ? res.conds->nelts : 0;
        fx_set_directive(p, e, rule);
        fx_entry_set(e, "rewrite_subject", res.subject);
        fx_set_conditions(p, e, rs.recs, &res);
        if (res.unsafe_qmark) {
            fx_entry_set(e, "detail", apr_psprintf(p, "The substitution of "
                "this RewriteRule put a '?' that came from the URL (an encoded "
                "%%3f) into the rewritten path; mod_rewrite refuses that "
                "without the UnsafeAllow3F flag (AH10508)."));
            fx_entry_set(e, "hint", "Add the UnsafeAllow3F flag to this rule "
                         "only if the backreference may contain '?', or "
                         "anchor the pattern so it does not capture it.");
        }
        else {
            fx_entry_set(e, "detail", apr_psprintf(p, "This RewriteRule "
                "matched '%s'%s, so its %s flag answered 403.", res.subject,
                nconds ? apr_psprintf(p, " and its RewriteCond lines held "
                                      "(%d evaluated, see conditions)", nconds)
                       : "",
                fx_rule_flag_is_r(p, rule->args) ? "[R=403]" : "[F]"));
            fx_entry_set(e, "hint", "Change this RewriteRule or its "
                         "RewriteCond lines if this request should be "
                         "allowed (for hotlink rules: add the referring "
                         "site to the allowed Referer pattern).");
        }
        return;
    }
    fx_entry_set(e, "detail", apr_psprintf(p, "mod_rewrite returned 403 in "
        "the %s phase; replaying the %d rewrite directives in effect %s, so "
        "no rule is named.", cause->phase, rs.recs->nelts,
        res.outcome == FX_RW_UNKNOWN
            ? apr_pstrcat(p, "stopped: ", res.why, NULL)
            : "did not reproduce the 403"));
}

void fx_rewrite_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                        fx_entry *e)
{
    const fx_origin *cause;
    int via_subreq = 0;

    cause = fx_state_cause(st, &via_subreq);
    if (!cause || cause->returned_ok || !cause->module
        || strcmp(cause->module, "mod_rewrite.c") != 0) {
        return;
    }

    if (fx_logged_find(st, 670)) {
        /* hook_fixup refuses per-directory rules before applying any. */
        apr_array_header_t *all = fx_shadow_find(r->pool, fx_dir_get(failed),
                                                 NULL);
        fx_ruleset rs = fx_perdir_rules(r->pool, all);
        int i;
        for (i = 0; rs.recs && i < rs.recs->nelts; i++) {
            const fx_shadow_rec *rec = APR_ARRAY_IDX(rs.recs, i,
                                                     const fx_shadow_rec *);
            if (!strcasecmp(rec->name, "RewriteEngine")) {
                fx_set_directive(r->pool, e, rec);
                break;
            }
        }
        fx_entry_set(e, "ah", "AH00670");
        fx_entry_set(e, "detail", "Per-directory rewrite rules are in effect "
                     "here, but Options FollowSymLinks and SymLinksIfOwnerMatch "
                     "are both off, so mod_rewrite refuses every request "
                     "(AH00670) before applying any rule.");
        fx_entry_set(e, "hint", "Add Options +SymLinksIfOwnerMatch (or "
                     "+FollowSymLinks) for this directory, or remove the "
                     "rewrite rules from it.");
        return;
    }
    fx_rewrite_replay(r, failed, cause, via_subreq, e,
                      fx_logged_find(st, 10508) != NULL);
}

void fx_waf_register_hooks(apr_pool_t *p);
void fx_ssl_register_hooks(apr_pool_t *p);

void fx_rewrite_register_hooks(apr_pool_t *p)
{
    ap_hook_child_init(fx_rewrite_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* The other explainers of this part that need a hook of their own. */
    fx_waf_register_hooks(p);
    fx_ssl_register_hooks(p);
}
