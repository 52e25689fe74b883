/* fx_rewrite.c — explains 403s from mod_rewrite: RewriteRule [F] / [R=403]
 * in server and virtual-host context (translate_name) and in <Directory>,
 * <Location> and .htaccess context (fixups), the %3f safety check (AH10508),
 * a rewritten query string with spaces or control characters
 * (AH10410/AH10411), [P] without mod_proxy (AH00669/AH10160) and the
 * FollowSymLinks requirement (AH00670).
 *
 * mod_rewrite keeps no file:line and does not say which rule fired, and its
 * rules change the request as they go ([E=], the file name, the query
 * string).  So two hooks of ours, ordered just before mod_rewrite's
 * translate_name and fixups hooks, remember a few pointers to what
 * mod_rewrite is about to see (on the thread, no allocation); when
 * mod_rewrite's hook then returns an error, the trampoline calls
 * fx_rewrite_origin_noted(), which keeps those inputs and the rule list in
 * effect, merged as mod_rewrite merges RewriteOptions.  Once the 403 is
 * certain the list is replayed from those inputs (fx_rwmatch.c).  A rule is
 * named only when the replay reproduces the 403; otherwise the entry says
 * why it could not. */
#include <string.h>
#include "fx_private.h"
#include "fx_version.h"
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

/* The environment's first entries are copied too (two pointers each, no
 * allocation): [E=] overwrites values in place, and a condition may read a
 * variable before a later rule of the same list changes it. */
#define FX_RW_ENV_SNAP 16

/* What mod_rewrite's hook was given, kept once it returned an error. */
typedef struct {
    const char *name, *args, *file;
    int line;
    int group;                      /* one section / .htaccess file */
    const char *section;            /* its chain, for the entry */
} fx_rw_rec;

typedef struct {
    int server_ctx;                 /* translate_name: server/vhost rules */
    int is_subreq;
    const char *uri, *filename, *path_info, *args;
    const char *perdir;             /* per-dir prefix (fixups) */
    int env_n;                      /* entries of subprocess_env at entry */
    const apr_table_entry_t *env_in; /* the first of them (env_in_n), as
                                      * they were at entry */
    int env_in_n;
    apr_table_t *env, *notes;       /* as the hook left them */
    apr_array_header_t *recs;       /* fx_rw_rec: the merged rule list */
    const fx_rw_rec *engine;        /* AH00670: its first RewriteEngine */
} fx_rw_saved;

typedef struct {
    fx_rw_saved *own, *sub;         /* this request's, its sub-request's */
} fx_rw_store;

/* Baton of the replay's callbacks: the request for what mod_rewrite does
 * not change (headers, connection, server), the saved inputs for the rest. */
typedef struct {
    request_rec *r;
    const fx_rw_saved *in;
    apr_table_t *touched;           /* names some [E=] of the list writes */
    int touched_any;                /* a name is computed or unset */
    const char *why;                /* a value that could not be known */
} fx_rw_baton;

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
    request_rec *r = ((fx_rw_baton *)baton)->r;
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

/* %{ENV:name} as mod_rewrite read it when its hook began: notes first,
 * then the environment, then the process's.  The copy taken at entry has
 * it when the table was small enough to copy whole; otherwise a variable no
 * [E=] of the list writes still has its value, and one it writes is known
 * only when it was absent before the hook (added at the end since). */
static const char *fx_rw_env(fx_rw_baton *b, const char *name)
{
    const apr_array_header_t *arr;
    const apr_table_entry_t *elts;
    const char *v = b->in->notes ? apr_table_get(b->in->notes, name) : NULL;
    int i;

    if (v) {
        return v;
    }
    if (!b->in->env) {
        return NULL;
    }
    if (b->in->env_n <= FX_RW_ENV_SNAP) {
        for (i = 0; i < b->in->env_in_n; i++) {
            const apr_table_entry_t *t = &b->in->env_in[i];
            if (t->key && !strcasecmp(t->key, name)) {
                return t->val ? t->val : "";
            }
        }
        return fx_or_empty(getenv(name));
    }
    if (!b->touched_any && !apr_table_get(b->touched, name)) {
        v = apr_table_get(b->in->env, name);
        return v ? v : fx_or_empty(getenv(name));
    }
    arr = apr_table_elts(b->in->env);
    elts = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts; i++) {
        if (elts[i].key && !strcasecmp(elts[i].key, name)) {
            break;
        }
    }
    if ((i == arr->nelts || i >= b->in->env_n)
        && !apr_table_get(b->touched, "!")) {
        return fx_or_empty(getenv(name));
    }
    if (!b->why) {
        b->why = apr_psprintf(b->r->pool, "%%{ENV:%s} was set before "
                              "mod_rewrite ran and an [E=] of these rules "
                              "may have changed it since", name);
    }
    return NULL;
}

/* The subset of mod_rewrite's lookup_variable whose value is still the one
 * the rule saw; anything else returns NULL so the replay stops honestly. */
static const char *fx_rw_var(void *baton, const char *var,
                             const char *filename, const char *args)
{
    fx_rw_baton *b = baton;
    request_rec *r = b->r;
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
        return fx_rw_env(b, var + 4);
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
        /* the (sub-)request's own, as its hook saw it */
        return fx_or_empty(b->in->uri);
    }
    if (!strcmp(var, "IS_SUBREQ")) {
        return b->in->is_subreq ? "true" : "false";
    }
    if (!strcmp(var, "PATH_INFO")) {
        return fx_or_empty(b->in->path_info);
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
    if (!strcmp(var, "AUTH_TYPE")) {
        return fx_or_empty(r->ap_auth_type);
    }
    /* TIME*, API_VERSION, REQUEST_STATUS, ...: not the value it saw */
    return NULL;
}

static int fx_rw_filetest(void *baton, char op, const char *path)
{
    request_rec *r = ((fx_rw_baton *)baton)->r;
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
/* RewriteMap definitions                                              */

/* RewriteMap is a server-context directive this module does not shadow:
 * its definitions are read from ap_conftree in post_config (pconf, each
 * generation).  name -> "type:source", or "" when virtual hosts define
 * the name differently. */
static apr_hash_t *fx_rw_maps;

static void fx_rw_collect_maps(apr_pool_t *p, const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "RewriteMap") && d->args) {
            const char *args = d->args;
            char *name = ap_getword_conf(p, &args);
            char *def = ap_getword_conf(p, &args);
            const char *had = apr_hash_get(fx_rw_maps, name,
                                           APR_HASH_KEY_STRING);
            apr_hash_set(fx_rw_maps, name, APR_HASH_KEY_STRING,
                         (had && strcmp(had, def)) ? "" : def);
        }
        if (d->first_child) {
            fx_rw_collect_maps(p, d->first_child);
        }
    }
}

static int fx_rewrite_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                  apr_pool_t *ptemp, server_rec *s)
{
    (void)plog; (void)ptemp; (void)s;
    fx_rw_maps = apr_hash_make(pconf);
    fx_rw_collect_maps(pconf, ap_conftree);
    return OK;
}

/* lookup_map_txtfile: the first line "key value" (no comment, no leading
 * space) gives the value. */
static const char *fx_rw_txt_lookup(apr_pool_t *p, const char *file,
                                    const char *key, const char **why)
{
    apr_file_t *f;
    char line[2048];
    apr_size_t kl = strlen(key);

    if (apr_file_open(&f, file, APR_READ | APR_BUFFERED, APR_OS_DEFAULT,
                      p) != APR_SUCCESS) {
        *why = apr_psprintf(p, "its file %s cannot be read", file);
        return NULL;
    }
    while (apr_file_gets(line, sizeof(line), f) == APR_SUCCESS) {
        char *v, *end;
        if (*line == '#' || apr_isspace(*line) || strncmp(line, key, kl)
            || !apr_isspace(line[kl]) || !kl) {
            continue;
        }
        for (v = line + kl; apr_isspace(*v); v++) {
        }
        for (end = v; *end && !apr_isspace(*end); end++) {
        }
        if (end == v) {
            continue;
        }
        apr_file_close(f);
        return apr_pstrmemdup(p, v, end - v);
    }
    apr_file_close(f);
    return NULL;
}

/* ${name:key} as mod_rewrite's lookup_map answers it, where the answer
 * does not depend on anything but the key and a file. */
static const char *fx_rw_map(void *baton, const char *name, const char *key,
                             const char **why)
{
    apr_pool_t *p = ((fx_rw_baton *)baton)->r->pool;
    const char *def = fx_rw_maps ? apr_hash_get(fx_rw_maps, name,
                                                APR_HASH_KEY_STRING) : NULL;
    if (!def) {
        *why = apr_psprintf(p, "no RewriteMap %s in the main configuration",
                            name);
        return NULL;
    }
    if (!*def) {
        *why = apr_psprintf(p, "RewriteMap %s is defined differently in "
                            "several virtual hosts", name);
        return NULL;
    }
    if (!strncasecmp(def, "int:", 4)) {
        char *v = apr_pstrdup(p, key);
        if (!strcasecmp(def + 4, "tolower")) {
            ap_str_tolower(v);
            return v;
        }
        if (!strcasecmp(def + 4, "toupper")) {
            ap_str_toupper(v);
            return v;
        }
        if (!strcasecmp(def + 4, "escape")) {
            return ap_escape_uri(p, key);
        }
        if (!strcasecmp(def + 4, "unescape")) {
            ap_unescape_url(v);
            return v;
        }
    }
    if (!strncasecmp(def, "txt:", 4)) {
        return fx_rw_txt_lookup(p, ap_server_root_relative(p, def + 4), key,
                                why);
    }
    *why = apr_psprintf(p, "RewriteMap %s is %s (%s)", name, def,
                        !strncasecmp(def, "prg:", 4)
                            ? "an external program's answer"
                        : !strncasecmp(def, "rnd:", 4) ? "a random choice"
                        : "a look-up this module does not repeat");
    return NULL;
}

/* ------------------------------------------------------------------ */
/* what mod_rewrite's hooks are given                                  */

/* What mod_rewrite's hook was given.  fx_trampoline.c calls mod_rewrite's
 * translate_name and fixups hooks through the wrappers below, which take
 * this snapshot on their own stack just before the call: an allowed request
 * pays these stores and nothing else (no hook of its own, no thread-local
 * access, no allocation).  Only when the hook returned an error or left a
 * 403 is the snapshot copied to fx_rw_in, read by fx_rewrite_origin_noted()
 * right after, on the same thread and before anything else runs. */
typedef struct {
    request_rec *r;
    apr_time_t request_time;        /* r's: an address is reused later */
    const char *phase;
    const char *uri, *filename, *path_info, *args;
    int env_n;
    apr_table_entry_t env[FX_RW_ENV_SNAP];
} fx_rw_entry;

static __thread fx_rw_entry fx_rw_in;

static APR_INLINE void fx_rw_remember(fx_rw_entry *in, request_rec *r,
                                      const char *phase)
{
    const apr_array_header_t *env = apr_table_elts(r->subprocess_env);
    const apr_table_entry_t *elts = (const apr_table_entry_t *)env->elts;
    int i, n = env->nelts < FX_RW_ENV_SNAP ? env->nelts : FX_RW_ENV_SNAP;

    in->r = r;
    in->request_time = r->request_time;
    in->phase = phase;
    in->uri = r->uri;
    in->filename = r->filename;
    in->path_info = r->path_info;
    in->args = r->args;
    in->env_n = env->nelts;
    for (i = 0; i < n; i++) {
        in->env[i] = elts[i];
    }
}

/* The snapshot is needed only for a 403 (fx_rewrite_origin_noted). */
static APR_INLINE int fx_rw_after(const fx_rw_entry *in, request_rec *r,
                                  int rv)
{
    if ((rv != OK && rv != DECLINED) || r->status == HTTP_FORBIDDEN) {
        size_t head = APR_OFFSETOF(fx_rw_entry, env);
        int n = in->env_n < FX_RW_ENV_SNAP ? in->env_n : FX_RW_ENV_SNAP;
        memcpy(&fx_rw_in, in, head + sizeof(apr_table_entry_t) * n);
    }
    return rv;
}

/* Per generation, set in post_config (the parent, before any child). */
static fx_hook_fn *fx_rw_orig_uri2file, *fx_rw_orig_fixup;

/* The wrappers run for every request; the snapshot's array is written with
 * bounded indexes only (FX_RW_ENV_SNAP), so the stack canary that
 * -fstack-protector-strong gives any function with a local array buys
 * nothing here. */
#if defined(__has_attribute)
#if __has_attribute(no_stack_protector)
#define FX_RW_NO_CANARY __attribute__((no_stack_protector))
#endif
#endif
#ifndef FX_RW_NO_CANARY
#define FX_RW_NO_CANARY
#endif

/* Where mod_rewrite has nothing to act on (fx_conftree.c marks the
 * servers and sections with its lines), its hook is called directly.  A
 * snapshot left by another request is never read for this one: the
 * request's address and start time must both be the snapshot's. */
static APR_INLINE int fx_rw_server_acts(const request_rec *r)
{
    const fx_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                    &forbidden_explain_module);
    return !sc || sc->rewrite;
}

/* The snapshot's frame is out of line: where mod_rewrite has nothing to
 * act on, the wrapper is a test and a call. */
static FX_RW_NO_CANARY int __attribute__((noinline))
fx_rw_seen_uri2file(request_rec *r)
{
    fx_rw_entry in;
    fx_rw_remember(&in, r, "translate_name");
    return fx_rw_after(&in, r, fx_rw_orig_uri2file(r));
}

static FX_RW_NO_CANARY int __attribute__((noinline))
fx_rw_seen_fixup(request_rec *r)
{
    fx_rw_entry in;
    fx_rw_remember(&in, r, "fixups");
    return fx_rw_after(&in, r, fx_rw_orig_fixup(r));
}

static int fx_rw_wrap_uri2file(request_rec *r)
{
    if (fx_rw_server_acts(r)) {
        return fx_rw_seen_uri2file(r);
    }
    return fx_rw_orig_uri2file(r);
}

static int fx_rw_wrap_fixup(request_rec *r)
{
    const fx_dir_conf *dc = fx_dir_get(r);
    /* per-dir rules come from sections, .htaccess files (r->htaccess lists
     * every one looked for), and the server level's RewriteEngine */
    if (!dc || dc->rewrite || r->htaccess || fx_rw_server_acts(r)) {
        return fx_rw_seen_fixup(r);
    }
    return fx_rw_orig_fixup(r);
}

/* The same where no server has Rewrite* lines at its level. */
static int fx_rw_wrap_fixup_dir(request_rec *r)
{
    const fx_dir_conf *dc = fx_dir_get(r);
    if (!dc || dc->rewrite || r->htaccess) {
        return fx_rw_seen_fixup(r);
    }
    return fx_rw_orig_fixup(r);
}

/* Does any server have mod_rewrite lines at its level (fx_conftree.c's
 * marks)?  A simulated request's server record is a copy of a real one's. */
static int fx_rw_any_server_acts(server_rec *s)
{
    for (; s; s = s->next) {
        const fx_server_conf *sc = ap_get_module_config(s->module_config,
                                                        &forbidden_explain_module);
        if (!sc || sc->rewrite) {
            return 1;
        }
    }
    return 0;
}

fx_hook_fn *fx_rewrite_wrap(int fixups, fx_hook_fn *orig, server_rec *s)
{
    fx_hook_fn **slot = fixups ? &fx_rw_orig_fixup : &fx_rw_orig_uri2file;
    if (*slot) {
        return orig;        /* mod_rewrite hooks a phase once */
    }
    *slot = orig;
    if (!fx_rw_any_server_acts(s)) {
        /* translate_name runs only server-level rules: with none anywhere
         * the wrapper would call the hook directly on every request; the
         * fixups wrapper need not look at the server */
        return fixups ? fx_rw_wrap_fixup_dir : orig;
    }
    return fixups ? fx_rw_wrap_fixup : fx_rw_wrap_uri2file;
}

void fx_rewrite_unwrap(void)
{
    fx_rw_orig_uri2file = NULL;
    fx_rw_orig_fixup = NULL;
}

/* ------------------------------------------------------------------ */
/* the rule list as mod_rewrite merged it                              */

enum {
    FX_OPT_INHERIT = 1, FX_OPT_BEFORE = 2, FX_OPT_DOWN = 4,
    FX_OPT_DOWN_BEFORE = 8, FX_OPT_IGNORE = 16
};

static int fx_is_rewrite(const fx_shadow_rec *rec)
{
    return !strcasecmp(rec->name, "RewriteRule")
           || !strcasecmp(rec->name, "RewriteCond")
           || !strcasecmp(rec->name, "RewriteOptions")
           || !strcasecmp(rec->name, "RewriteEngine");
}

/* The section whose configuration a directive sets: conditional and
 * <Limit> containers hold no configuration of their own. */
static const ap_directive_t *fx_rec_section_node(const fx_shadow_rec *rec)
{
    static const char *const transparent[] = {
        "<IfModule", "<IfDefine", "<IfVersion", "<IfFile", "<IfDirective",
        "<IfSection", "<Limit", "<LimitExcept", NULL
    };
    const ap_directive_t *d;
    for (d = rec->where ? rec->where->parent : NULL; d; d = d->parent) {
        int i;
        for (i = 0; transparent[i]; i++) {
            if (!strcasecmp(d->directive, transparent[i])) {
                break;
            }
        }
        if (!transparent[i]) {
            return d;
        }
    }
    return NULL;
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

/* One section's (or .htaccess file's) own rewrite directives. */
typedef struct {
    apr_array_header_t *recs;       /* const fx_shadow_rec * */
    int opts_set, opts;
    const char *dir;                /* cmd->path; NULL: server context */
} fx_rw_group;

static void fx_group_options(fx_rw_group *g, apr_pool_t *p)
{
    int i;
    for (i = 0; i < g->recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(g->recs, i,
                                                 const fx_shadow_rec *);
        char *args, *w, *last;
        if (strcasecmp(rec->name, "RewriteOptions")) {
            continue;
        }
        g->opts_set = 1;
        args = apr_pstrdup(p, rec->args);
        for (w = apr_strtok(args, " \t", &last); w;
             w = apr_strtok(NULL, " \t", &last)) {
            g->opts |= !strcasecmp(w, "Inherit") ? FX_OPT_INHERIT
                     : !strcasecmp(w, "InheritBefore") ? FX_OPT_BEFORE
                     : !strcasecmp(w, "InheritDown") ? FX_OPT_DOWN
                     : !strcasecmp(w, "InheritDownBefore") ? FX_OPT_DOWN_BEFORE
                     : !strcasecmp(w, "IgnoreInherit") ? FX_OPT_IGNORE : 0;
        }
    }
}

/* Consecutive records of one section form a group, in merge order. */
static apr_array_header_t *fx_rw_groups(apr_pool_t *p, apr_array_header_t *all,
                                        int perdir, int vhost)
{
    apr_array_header_t *groups = apr_array_make(p, 4, sizeof(fx_rw_group));
    fx_rw_group *cur = NULL;
    const fx_shadow_rec *prev = NULL;
    int i;

    for (i = 0; i < all->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(all, i, const fx_shadow_rec *);
        int is_perdir = rec->dir_path || rec->in_htaccess;
        if (!fx_is_rewrite(rec) || is_perdir != perdir
            || (!perdir && fx_in_vhost(rec) != vhost)) {
            continue;
        }
        if (!cur || prev->in_htaccess != rec->in_htaccess
            || apr_strnatcmp(fx_or_empty(prev->dir_path),
                             fx_or_empty(rec->dir_path)) != 0
            || (rec->in_htaccess
                ? apr_strnatcmp(fx_or_empty(prev->file),
                                fx_or_empty(rec->file)) != 0
                : fx_rec_section_node(prev) != fx_rec_section_node(rec))) {
            cur = apr_array_push(groups);
            memset(cur, 0, sizeof(*cur));
            cur->recs = apr_array_make(p, 8, sizeof(void *));
            cur->dir = rec->dir_path;
        }
        APR_ARRAY_PUSH(cur->recs, const fx_shadow_rec *) = rec;
        prev = rec;
    }
    for (i = 0; i < groups->nelts; i++) {
        fx_group_options(&APR_ARRAY_IDX(groups, i, fx_rw_group), p);
    }
    return groups;
}

/* A merged mod_rewrite configuration: options, whether any section set
 * them, the rules, and the directory (the overriding section's). */
typedef struct {
    int opts_set, opts;
    apr_array_header_t *recs;
    const char *dir;
} fx_rw_conf;

/* config_server_merge / config_perdir_merge: the merged options are the
 * inner section's when it has RewriteOptions, else the outer ones; the
 * rules are the inner's, plus the outer's after them (Inherit, or the
 * outer's InheritDown) or before them (InheritBefore, InheritDownBefore),
 * IgnoreInherit refusing what the outer section pushes down. */
static fx_rw_conf fx_rw_merge(apr_pool_t *p, const fx_rw_conf *base,
                              const fx_rw_conf *over)
{
    fx_rw_conf m;
    int a = over->opts_set ? over->opts : base->opts;
    m.opts = a;
    m.opts_set = over->opts_set || base->opts_set;
    m.dir = over->dir;
    if ((a & FX_OPT_INHERIT)
        || ((base->opts & FX_OPT_DOWN) && !(a & FX_OPT_IGNORE))) {
        m.recs = apr_array_append(p, over->recs, base->recs);
    }
    else if ((a & FX_OPT_BEFORE)
             || ((base->opts & FX_OPT_DOWN_BEFORE) && !(a & FX_OPT_IGNORE))) {
        m.recs = apr_array_append(p, base->recs, over->recs);
    }
    else {
        m.recs = over->recs;
    }
    return m;
}

static fx_rw_conf fx_group_conf(const fx_rw_group *g)
{
    fx_rw_conf c;
    c.opts_set = g->opts_set;
    c.opts = g->opts;
    c.recs = g->recs;
    c.dir = g->dir;
    return c;
}

/* Which of core's walks merges the group's section: directory (with the
 * .htaccess files), file, location, <If>. */
static int fx_group_walk(const fx_rw_group *g)
{
    const fx_shadow_rec *rec = APR_ARRAY_IDX(g->recs, 0, const fx_shadow_rec *);
    const ap_directive_t *sec = fx_rec_section_node(rec);
    const char *d = sec ? sec->directive : "";
    if (rec->in_htaccess || !strncasecmp(d, "<Directory", 10)) {
        return 1;
    }
    if (!strncasecmp(d, "<Files", 6)) {
        return 2;
    }
    if (!strncasecmp(d, "<Location", 9)) {
        return 3;
    }
    if (!strcasecmp(d, "<If") || !strcasecmp(d, "<ElseIf")
        || !strcasecmp(d, "<Else")) {
        return 4;
    }
    return 5;
}

static int fx_groups_opts(apr_array_header_t *groups)
{
    int i, o = 0;
    for (i = 0; i < groups->nelts; i++) {
        o |= APR_ARRAY_IDX(groups, i, fx_rw_group).opts;
    }
    return o;
}

static int fx_groups_set(apr_array_header_t *groups)
{
    int i;
    for (i = 0; i < groups->nelts; i++) {
        if (APR_ARRAY_IDX(groups, i, fx_rw_group).opts_set) {
            return 1;
        }
    }
    return 0;
}

static apr_array_header_t *fx_groups_recs(apr_pool_t *p,
                                          apr_array_header_t *groups)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(void *));
    int i;
    for (i = 0; i < groups->nelts; i++) {
        out = apr_array_append(p, out,
                               APR_ARRAY_IDX(groups, i, fx_rw_group).recs);
    }
    return out;
}

/* The list hook_uri2file (server_ctx) or hook_fixup applies to r; *perdir
 * set to the directory prefix of the latter. */
static apr_array_header_t *fx_rw_list(apr_pool_t *p, request_rec *r,
                                      int server_ctx, const char **perdir)
{
    apr_array_header_t *all = fx_records_find(p, r, NULL);
    apr_array_header_t *main_g = fx_rw_groups(p, all, 0, 0);
    apr_array_header_t *vh_g = r->server->is_virtual
                               ? fx_rw_groups(p, all, 0, 1)
                               : apr_array_make(p, 1, sizeof(fx_rw_group));
    fx_rw_conf main_c, vh_c, state;
    int i;

    *perdir = NULL;
    main_c.opts_set = fx_groups_set(main_g);
    main_c.opts = fx_groups_opts(main_g);
    main_c.recs = fx_groups_recs(p, main_g);
    main_c.dir = NULL;
    vh_c.opts_set = fx_groups_set(vh_g);
    vh_c.opts = fx_groups_opts(vh_g);
    vh_c.recs = fx_groups_recs(p, vh_g);
    vh_c.dir = NULL;
    if (server_ctx) {
        /* ap_fixup_virtual_hosts merges each virtual host onto the main
         * server's configuration */
        return r->server->is_virtual ? fx_rw_merge(p, &main_c, &vh_c).recs
                                     : main_c.recs;
    }
    /* Per-directory: the server's (and virtual host's) RewriteOptions are in
     * the defaults, which hold no rules.  Each of core's walks merges its
     * sections among themselves, the first taken as it is, and then merges
     * the result onto what the request had (request.c). */
    state.opts_set = main_c.opts_set || vh_c.opts_set;
    state.opts = vh_c.opts_set ? vh_c.opts : main_c.opts;
    state.recs = apr_array_make(p, 1, sizeof(void *));
    state.dir = NULL;
    {
        apr_array_header_t *groups = fx_rw_groups(p, all, 1, 0);
        fx_rw_conf walk;
        int walk_kind = 0;
        for (i = 0; i <= groups->nelts; i++) {
            const fx_rw_group *g = i < groups->nelts
                                   ? &APR_ARRAY_IDX(groups, i, fx_rw_group)
                                   : NULL;
            int kind = g ? fx_group_walk(g) : -1;
            if (walk_kind && kind != walk_kind) {
                state = fx_rw_merge(p, &state, &walk);
                walk_kind = 0;
            }
            if (!g) {
                break;
            }
            if (!walk_kind) {
                walk = fx_group_conf(g);
                walk_kind = kind;
            }
            else {
                fx_rw_conf over = fx_group_conf(g);
                walk = fx_rw_merge(p, &walk, &over);
            }
        }
    }
    *perdir = state.dir;
    if (*perdir) {
        apr_size_t len = strlen(*perdir);
        if (!len || (*perdir)[len - 1] != '/') {
            *perdir = apr_pstrcat(p, *perdir, "/", NULL);
        }
    }
    return state.recs;
}

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

/* Kept in the pool of the request that will be explained: a sub-request's
 * own pool (and the .htaccess records it parsed) die before that. */
static apr_array_header_t *fx_rw_keep(apr_pool_t *p, apr_array_header_t *list,
                                      const fx_rw_rec **engine)
{
    apr_array_header_t *out = apr_array_make(p, list->nelts ? list->nelts : 1,
                                             sizeof(fx_rw_rec));
    const ap_directive_t *prev_sec = NULL;
    const char *prev_file = NULL;
    int i, group = 0;

    for (i = 0; i < list->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(list, i,
                                                 const fx_shadow_rec *);
        const ap_directive_t *sec = fx_rec_section_node(rec);
        fx_rw_rec *k;
        if (i && (sec != prev_sec
                  || apr_strnatcmp(fx_or_empty(prev_file),
                                   fx_or_empty(rec->file)) != 0)) {
            group++;
        }
        prev_sec = sec;
        prev_file = rec->file;
        k = apr_array_push(out);
        k->name = rec->name;        /* the command table's: static */
        k->args = apr_pstrdup(p, rec->args);
        k->file = rec->file ? apr_pstrdup(p, rec->file) : NULL;
        k->line = rec->line;
        k->group = group;
        k->section = fx_rec_section(p, rec);
    }
    for (i = 0; i < out->nelts && !*engine; i++) {
        const fx_rw_rec *k = &APR_ARRAY_IDX(out, i, fx_rw_rec);
        if (!strcasecmp(k->name, "RewriteEngine")) {
            *engine = k;
        }
    }
    return out;
}

/* Called by the trampoline when a hook returned an error: when it was
 * mod_rewrite's, keep what it was given and the list it applied. */
void fx_rewrite_origin_noted(request_rec *r, const fx_origin *o)
{
    request_rec *into = r->main ? r->main : r;
    apr_pool_t *p = into->pool;
    fx_req_state *st;
    fx_rw_store *store;
    fx_rw_saved *sv;
    const char *perdir = NULL;
    apr_array_header_t *list;

    /* Only a 403 is explained: a redirect or [R=404] keeps nothing. */
    if (o->status != HTTP_FORBIDDEN
        || !o->module || strcmp(o->module, "mod_rewrite.c") != 0
        || fx_rw_in.r != r || fx_rw_in.request_time != r->request_time
        || !o->phase || strcmp(o->phase, fx_rw_in.phase)) {
        return;
    }
    sv = apr_pcalloc(p, sizeof(*sv));
    sv->server_ctx = !strcmp(o->phase, "translate_name");
    sv->is_subreq = r->main != NULL;
    sv->uri = fx_rw_in.uri ? apr_pstrdup(p, fx_rw_in.uri) : NULL;
    sv->filename = fx_rw_in.filename ? apr_pstrdup(p, fx_rw_in.filename)
                                     : NULL;
    sv->path_info = fx_rw_in.path_info ? apr_pstrdup(p, fx_rw_in.path_info)
                                       : NULL;
    sv->args = fx_rw_in.args ? apr_pstrdup(p, fx_rw_in.args) : NULL;
    sv->env_n = fx_rw_in.env_n;
    sv->env_in_n = fx_rw_in.env_n < FX_RW_ENV_SNAP ? fx_rw_in.env_n
                                                    : FX_RW_ENV_SNAP;
    {
        /* strings too: a sub-request's pool dies before the explanation */
        apr_table_entry_t *t = apr_pcalloc(p, sizeof(*t) * (sv->env_in_n + 1));
        int i;
        for (i = 0; i < sv->env_in_n; i++) {
            t[i].key = fx_rw_in.env[i].key ? apr_pstrdup(p, fx_rw_in.env[i].key)
                                           : NULL;
            t[i].val = fx_rw_in.env[i].val ? apr_pstrdup(p, fx_rw_in.env[i].val)
                                           : NULL;
        }
        sv->env_in = t;
    }
    sv->env = apr_table_copy(p, r->subprocess_env);
    sv->notes = apr_table_copy(p, r->notes);
    list = fx_rw_list(r->pool, r, sv->server_ctx, &perdir);
    sv->perdir = perdir ? apr_pstrdup(p, perdir) : NULL;
    sv->recs = fx_rw_keep(p, list, &sv->engine);
    fx_rw_in.r = NULL;

    st = fx_state_ensure(into);
    store = st->subsys[FX_SLOT_REWRITE];
    if (!store) {
        store = apr_pcalloc(p, sizeof(*store));
        st->subsys[FX_SLOT_REWRITE] = store;
    }
    if (r->main) {
        store->sub = sv;
    }
    else {
        store->own = sv;
    }
}

/* ------------------------------------------------------------------ */
/* the replay                                                          */

/* Names the [E=] flags of the list write ("!" when one unsets, "*" when a
 * name is computed). */
static apr_table_t *fx_rw_touched(apr_pool_t *p, apr_array_header_t *recs,
                                  int *any)
{
    apr_table_t *t = apr_table_make(p, 4);
    int i;
    *any = 0;
    for (i = 0; i < recs->nelts; i++) {
        const fx_rw_rec *k = &APR_ARRAY_IDX(recs, i, fx_rw_rec);
        char *w[3] = { NULL, NULL, NULL }, *tok, *last;
        if (strcasecmp(k->name, "RewriteRule")
            || fx_rw_split(p, k->args, w) < 3 || w[2][0] != '[') {
            continue;
        }
        for (tok = apr_strtok(apr_pstrdup(p, w[2] + 1), ",]", &last); tok;
             tok = apr_strtok(NULL, ",]", &last)) {
            char *eq = strchr(tok, '='), *colon;
            while (apr_isspace(*tok)) {
                tok++;
            }
            if (!eq || (strncasecmp(tok, "E=", 2) && strncasecmp(tok, "env=", 4))) {
                continue;
            }
            eq++;
            if (*eq == '!') {
                apr_table_set(t, "!", "1");
                eq++;
            }
            colon = strchr(eq, ':');
            if (colon) {
                *colon = '\0';
            }
            if (strchr(eq, '%') || strchr(eq, '$') || strchr(eq, '\\')) {
                *any = 1;
            }
            apr_table_set(t, eq, "1");
        }
    }
    return t;
}

typedef struct {
    fx_rw_line *lines;
    int n;
} fx_rw_lines;

static fx_rw_lines fx_rw_lines_of(apr_pool_t *p, apr_array_header_t *recs)
{
    fx_rw_lines l;
    int i;
    l.n = recs->nelts;
    l.lines = apr_pcalloc(p, sizeof(*l.lines) * (l.n ? l.n : 1));
    for (i = 0; i < l.n; i++) {
        const fx_rw_rec *k = &APR_ARRAY_IDX(recs, i, fx_rw_rec);
        l.lines[i].name = k->name;
        l.lines[i].args = k->args;
        l.lines[i].group = k->group;
    }
    return l;
}

/* mod_rewrite refuses an encoded '?' in a substitution since 2.4.60: the
 * running httpd decides, not the headers this module was built with. */
static int fx_httpd_has_3f_check(void)
{
    return fx_httpd_at_least(2, 4, 60);
}

static void fx_rw_run(request_rec *r, const fx_rw_saved *in,
                      apr_array_header_t *recs, fx_rw_baton *b,
                      fx_rw_result *res)
{
    fx_rw_ops ops = { fx_rw_regex, fx_rw_var, fx_rw_filetest, NULL, 0, NULL,
                      fx_rw_map };
    fx_rw_lines l = fx_rw_lines_of(r->pool, recs);
    const char *start;

    b->r = r;
    b->in = in;
    b->why = NULL;
    b->touched = fx_rw_touched(r->pool, recs, &b->touched_any);
    ops.baton = b;
    ops.no_3f_check = !fx_httpd_has_3f_check();
    {
        /* fully_qualify_uri's prefix */
        apr_port_t port = ap_get_server_port(r);
        ops.self_url = apr_psprintf(r->pool, "%s://%s%s", ap_http_scheme(r),
                                    ap_get_server_name_for_url(r),
                                    ap_is_default_port(port, r) ? ""
                                    : apr_psprintf(r->pool, ":%u", port));
    }
    /* hook_uri2file starts from r->filename when a module set it before,
     * else from the URI; hook_fixup from the file name (the URI if none). */
    start = in->filename ? in->filename : in->uri;
    fx_rw_evaluate(r->pool, l.lines, l.n, in->server_ctx ? NULL : in->perdir,
                   start, in->server_ctx ? NULL : in->path_info, in->args,
                   in->is_subreq, &ops, res);
    if (b->why && res->outcome != FX_RW_UNKNOWN) {
        res->outcome = FX_RW_UNKNOWN;
        res->why = b->why;
    }
}

/* ------------------------------------------------------------------ */
/* the entry                                                           */

static void fx_set_directive(fx_entry *e, apr_pool_t *p, const fx_rw_rec *k)
{
    fx_entry_set(e, "directive", apr_pstrcat(p, k->name, " ", k->args, NULL));
    if (k->file) {
        fx_entry_set(e, "file", k->file);
        fx_entry_set_int(e, "line", k->line);
    }
    fx_entry_set(e, "section", k->section);
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
        const fx_rw_rec *k = &APR_ARRAY_IDX(recs, ev->line, fx_rw_rec);
        APR_ARRAY_PUSH(items, char *) = apr_psprintf(p,
            "{\"directive\":%s,\"file\":%s,\"line\":%d,\"tested\":%s,"
            "\"result\":%s}",
            fx_json_quote(p, apr_pstrcat(p, k->name, " ", k->args, NULL),
                          0, NULL),
            fx_json_quote(p, fx_or_empty(k->file), 0, NULL), k->line,
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

/* ------------------------------------------------------------------ */
/* protections and hints                                               */

/* Which deliberate protection the rule that fired is, and which of its
 * conditions decided (*decided: index into res->conds, -1 none); see
 * fx_rw_protection_kind in fx_rwmatch.c. */
static const char *fx_rw_protection(apr_pool_t *p, const fx_rw_rec *rule,
                                    const fx_rw_result *res, int *decided)
{
    char *w[3] = { NULL, NULL, NULL };
    *decided = -1;
    if (fx_rw_split(p, rule->args, w) < 2) {
        return NULL;
    }
    return fx_rw_protection_kind(p, w[0], fx_or_empty(res->subject),
                                 res->conds, decided);
}

/* Protections for which no exemption is narrow: a filter of the query
 * string refuses many queries to one URL, so exempting the URL opens all
 * of them, and exempting the site a referrer blacklist names removes the
 * entry the administrator wrote.  Whether this request deserves an
 * exception is the administrator's call; no change is proposed. */
static int fx_prot_no_fix(const char *prot)
{
    return prot && (!strcmp(prot, "query-filter")
                    || !strcmp(prot, "referrer-blacklist"));
}

/* A RewriteCond argument mod_rewrite's parser reads back as one word, or
 * NULL when value cannot be written safely. */
static const char *fx_cond_word(apr_pool_t *p, const char *pattern)
{
    const char *c;
    int space = 0;
    for (c = pattern; *c; c++) {
        /* parseargline: a quote ends the word, "\\ " escapes a space */
        if (*c == '"' || apr_iscntrl(*c)
            || (*c == '\\' && (!c[1] || apr_isspace(c[1])))) {
            return NULL;
        }
        space |= apr_isspace(*c);
    }
    return space ? apr_pstrcat(p, "\"", pattern, "\"", NULL) : pattern;
}

static const char *fx_regex_quote(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 2 + 1), *o = out;
    for (; *s; s++) {
        if (strchr(".^$|()[]{}*+?\\/", *s)) {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* s cut to about max bytes for a sentence (a query string can be long),
 * never inside a UTF-8 sequence. */
static const char *fx_clip(apr_pool_t *p, const char *s, apr_size_t max)
{
    apr_size_t n = strlen(s);
    if (n <= max) {
        return s;
    }
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, s, n), "...", NULL);
}

/* The host of a Referer URL, or NULL. */
static const char *fx_referer_host(apr_pool_t *p, const char *ref)
{
    const char *h = ref ? strstr(ref, "://") : NULL;
    apr_size_t n;
    if (!h) {
        return NULL;
    }
    h += 3;
    n = strcspn(h, "/:?#");
    if (!n) {
        return NULL;
    }
    return apr_pstrmemdup(p, h, n);
}

/* The condition that exempts this request from the rule, narrowest first:
 * the referring site of a hotlink rule, the exact User-Agent of a bot rule,
 * else the exact URL. */
static const char *fx_exemption(apr_pool_t *p, request_rec *r,
                                const fx_rw_saved *in, const char *prot)
{
    const char *word;
    if (fx_prot_no_fix(prot)) {
        return NULL;
    }
    if (prot && !strcmp(prot, "hotlink")) {
        const char *host = fx_referer_host(p, apr_table_get(r->headers_in,
                                                            "Referer"));
        if (host && (word = fx_cond_word(p, apr_pstrcat(p, "!^https?://",
                         fx_regex_quote(p, host), "(:[0-9]+)?(/|$)", NULL)))) {
            return apr_pstrcat(p, "RewriteCond %{HTTP_REFERER} ", word,
                               " [NC]", NULL);
        }
    }
    if (prot && !strcmp(prot, "bad-bot")) {
        const char *ua = apr_table_get(r->headers_in, "User-Agent");
        if (ua && *ua && (word = fx_cond_word(p, apr_pstrcat(p, "!=", ua,
                                                             NULL)))) {
            return apr_pstrcat(p, "RewriteCond %{HTTP_USER_AGENT} ", word,
                               NULL);
        }
    }
    word = in->uri ? fx_cond_word(p, apr_pstrcat(p, "!=", in->uri, NULL))
                   : NULL;
    return word ? apr_pstrcat(p, "RewriteCond %{REQUEST_URI} ", word, NULL)
                : NULL;
}

/* Index of the first RewriteCond attached to the rule at index ri. */
static int fx_first_cond(apr_array_header_t *recs, int ri)
{
    const fx_rw_rec *rule = &APR_ARRAY_IDX(recs, ri, fx_rw_rec);
    int j = ri;
    while (j > 0) {
        const fx_rw_rec *k = &APR_ARRAY_IDX(recs, j - 1, fx_rw_rec);
        if (strcasecmp(k->name, "RewriteCond") || k->group != rule->group) {
            break;
        }
        j--;
    }
    return j;
}

/* recs with a condition inserted at index at, in the group of the rule. */
static apr_array_header_t *fx_with_cond(apr_pool_t *p, apr_array_header_t *recs,
                                        int at, const char *cond)
{
    apr_array_header_t *out = apr_array_make(p, recs->nelts + 1,
                                             sizeof(fx_rw_rec));
    int i;
    for (i = 0; i < recs->nelts; i++) {
        const fx_rw_rec *k = &APR_ARRAY_IDX(recs, i, fx_rw_rec);
        if (i == at) {
            fx_rw_rec *c = apr_array_push(out);
            *c = *k;
            c->name = "RewriteCond";
            c->args = cond + strlen("RewriteCond ");
            c->line = 0;
        }
        *(fx_rw_rec *)apr_array_push(out) = *k;
    }
    return out;
}

#define FX_MAX_BLOCKERS 4

typedef struct {
    const fx_rw_rec *rule;
    const char *prot;
    const fx_rw_rec *decided;       /* the RewriteCond that decided, or NULL */
    const char *tested;             /* the value it tested */
    const char *cond;               /* its exemption, NULL if none */
    const fx_rw_rec *at;            /* inserted before this line */
} fx_blocker;

static const char *fx_blocker_json(apr_pool_t *p, const fx_blocker *b)
{
    return apr_psprintf(p, "{\"directive\":%s,\"file\":%s,\"line\":%d,"
        "\"section\":%s,\"mechanism\":\"mod_rewrite\"%s%s}",
        fx_json_quote(p, apr_pstrcat(p, b->rule->name, " ", b->rule->args,
                                     NULL), 512, NULL),
        fx_json_quote(p, fx_or_empty(b->rule->file), 512, NULL), b->rule->line,
        fx_json_quote(p, b->rule->section, 512, NULL),
        b->prot ? ",\"protection\":" : "",
        b->prot ? fx_json_quote(p, b->prot, 64, NULL) : "");
}

static const char *fx_insert_json(apr_pool_t *p, const fx_blocker *b)
{
    return apr_psprintf(p, "{\"op\":\"insert\",\"file\":%s,\"after_line\":%d,"
                        "\"text\":%s}",
                        fx_json_quote(p, b->at->file, 1024, NULL),
                        b->at->line - 1, fx_json_quote(p, b->cond, 2048, NULL));
}

static const char *fx_join(apr_pool_t *p, apr_array_header_t *parts,
                           const char *sep)
{
    const char *out = "";
    int i;
    for (i = 0; i < parts->nelts; i++) {
        out = apr_pstrcat(p, out, i ? sep : "",
                          APR_ARRAY_IDX(parts, i, const char *), NULL);
    }
    return out;
}

static const char *fx_prot_words(const char *prot)
{
    return !strcmp(prot, "hotlink") ? "a hotlink protection (Referer check)"
         : !strcmp(prot, "bad-bot") ? "a bad-bot User-Agent block"
         : !strcmp(prot, "vcs") ? "a protection of version-control "
                                  "directories"
         : !strcmp(prot, "dotfiles") ? "a protection of dotfiles"
         : !strcmp(prot, "backup") ? "a protection of backup and dump files"
         : !strcmp(prot, "query-filter") ? "a query-string exploit filter"
         : !strcmp(prot, "referrer-blacklist") ? "a referrer blacklist"
         : "a deliberate protection";
}

/* The hint's sentence about the rule that fired: a recognised protection
 * works as intended and gets the narrow exemption, never its removal. */
static const char *fx_blocker_sentence(apr_pool_t *p, request_rec *failed,
                                       const fx_blocker *b0)
{
    const char *hint;
    const char *where = apr_psprintf(p, "%s:%d", fx_or_empty(b0->rule->file),
                                     b0->rule->line);
    const char *insert = b0->cond
        ? apr_psprintf(p, "insert `%s` above %s (line %d)", b0->cond,
                       strcasecmp(b0->at->name, "RewriteCond")
                       ? "the rule" : "the rule's first RewriteCond",
                       b0->at->line)
        : NULL;
    const char *host = fx_referer_host(p, apr_table_get(failed->headers_in,
                                                        "Referer"));
    const char *ua = apr_table_get(failed->headers_in, "User-Agent");
    if (b0->prot && !strcmp(b0->prot, "hotlink") && host) {
        hint = apr_psprintf(p, "The RewriteRule at %s is %s and works as "
            "intended: %s is not among the sites allowed to embed these "
            "files. If %s may embed them, allow that one site%s; do not "
            "remove the rule.", where, fx_prot_words(b0->prot), host, host,
            insert ? apr_pstrcat(p, ": ", insert, NULL) : "");
    }
    else if (fx_prot_no_fix(b0->prot) && b0->decided) {
        int query = !strcmp(b0->prot, "query-filter");
        int line_test = query && b0->decided->args
                        && ap_strcasestr(b0->decided->args, "THE_REQUEST");
        hint = apr_psprintf(p, "The RewriteRule at %s is %s and works as "
            "intended: its condition `%s %s` (line %d) matched %s '%s'. "
            "Whether this request deserves an exception is the "
            "administrator's call: %s; do not remove the rule.", where,
            fx_prot_words(b0->prot), b0->decided->name, b0->decided->args,
            b0->decided->line, line_test ? "the request line"
                               : query ? "the query string" : "the Referer",
            fx_clip(p, fx_or_empty(b0->tested), 160),
            query ? "exempting the URL would let every other query the "
                    "filter refuses reach it, so no change is proposed"
                  : "exempting this site would undo the entry that names "
                    "it, so no change is proposed");
    }
    else if (b0->prot && !strcmp(b0->prot, "bad-bot") && ua) {
        hint = apr_psprintf(p, "The RewriteRule at %s is %s and works as "
            "intended: its conditions match the User-Agent '%s'. If this "
            "client is legitimate, exempt exactly this User-Agent%s; do "
            "not remove the rule.", where, fx_prot_words(b0->prot), ua,
            insert ? apr_pstrcat(p, ": ", insert, NULL) : "");
    }
    else if (b0->prot) {
        hint = apr_psprintf(p, "The RewriteRule at %s is %s and works as "
            "intended. If this URL should be served, exempt only it%s; do "
            "not remove the rule.", where, fx_prot_words(b0->prot),
            insert ? apr_pstrcat(p, ": ", insert, NULL) : "");
    }
    else {
        hint = apr_psprintf(p, "The RewriteRule at %s forbids this request. "
            "If it should be allowed, exclude it from the rule%s, or "
            "narrow the rule's pattern.", where,
            insert ? apr_pstrcat(p, ": ", insert, NULL) : "");
    }
    return hint;
}

/* "blockers" (every rule found denying) and "fix": one insert per exemption,
 * bottom-up, so earlier ones do not move the lines the later ones name. */
static void fx_rw_set_fix(apr_pool_t *p, fx_entry *e, fx_blocker *b, int nb)
{
    apr_array_header_t *bl = apr_array_make(p, nb, sizeof(char *));
    apr_array_header_t *fx = apr_array_make(p, nb, sizeof(char *));
    int i, j;

    for (i = 0; i < nb; i++) {
        APR_ARRAY_PUSH(bl, const char *) = fx_blocker_json(p, &b[i]);
    }
    for (i = 0; i < nb; i++) {
        int best = -1;
        for (j = 0; j < nb; j++) {
            if (b[j].cond && b[j].at && (best < 0
                || b[j].at->line > b[best].at->line)) {
                best = j;
            }
        }
        if (best < 0) {
            break;
        }
        APR_ARRAY_PUSH(fx, const char *) = fx_insert_json(p, &b[best]);
        b[best].cond = NULL;
    }
    fx_entry_set_raw(e, "blockers", apr_pstrcat(p, "[",
                     apr_array_pstrcat(p, bl, ','), "]", NULL));
    if (fx->nelts) {
        fx_entry_set_raw(e, "fix", apr_pstrcat(p, "[",
                         apr_array_pstrcat(p, fx, ','), "]", NULL));
    }
}

/* The hint for the rule that fired (blockers[0]) and every other rule the
 * replay finds denying once the earlier ones are exempted; each exemption
 * is re-evaluated by the replay before it is offered. */
/* What httpd would still evaluate once mod_rewrite lets the request
 * through, which the replay does not (NULL: nothing but serving the file).
 * Server-context rules run before authorization; a per-directory rule
 * runs in fixups, after it, and only a plain file is then simply served. */
static const char *fx_rw_rest_unchecked(request_rec *failed,
                                        const fx_rw_saved *in)
{
    if (in->server_ctx) {
        return "the rule runs before authorization, which was not "
               "re-evaluated with the change applied";
    }
    if (failed->finfo.filetype != APR_REG) {
        return "the target is not a plain file: its directory index or "
               "handler was not re-evaluated with the change applied";
    }
    if (failed->handler && strcmp(failed->handler, "default-handler") != 0) {
        return apr_pstrcat(failed->pool, "the handler ", failed->handler,
                           " that would serve it was not re-evaluated", NULL);
    }
    return NULL;
}

static void fx_rw_hint(request_rec *r, request_rec *failed,
                       const fx_rw_saved *in, const fx_rw_result *first,
                       fx_entry *e)
{
    apr_pool_t *p = r->pool;
    fx_blocker b[FX_MAX_BLOCKERS];
    int nb = 0, i, verified = 0;
    const char *unverified = NULL;
    apr_array_header_t *recs = in->recs;
    fx_rw_result res = *first;
    const char *hint;

    for (;;) {
        fx_rw_baton bt;
        const fx_rw_rec *rule = &APR_ARRAY_IDX(recs, res.rule, fx_rw_rec);
        int at = fx_first_cond(recs, res.rule);
        fx_blocker *cur = &b[nb++];
        int decided;
        cur->rule = rule;
        cur->prot = fx_rw_protection(p, rule, &res, &decided);
        cur->decided = NULL;
        cur->tested = NULL;
        if (decided >= 0) {
            const fx_rw_cond_eval *ev = &APR_ARRAY_IDX(res.conds, decided,
                                                       fx_rw_cond_eval);
            cur->decided = &APR_ARRAY_IDX(recs, ev->line, fx_rw_rec);
            cur->tested = ev->tested;
        }
        cur->cond = fx_exemption(p, failed, in, cur->prot);
        cur->at = &APR_ARRAY_IDX(recs, at, fx_rw_rec);
        if (fx_prot_no_fix(cur->prot)) {
            unverified = apr_pstrcat(p, fx_prot_words(cur->prot), " is a "
                                     "deliberate protection: an exception is "
                                     "the administrator's call, no change is "
                                     "proposed", NULL);
            break;
        }
        if (!cur->cond || !cur->at->file || cur->at->line <= 0) {
            unverified = "no exemption can be written for this request "
                         "(its URL or header has characters a RewriteCond "
                         "cannot hold)";
            cur->cond = NULL;
            break;
        }
        recs = fx_with_cond(p, recs, at, cur->cond);
        memset(&bt, 0, sizeof(bt));
        fx_rw_run(failed, in, recs, &bt, &res);
        if (res.outcome == FX_RW_UNKNOWN) {
            unverified = apr_pstrcat(p, "the replay with the change stopped: ",
                                     res.why, NULL);
            break;
        }
        if (res.outcome != FX_RW_FOUND || res.status != HTTP_FORBIDDEN) {
            verified = 1;
            break;
        }
        if (nb == FX_MAX_BLOCKERS) {
            unverified = "more rules than this module follows still deny "
                         "the request";
            break;
        }
        /* another rule denies: res.rule indexes the list with the
         * exemptions so far, which the next round exempts in turn */
    }

    hint = fx_blocker_sentence(p, failed, &b[0]);
    if (nb > 1) {
        apr_array_header_t *parts = apr_array_make(p, nb, sizeof(char *));
        for (i = 0; i < nb; i++) {
            APR_ARRAY_PUSH(parts, char *) = apr_psprintf(p, "%d) `%s %s` "
                "(%s:%d)%s%s", i + 1, b[i].rule->name, b[i].rule->args,
                fx_or_empty(b[i].rule->file), b[i].rule->line,
                b[i].cond ? ", exempt with " : "",
                b[i].cond ? apr_psprintf(p, "`%s`", b[i].cond) : "");
        }
        hint = apr_psprintf(p, "%d rewrite rules deny this request: %s. %s",
                            nb, fx_join(p, parts, "; "), hint);
    }
    if (verified) {
        hint = apr_pstrcat(p, hint, " (checked: with ",
                           nb > 1 ? "these changes" : "this change",
                           " mod_rewrite's rules in this phase no longer deny "
                           "the request)", NULL);
    }
    fx_entry_set(e, "hint", hint);
    if (b[0].prot) {
        fx_entry_set(e, "protection", b[0].prot);
    }
    fx_rw_set_fix(p, e, b, nb);
    if (verified && (unverified = fx_rw_rest_unchecked(failed, in)) != NULL) {
        verified = 0;               /* the replay checked mod_rewrite only */
    }
    fx_entry_set_raw(e, "hint_verified", verified ? "true" : "false");
    if (!verified) {
        fx_entry_set(e, "hint_unverified", unverified ? unverified
                     : "the change was not re-evaluated");
    }
}

/* ------------------------------------------------------------------ */
/* explaining                                                          */

static const char *fx_not_named(apr_pool_t *p, const fx_origin *cause,
                                const fx_rw_saved *in, const fx_rw_result *res,
                                const char *what)
{
    return apr_psprintf(p, "mod_rewrite returned 403 in the %s phase%s; "
        "replaying the %d rewrite directives in effect from the values its "
        "hook received %s, so no rule is named.", cause->phase, what,
        in->recs->nelts,
        res->outcome == FX_RW_UNKNOWN
            ? apr_pstrcat(p, "stopped: ", res->why, NULL)
            : "did not reproduce it");
}

/* A hint the replay did not re-evaluate says so (convention of the entry). */
static void fx_rw_unverified(fx_entry *e, const char *why)
{
    fx_entry_set_raw(e, "hint_verified", "false");
    fx_entry_set(e, "hint_unverified", why);
}

/* AH10410 / AH10411: the rules rewrote the query string into something
 * with a space or control character, and nothing escapes it. */
static void fx_rw_explain_query(request_rec *r, const fx_origin *cause,
                                const fx_rw_saved *in, const fx_rw_result *res,
                                fx_entry *e, int ah)
{
    apr_pool_t *p = r->pool;
    const char *q = res->final_args;
    int bad = 0;

    fx_entry_set(e, "ah", apr_psprintf(p, "AH%05d", ah));
    for (; q && *q; q++) {
        bad |= (*q <= ' ' || *q == 0x7f);
    }
    if (res->outcome != FX_RW_NONE || !res->changed || !bad
        || res->args_rule < 0) {
        fx_entry_set(e, "detail", fx_not_named(p, cause, in, res,
                     " because the rewritten query string holds spaces or "
                     "control characters"));
        return;
    }
    fx_set_directive(e, p, &APR_ARRAY_IDX(in->recs, res->args_rule,
                                          fx_rw_rec));
    fx_entry_set(e, "rewritten_query", res->final_args);
    fx_entry_set(e, "detail", apr_psprintf(p, "This RewriteRule's "
        "substitution made the query string '%s', which holds a space or "
        "control character; mod_rewrite refuses to pass it on unescaped "
        "(AH%05d).", res->final_args, ah));
    fx_entry_set(e, "hint", "Add the [B] flag to this rule so the "
                 "back-references it copies into the query string are "
                 "escaped (or [BCTLS] for spaces and controls only).");
    fx_rw_unverified(e, "a changed flag is not replayed");
}

/* AH00669 / AH10160: a [P] rule, but mod_proxy is not loaded. */
static void fx_rw_explain_proxy(request_rec *r, const fx_origin *cause,
                                const fx_rw_saved *in, const fx_rw_result *res,
                                fx_entry *e, int ah)
{
    apr_pool_t *p = r->pool;
    fx_entry_set(e, "ah", apr_psprintf(p, "AH%05d", ah));
    if (res->outcome != FX_RW_NONE || !res->proxy || res->end_rule < 0) {
        fx_entry_set(e, "detail", fx_not_named(p, cause, in, res,
                     " for a [P] rule without mod_proxy"));
        return;
    }
    fx_set_directive(e, p, &APR_ARRAY_IDX(in->recs, res->end_rule,
                                          fx_rw_rec));
    fx_entry_set(e, "detail", apr_psprintf(p, "This RewriteRule has the [P] "
        "flag and matched, so the request was to be proxied to %s, but "
        "mod_proxy is not loaded: mod_rewrite answers 403 (AH%05d).",
        res->final_filename && !strncmp(res->final_filename, "proxy:", 6)
            ? res->final_filename + 6 : fx_or_empty(res->final_filename), ah));
    fx_entry_set(e, "hint", "Load mod_proxy and the protocol module the "
                 "target needs (e.g. a2enmod proxy proxy_http), or drop the "
                 "[P] flag from this rule.");
    fx_rw_unverified(e, "loading a module is not replayed");
}

static void fx_rw_explain_status(request_rec *r, request_rec *failed,
                                 const fx_origin *cause,
                                 const fx_rw_saved *in,
                                 const fx_rw_result *res, fx_entry *e,
                                 int want_unsafe)
{
    apr_pool_t *p = r->pool;
    const fx_rw_rec *rule;
    int nconds;

    if (res->outcome != FX_RW_FOUND || res->status != HTTP_FORBIDDEN
        || res->unsafe_qmark != want_unsafe) {
        fx_entry_set(e, "detail", fx_not_named(p, cause, in, res, ""));
        return;
    }
    rule = &APR_ARRAY_IDX(in->recs, res->rule, fx_rw_rec);
    nconds = res->conds ? res->conds->nelts : 0;
    fx_set_directive(e, p, rule);
    fx_entry_set(e, "rewrite_subject", res->subject);
    fx_set_conditions(p, e, in->recs, res);
    if (res->unsafe_qmark) {
        fx_entry_set(e, "detail", "The substitution of this RewriteRule put "
            "a '?' that came from the URL (an encoded %3f) into the rewritten "
            "path; mod_rewrite refuses that without the UnsafeAllow3F flag "
            "(AH10508).");
        fx_entry_set(e, "hint", "Add the UnsafeAllow3F flag to this rule "
                     "only if the backreference may contain '?', or anchor "
                     "the pattern so it does not capture it.");
        fx_rw_unverified(e, "a changed flag or pattern is not replayed");
        return;
    }
    fx_entry_set(e, "detail", apr_psprintf(p, "This RewriteRule matched '%s'%s,"
        " so its %s flag answered 403.", res->subject,
        nconds ? apr_psprintf(p, " and its RewriteCond lines held (%d "
                              "evaluated, see conditions)", nconds) : "",
        fx_rule_flag_is_r(p, rule->args) ? "[R=403]" : "[F]"));
    if (!fx_cheap(failed)) {        /* fx_repeat.c: only the cause needed */
        fx_rw_hint(r, failed, in, res, e);
    }
}

void fx_rewrite_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                        fx_entry *e)
{
    const fx_origin *cause;
    const fx_rw_store *store = st->subsys[FX_SLOT_REWRITE];
    const fx_rw_saved *in;
    fx_rw_baton b;
    fx_rw_result res;
    int via_subreq = 0;

    cause = fx_state_cause(st, &via_subreq);
    if (!cause || cause->returned_ok || !cause->module
        || strcmp(cause->module, "mod_rewrite.c") != 0) {
        return;
    }
    in = store ? (via_subreq ? store->sub : store->own) : NULL;
    if (!in) {
        fx_entry_set(e, "detail", apr_psprintf(r->pool, "mod_rewrite returned "
            "403 in the %s phase, but the values its hook received were not "
            "kept, so no rule is named.", cause->phase));
        return;
    }
    if (fx_logged_find(st, 670)) {
        /* hook_fixup refuses per-directory rules before applying any. */
        if (in->engine) {
            fx_set_directive(e, r->pool, in->engine);
        }
        fx_entry_set(e, "ah", "AH00670");
        fx_entry_set(e, "detail", "Per-directory rewrite rules are in effect "
                     "here, but Options FollowSymLinks and SymLinksIfOwnerMatch "
                     "are both off, so mod_rewrite refuses every request "
                     "(AH00670) before applying any rule.");
        fx_entry_set(e, "hint", "Add Options +SymLinksIfOwnerMatch (or "
                     "+FollowSymLinks) for this directory, or remove the "
                     "rewrite rules from it.");
        fx_rw_unverified(e, "Options are not replayed");
        return;
    }
    if (!in->recs->nelts) {
        fx_entry_set(e, "detail", apr_psprintf(r->pool, "mod_rewrite returned "
                     "403 in the %s phase, but no RewriteRule recorded for "
                     "this context explains it.", cause->phase));
        return;
    }
    memset(&b, 0, sizeof(b));
    fx_rw_run(failed, in, in->recs, &b, &res);
    if (fx_logged_find(st, 10410) || fx_logged_find(st, 10411)) {
        fx_rw_explain_query(r, cause, in, &res, e,
                            fx_logged_find(st, 10410) ? 10410 : 10411);
    }
    else if (fx_logged_find(st, 669) || fx_logged_find(st, 10160)) {
        fx_rw_explain_proxy(r, cause, in, &res, e,
                            fx_logged_find(st, 669) ? 669 : 10160);
    }
    else {
        fx_rw_explain_status(r, failed, cause, in, &res, e,
                             fx_logged_find(st, 10508) != NULL);
    }
}

void fx_waf_register_hooks(apr_pool_t *p);
void fx_ssl_register_hooks(apr_pool_t *p);

void fx_rewrite_register_hooks(apr_pool_t *p)
{
    ap_hook_child_init(fx_rewrite_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(fx_rewrite_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* mod_rewrite's translate_name and fixups hooks: fx_rewrite_wrap. */
    /* The other explainers of this part that need a hook of their own. */
    fx_waf_register_hooks(p);
    fx_ssl_register_hooks(p);
}

/* ------------------------------------------------------------------ */
/* after a fix to an earlier phase (issue 13: every blocker)           */

/* Would the per-directory rules in effect (hook_fixup's list) answer r
 * with 403 once an earlier phase (authorization) lets it through?  They
 * are replayed from r as it is now: the URI, file name, path info, query
 * string and environment hook_fixup would be given (nothing between
 * authorization and fixups changes them but a fixups hook of another
 * module, which this does not see).  1: a rule would deny, *json its
 * blocker ({"directive","file","line","section","mechanism"}) and *text
 * "`rule` (file:line)"; 0: they would not; -1: cannot tell (*text why). */
int fx_rewrite_perdir_would_deny(request_rec *r, const char **json,
                                 const char **text)
{
    apr_pool_t *p = r->pool;
    apr_array_header_t *eng = fx_records_find(p, r, "RewriteEngine");
    apr_array_header_t *list;
    const fx_shadow_rec *on = NULL;
    const fx_rw_rec *k;
    fx_rw_saved sv;
    fx_rw_baton b;
    fx_rw_result res;
    const char *perdir = NULL;
    const apr_array_header_t *env = apr_table_elts(r->subprocess_env);
    int i, rules = 0;

    *json = *text = NULL;
    for (i = 0; i < eng->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(eng, i, const fx_shadow_rec *);
        if (rec->in_htaccess || rec->dir_path) {
            on = rec;           /* outermost first: the last one holds */
        }
    }
    if (!on || strcasecmp(on->args, "on")) {
        return 0;               /* hook_fixup declines */
    }
    memset(&sv, 0, sizeof(sv));
    list = fx_rw_list(p, r, 0, &perdir);
    sv.is_subreq = r->main != NULL;
    sv.uri = r->uri;
    sv.filename = r->filename;
    sv.path_info = r->path_info;
    sv.args = r->args;
    sv.perdir = perdir;
    sv.env_n = env->nelts;
    sv.env_in_n = env->nelts < FX_RW_ENV_SNAP ? env->nelts : FX_RW_ENV_SNAP;
    sv.env_in = (const apr_table_entry_t *)env->elts;
    sv.env = r->subprocess_env;
    sv.notes = r->notes;
    sv.recs = fx_rw_keep(p, list, &sv.engine);
    for (i = 0; i < sv.recs->nelts; i++) {
        rules += !strcasecmp(APR_ARRAY_IDX(sv.recs, i, fx_rw_rec).name,
                             "RewriteRule");
    }
    if (!rules) {
        return 0;
    }
    if (!perdir) {
        *text = "the per-directory RewriteRules in effect have no directory "
                "prefix (a <Location>), which the replay does not model";
        return -1;
    }
    memset(&b, 0, sizeof(b));
    memset(&res, 0, sizeof(res));
    fx_rw_run(r, &sv, sv.recs, &b, &res);
    if (res.outcome == FX_RW_UNKNOWN) {
        *text = res.why ? res.why : "the per-directory RewriteRules could not "
                                    "be replayed";
        return -1;
    }
    if (res.outcome != FX_RW_FOUND || res.status != HTTP_FORBIDDEN
        || res.rule < 0 || res.rule >= sv.recs->nelts) {
        return 0;
    }
    k = &APR_ARRAY_IDX(sv.recs, res.rule, fx_rw_rec);
    *text = apr_psprintf(p, "`%s %s` (%s:%d)", k->name, k->args,
                         k->file ? k->file : "?", k->line);
    *json = apr_pstrcat(p, "{\"directive\":", fx_json_quote(p,
                        apr_pstrcat(p, k->name, " ", k->args, NULL), 512, NULL),
                        ",\"file\":", fx_json_quote(p, k->file ? k->file : "",
                                                    512, NULL),
                        ",\"line\":", apr_itoa(p, k->line),
                        ",\"section\":", fx_json_quote(p, k->section, 512,
                                                       NULL),
                        ",\"mechanism\":\"mod_rewrite (replayed after the "
                        "change)\"}", NULL);
    return 1;
}
