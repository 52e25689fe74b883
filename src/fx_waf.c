/* fx_waf.c — explains 403s from ModSecurity (mod_security2).
 *
 * mod_security2 writes one error-log line per rule that matched
 * ("ModSecurity: Warning. ...") and one for the rule that denied
 * ("ModSecurity: Access denied with code 403 (phase N). ..."), each with the
 * rule's file, line, id, msg, data, severity, tags and the request's
 * unique_id.  This file keeps those lines of a request (error_log hook:
 * only ModSecurity's lines, bounded copies, nothing parsed while the request
 * may still be allowed) and, once the 403 is certain, parses them
 * (fx_wafparse.c):
 *  - a rule that denies by itself is named with its file:line;
 *  - the OWASP CRS denies by anomaly score (949110 "Inbound Anomaly Score
 *    Exceeded"): the entry names the rules whose Warning lines carry the
 *    same unique_id — the ones that matched in this request — with the
 *    score each added (by its logged severity), the total and threshold.
 * The hint is a narrow runtime exclusion of the contributing rules, for the
 * variable that matched and the request's path only, said to be for false
 * positives; a blocking-evaluation rule is never proposed for removal.
 *
 * post_config (main configuration, only when mod_security2 is loaded)
 * walks ap_conftree for the SecRule/SecAction ids in use (a new rule needs a
 * free id, and a rule's logged file:line is checked against the directive
 * there), and reads the Include lines of the configuration files to find
 * the line that includes the CRS, where the exclusion goes. */
#include <string.h>
#include "fx_private.h"
#include "apr_strings.h"
#include "apr_hash.h"
#include "apr_lib.h"
#include "apr_file_io.h"
#include "apr_fnmatch.h"
#include "http_core.h"
#include "fx_json.h"
#include "fx_wafparse.h"

/* A line is at most MAX_STRING_LEN; ModSecurity's rule part is at most 1 KB
 * plus hostname, uri and unique_id. */
#define FX_WAF_LINE_MAX 4096
/* What is kept per request: a CRS block writes a handful of lines, a
 * hostile request a hundred; Warning lines beyond this many bytes are
 * counted, not kept (the denial always is). */
#define FX_WAF_MAX_BYTES (128 * 1024)
/* Bounds of what the entry carries (raw JSON is never cut by the entry). */
#define FX_WAF_RULES_BUDGET 2400
#define FX_WAF_MAX_EXCLUDE 12
/* post_config's reading of Include lines */
#define FX_WAF_MAX_FILES 1024
#define FX_WAF_MAX_FILE_SIZE (8 * 1024 * 1024)
/* Where a new local rule id is looked for (CRS leaves 1-99,999 to sites). */
#define FX_WAF_LOCAL_ID_FIRST 10000
#define FX_WAF_LOCAL_ID_LAST 99999

typedef struct {
    apr_array_header_t *lines;      /* const char *, in logged order */
    apr_size_t bytes;               /* their length */
    int dropped;                    /* Warning lines not kept (over the cap) */
    int denied;                     /* the denial is among them */
} fx_waf_state;

/* Set in post_config, read-only in the children. */
static int fx_waf_msec_index = -1;          /* mod_security2's module_index */
static apr_hash_t *fx_waf_ids;              /* "942100" -> "file:line" */
static apr_hash_t *fx_waf_rule_at;          /* "file:line" -> directive */
static apr_hash_t *fx_waf_included_from;    /* file -> fx_waf_at */

typedef struct {
    const char *file;
    int line;
} fx_waf_at;

/* ---- collection (every request) ------------------------------------ */

static void fx_waf_error_log(const ap_errorlog_info *info, const char *errstr)
{
    request_rec *top;
    fx_req_state *st;
    fx_waf_state *ws;
    const char *m;
    apr_size_t len;
    int denial;

    /* Every written line passes here: one integer compare for the lines
     * of every other module (and for all, without mod_security2). */
    if (fx_waf_msec_index < 0 || info->module_index != fx_waf_msec_index
        || !info->r || info->level < 0 || info->level > APLOG_WARNING) {
        return;
    }
    m = strstr(errstr, "ModSecurity: ");
    if (!m || m - errstr > 64) {
        return;
    }
    if (strncmp(m + 13, "Warning. ", 9) == 0) {
        denial = 0;
    }
    else if (strncmp(m + 13, "Access denied with code ", 24) == 0) {
        denial = 1;
    }
    else {
        return;
    }
    for (top = (request_rec *)info->r; top->main; top = top->main)
        ;
    st = fx_state_ensure(top);
    ws = st->subsys[FX_SLOT_WAF];
    if (!ws) {
        ws = apr_pcalloc(top->pool, sizeof(*ws));
        ws->lines = apr_array_make(top->pool, 8, sizeof(const char *));
        st->subsys[FX_SLOT_WAF] = ws;
    }
    len = strlen(m);
    len = len > FX_WAF_LINE_MAX ? FX_WAF_LINE_MAX : len;
    if (denial ? ws->denied : ws->bytes + len > FX_WAF_MAX_BYTES) {
        ws->dropped += !denial;
        return;
    }
    ws->denied |= denial;
    ws->bytes += len;
    APR_ARRAY_PUSH(ws->lines, const char *) =
        apr_pstrmemdup(top->pool, m, len);
}

/* ---- post_config: rule ids and the CRS include line ---------------- */

/* The id in a SecRule/SecAction's actions ("id:942100" or id:'942100'). */
static const char *fx_waf_args_id(apr_pool_t *p, const char *args)
{
    const char *s;
    for (s = args; (s = strstr(s, "id:")) != NULL; s += 3) {
        const char *d = s + 3, *e;
        if (s > args && !strchr("\"', ", s[-1])) {
            continue;               /* "ruleRemoveById:", "chainid:" */
        }
        if (*d == '\'') {
            d++;
        }
        for (e = d; apr_isdigit(*e); e++)
            ;
        if (e > d && e - d <= 9) {
            return apr_pstrmemdup(p, d, e - d);
        }
    }
    return NULL;
}

static void fx_waf_walk(apr_pool_t *p, const ap_directive_t *d,
                        apr_hash_t *files)
{
    for (; d; d = d->next) {
        if (d->filename) {
            apr_hash_set(files, d->filename, APR_HASH_KEY_STRING, "");
        }
        if (d->args && (strcasecmp(d->directive, "SecRule") == 0
                        || strcasecmp(d->directive, "SecAction") == 0
                        || strcasecmp(d->directive, "SecRuleScript") == 0)) {
            const char *id = fx_waf_args_id(p, d->args);
            if (id) {
                const char *at = apr_psprintf(p, "%s:%d", d->filename,
                                              d->line_num);
                apr_hash_set(fx_waf_ids, id, APR_HASH_KEY_STRING, at);
                apr_hash_set(fx_waf_rule_at, at, APR_HASH_KEY_STRING, d);
            }
        }
        if (d->first_child) {
            fx_waf_walk(p, d->first_child, files);
        }
    }
}

static void fx_waf_note_child(apr_pool_t *p, const char *child,
                              const char *file, int line,
                              apr_array_header_t *queue)
{
    fx_waf_at *at;
    if (apr_hash_get(fx_waf_included_from, child, APR_HASH_KEY_STRING)
        || queue->nelts >= FX_WAF_MAX_FILES) {
        return;
    }
    at = apr_palloc(p, sizeof(*at));
    at->file = file;
    at->line = line;
    apr_hash_set(fx_waf_included_from, child, APR_HASH_KEY_STRING, at);
    APR_ARRAY_PUSH(queue, const char *) = child;
}

/* The files an Include argument names (a file, a directory, or a wildcard
 * in the last component, as httpd expands them). */
static void fx_waf_expand(apr_pool_t *p, apr_pool_t *ptemp, const char *arg,
                          const char *file, int line,
                          apr_array_header_t *queue)
{
    const char *path = ap_server_root_relative(p, arg);
    const char *slash, *dir, *pat = NULL;
    apr_finfo_t fi;
    apr_dir_t *dh;

    if (!path) {
        return;
    }
    if (apr_fnmatch_test(path)) {
        slash = strrchr(path, '/');
        if (!slash) {
            return;
        }
        dir = apr_pstrmemdup(p, path, slash - path);
        pat = slash + 1;
        if (apr_fnmatch_test(dir)) {
            return;                 /* wildcards in directories: not read */
        }
    }
    else if (apr_stat(&fi, path, APR_FINFO_TYPE, ptemp) == APR_SUCCESS
             && fi.filetype == APR_DIR) {
        dir = path;
    }
    else {
        fx_waf_note_child(p, path, file, line, queue);
        return;
    }
    if (apr_dir_open(&dh, dir, ptemp) != APR_SUCCESS) {
        return;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dh)
           == APR_SUCCESS) {
        if (fi.filetype != APR_REG || fi.name[0] == '.'
            || (pat && apr_fnmatch(pat, fi.name, APR_FNM_PERIOD)
                       != APR_SUCCESS)) {
            continue;
        }
        fx_waf_note_child(p, apr_pstrcat(p, dir, "/", fi.name, NULL), file,
                          line, queue);
    }
    apr_dir_close(dh);
}

/* Every Include/IncludeOptional line of file: the files it pulls in (the
 * text is read into ptemp; what is kept, into p). */
static void fx_waf_scan_includes(apr_pool_t *p, apr_pool_t *ptemp,
                                 const char *file, apr_array_header_t *queue)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf, *s, *nl;
    apr_size_t got;
    int line = 0;

    if (apr_stat(&fi, file, APR_FINFO_SIZE | APR_FINFO_TYPE, ptemp)
        != APR_SUCCESS
        || fi.filetype != APR_REG || fi.size > FX_WAF_MAX_FILE_SIZE
        || apr_file_open(&f, file, APR_READ, APR_OS_DEFAULT, ptemp)
           != APR_SUCCESS) {
        return;
    }
    buf = apr_palloc(ptemp, (apr_size_t)fi.size + 1);
    if (apr_file_read_full(f, buf, (apr_size_t)fi.size, &got) != APR_SUCCESS
        && got == 0) {
        apr_file_close(f);
        return;
    }
    apr_file_close(f);
    buf[got] = '\0';
    for (s = buf; s && *s; s = nl) {
        char *arg, *end;
        nl = strchr(s, '\n');
        if (nl) {
            *nl++ = '\0';
        }
        line++;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (strncasecmp(s, "Include", 7) != 0) {
            continue;
        }
        arg = s + 7;
        if (strncasecmp(arg, "Optional", 8) == 0) {
            arg += 8;
        }
        if (*arg != ' ' && *arg != '\t') {
            continue;
        }
        while (*arg == ' ' || *arg == '\t') {
            arg++;
        }
        end = arg + strlen(arg);
        while (end > arg && (end[-1] == ' ' || end[-1] == '\t'
                             || end[-1] == '\r')) {
            *--end = '\0';
        }
        if ((*arg == '"' || *arg == '\'') && end > arg + 1
            && end[-1] == *arg) {
            end[-1] = '\0';
            arg++;
        }
        if (*arg) {
            fx_waf_expand(p, ptemp, arg, file, line, queue);
        }
    }
}

static int fx_waf_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    module *msec = ap_find_linked_module("mod_security2.c");
    apr_hash_t *files;
    apr_hash_index_t *hi;
    apr_array_header_t *queue;
    int i;
    (void)plog;
    (void)s;

    fx_waf_msec_index = msec ? msec->module_index : -1;
    fx_waf_ids = fx_waf_rule_at = fx_waf_included_from = NULL;
    if (!msec) {
        return OK;
    }
    fx_waf_ids = apr_hash_make(pconf);
    fx_waf_rule_at = apr_hash_make(pconf);
    fx_waf_included_from = apr_hash_make(pconf);
    files = apr_hash_make(ptemp);
    fx_waf_walk(pconf, ap_conftree, files);
    /* The files that hold directives, and what their Include lines pull in
     * (a file of Include lines only, like the CRS's owasp-crs.load, holds
     * no directive of its own). */
    queue = apr_array_make(ptemp, 64, sizeof(const char *));
    for (hi = apr_hash_first(ptemp, files); hi; hi = apr_hash_next(hi)) {
        const void *k;
        apr_hash_this(hi, &k, NULL, NULL);
        APR_ARRAY_PUSH(queue, const char *) = k;
    }
    for (i = 0; i < queue->nelts && i < FX_WAF_MAX_FILES; i++) {
        fx_waf_scan_includes(pconf, ptemp,
                             APR_ARRAY_IDX(queue, i, const char *), queue);
    }
    return OK;
}

void fx_waf_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_error_log(fx_waf_error_log, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(fx_waf_post_config, NULL, NULL, APR_HOOK_MIDDLE);
}

/* The Include line through which rule file was read, in the innermost
 * including file outside /usr (the package's own files under /usr/share
 * are replaced on upgrade); the outermost one when all are under /usr. */
static const fx_waf_at *fx_waf_anchor(const char *file)
{
    const fx_waf_at *at, *found = NULL;
    int depth;
    if (!fx_waf_included_from || !file) {
        return NULL;
    }
    for (depth = 0; depth < 32; depth++) {
        at = apr_hash_get(fx_waf_included_from, file, APR_HASH_KEY_STRING);
        if (!at) {
            break;
        }
        found = at;
        if (strncmp(at->file, "/usr/", 5) != 0) {
            break;
        }
        file = at->file;
    }
    return found;
}

/* A rule id no SecRule/SecAction of the configuration uses. */
static int fx_waf_free_id(apr_pool_t *p)
{
    int id;
    for (id = FX_WAF_LOCAL_ID_FIRST; id <= FX_WAF_LOCAL_ID_LAST; id++) {
        if (!fx_waf_ids || !apr_hash_get(fx_waf_ids, apr_itoa(p, id),
                                         APR_HASH_KEY_STRING)) {
            return id;
        }
    }
    return 0;
}

/* ---- explanation (403 certain) ------------------------------------- */

typedef struct {
    fx_waf_info w;
    const char *var;        /* the variable that matched, or NULL */
    const char *matched;    /* what matched in it (CRS's TX.0) */
    const char *value;      /* its value (CRS's MATCHED_VAR) */
    int score;              /* by severity */
    int pl;                 /* paranoia-level/N tag, 0 if none */
    int in_config;          /* file:line holds a rule with this id */
    int chosen;             /* the exclusion covers it */
    int var_checked;        /* var named by ModSecurity's match text or
                             * found in the request */
} fx_waf_hit;

/* 1 when the query string holds an argument named name (URL-decoded as
 * ModSecurity decodes argument names). */
static int fx_waf_query_has(apr_pool_t *p, const char *args, const char *name)
{
    char *q, *tok, *last;
    if (!args) {
        return 0;
    }
    q = apr_pstrdup(p, args);
    for (tok = apr_strtok(q, "&", &last); tok; tok = apr_strtok(NULL, "&",
                                                                  &last)) {
        char *eq = strchr(tok, '='), *c;
        if (eq) {
            *eq = '\0';
        }
        for (c = tok; *c; c++) {
            if (*c == '+') {
                *c = ' ';
            }
        }
        ap_unescape_url(tok);
        if (strcmp(tok, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* 1 when the variable name a client could have chosen is one this request
 * really carries (arguments of the query string, headers, cookies). */
static int fx_waf_var_in_request(request_rec *r, const char *var)
{
    const char *c = strchr(var, ':');
    apr_size_t n = c ? (apr_size_t)(c - var) : 0;
    if (!c) {
        return 0;
    }
    if ((n == 4 && strncmp(var, "ARGS", 4) == 0)
        || (n == 8 && strncmp(var, "ARGS_GET", 8) == 0)) {
        return fx_waf_query_has(r->pool, r->args, c + 1);
    }
    if (n == 15 && strncmp(var, "REQUEST_HEADERS", 15) == 0) {
        return apr_table_get(r->headers_in, c + 1) != NULL;
    }
    if (n == 15 && strncmp(var, "REQUEST_COOKIES", 15) == 0) {
        const char *ck = apr_table_get(r->headers_in, "Cookie");
        return ck && strstr(ck, apr_pstrcat(r->pool, c + 1, "=", NULL));
    }
    return 0;
}

/* Which variable matched: the one ModSecurity names after the operator
 * ("... at ARGS:id."), else (libinjection) the split of CRS's [data] whose
 * variable this request carries. */
static void fx_waf_hit_var(request_rec *r, fx_waf_hit *h)
{
    const char *mv = fx_waf_match_var(r->pool, h->w.match);
    const char *m, *v, *val, *m1 = NULL, *v1 = NULL, *val1 = NULL;
    int k;
    for (k = 0; fx_waf_split_data(r->pool, h->w.data, k, &m, &v, &val);
         k++) {
        if (mv ? strcmp(v, mv) == 0 : fx_waf_var_in_request(r, v)) {
            h->var = v;
            h->matched = m;
            h->value = val;
            h->var_checked = 1;
            return;
        }
        if (k == 0) {
            m1 = m;
            v1 = v;
            val1 = val;
        }
    }
    if (mv) {
        h->var = mv;
        h->var_checked = 1;
    }
    else if (k == 1 && r->method_number == M_POST
             && (strncmp(v1, "ARGS:", 5) == 0
                 || strncmp(v1, "ARGS_POST:", 10) == 0)) {
        /* A body argument, which the module does not see: the one split
         * of [data] there is (a name holding ": " would be cut there; the
         * exclusion would then miss, never widen) */
        h->var = v1;
        h->matched = m1;
        h->value = val1;
    }
}

static int fx_waf_tag_pl(const fx_waf_info *w)
{
    int i;
    for (i = 0; i < w->tags->nelts; i++) {
        const char *t = APR_ARRAY_IDX(w->tags, i, const char *);
        if (strncmp(t, "paranoia-level/", 15) == 0 && apr_isdigit(t[15])
            && !t[16]) {
            return t[15] - '0';
        }
    }
    return 0;
}

/* The SecRule/SecAction directive at the logged file:line when it holds
 * the logged id (ModSecurity logs the line httpd's parser gave it), or
 * NULL. */
static const ap_directive_t *fx_waf_directive(apr_pool_t *p,
                                              const fx_waf_info *w)
{
    const ap_directive_t *d;
    const char *id;
    if (!fx_waf_rule_at || !w->file || !w->line || !w->id) {
        return NULL;
    }
    d = apr_hash_get(fx_waf_rule_at, apr_psprintf(p, "%s:%d", w->file,
                                                  w->line),
                     APR_HASH_KEY_STRING);
    id = d ? fx_waf_args_id(p, d->args) : NULL;
    return id && strcmp(id, w->id) == 0 ? d : NULL;
}

static int fx_waf_in_config(apr_pool_t *p, const fx_waf_info *w)
{
    return fx_waf_directive(p, w) != NULL;
}

/* A ModSecurity variable an exclusion can name: a request collection with
 * a key, written with safe bytes only. */
static int fx_waf_excludable_var(const char *var)
{
    static const char *const coll[] = {
        "ARGS:", "ARGS_GET:", "ARGS_POST:", "ARGS_NAMES:", "REQUEST_HEADERS:",
        "REQUEST_COOKIES:", "REQUEST_COOKIES_NAMES:", "FILES:", "XML:", NULL
    };
    int i;
    if (!var || !fx_waf_config_safe(var)) {
        return 0;
    }
    for (i = 0; coll[i]; i++) {
        if (strncmp(var, coll[i], strlen(coll[i])) == 0
            && var[strlen(coll[i])]) {
            return 1;
        }
    }
    return 0;
}

static const char *fx_q(apr_pool_t *p, const char *s, apr_size_t max)
{
    return fx_json_quote(p, s ? s : "", max, NULL);
}

/* One contributing rule as a JSON object, bounded. */
static const char *fx_waf_hit_json(apr_pool_t *p, const fx_waf_hit *h)
{
    apr_array_header_t *parts = apr_array_make(p, 16, sizeof(const char *));
    apr_array_header_t *tags = apr_array_make(p, 4, sizeof(const char *));
    int i;

    APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(p, "{\"id\":",
                                                      fx_q(p, h->w.id, 16),
                                                      NULL);
    if (h->w.msg) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrcat(p, ",\"msg\":", fx_q(p, h->w.msg, 160), NULL);
    }
    if (h->w.severity) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrcat(p, ",\"severity\":", fx_q(p, h->w.severity, 16),
                        NULL);
    }
    APR_ARRAY_PUSH(parts, const char *) = apr_psprintf(p, ",\"score\":%d",
                                                       h->score);
    for (i = 0; i < h->w.tags->nelts && tags->nelts < 4; i++) {
        const char *t = APR_ARRAY_IDX(h->w.tags, i, const char *);
        if (strncmp(t, "attack-", 7) == 0
            || strncmp(t, "paranoia-level/", 15) == 0) {
            APR_ARRAY_PUSH(tags, const char *) = fx_q(p, t, 48);
        }
    }
    APR_ARRAY_PUSH(parts, const char *) =
        apr_pstrcat(p, ",\"tags\":[", apr_array_pstrcat(p, tags, ','), "]",
                    NULL);
    if (h->pl) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_psprintf(p, ",\"paranoia_level\":%d", h->pl);
    }
    if (h->var) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrcat(p, ",\"variable\":", fx_q(p, h->var, 96),
                        h->var_checked ? "" : ",\"variable_checked\":false",
                        NULL);
    }
    if (h->matched) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrcat(p, ",\"matched\":", fx_q(p, h->matched, 96), NULL);
    }
    if (h->value) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrcat(p, ",\"value\":", fx_q(p, h->value, 128), NULL);
    }
    else if (h->w.data && !h->matched) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_pstrcat(p, ",\"data\":", fx_q(p, h->w.data, 128), NULL);
    }
    /* A cut line's file:line is given only when the configuration holds
     * that rule there. */
    if (h->w.file && h->w.line && (h->in_config || !h->w.cut)) {
        APR_ARRAY_PUSH(parts, const char *) =
            apr_psprintf(p, ",\"file\":%s,\"line\":%d",
                         fx_q(p, h->w.file, 256), h->w.line);
    }
    if (h->w.cut) {
        APR_ARRAY_PUSH(parts, const char *) = ",\"cut\":true";
    }
    APR_ARRAY_PUSH(parts, const char *) = "}";
    return apr_array_pstrcat(p, parts, 0);
}

/* The lines of this request's ModSecurity run: the denial and the Warning
 * lines before it with its unique_id. */
static int fx_waf_collect(request_rec *r, const fx_waf_state *ws,
                          fx_waf_info *deny, apr_array_header_t *hits)
{
    int i, d = -1;
    for (i = 0; i < ws->lines->nelts; i++) {
        if (fx_waf_parse(r->pool, APR_ARRAY_IDX(ws->lines, i, const char *),
                         deny) == FX_WAF_DENIED) {
            d = i;
            break;
        }
    }
    if (d < 0) {
        return 0;
    }
    for (i = 0; i < d; i++) {
        fx_waf_hit *h = apr_pcalloc(r->pool, sizeof(*h));
        if (fx_waf_parse(r->pool, APR_ARRAY_IDX(ws->lines, i, const char *),
                         &h->w) != FX_WAF_WARNING || !h->w.id
            || fx_waf_is_evaluation_rule(h->w.id)) {
            continue;
        }
        if (deny->unique_id ? !h->w.unique_id
                              || strcmp(h->w.unique_id, deny->unique_id) != 0
                            : h->w.unique_id != NULL) {
            continue;
        }
        h->score = fx_waf_severity_score(h->w.severity);
        h->pl = fx_waf_tag_pl(&h->w);
        h->in_config = fx_waf_in_config(r->pool, &h->w);
        fx_waf_hit_var(r, h);
        APR_ARRAY_PUSH(hits, fx_waf_hit *) = h;
    }
    return 1;
}

/* Marks the hits a false-positive exclusion must cover (fx_waf_choose);
 * returns the score left. */
static int fx_waf_pick(apr_pool_t *p, apr_array_header_t *hits, int total,
                       int threshold, int accounted)
{
    int n = hits->nelts, i, left;
    const char **vars = apr_palloc(p, sizeof(*vars) * (n ? n : 1));
    int *scores = apr_palloc(p, sizeof(int) * (n ? n : 1) * 2);
    int *chosen = scores + (n ? n : 1);
    for (i = 0; i < n; i++) {
        fx_waf_hit *h = APR_ARRAY_IDX(hits, i, fx_waf_hit *);
        vars[i] = h->var;
        scores[i] = h->score;
    }
    left = fx_waf_choose(p, n, vars, scores, total, threshold, accounted,
                         chosen);
    for (i = 0; i < n; i++) {
        APR_ARRAY_IDX(hits, i, fx_waf_hit *)->chosen = chosen[i];
    }
    return left;
}

/* The runtime exclusion: ctl actions for the chosen hits, or NULL. */
static const char *fx_waf_ctl(apr_pool_t *p, apr_array_header_t *hits,
                              const char **list)
{
    apr_array_header_t *acts = apr_array_make(p, 8, sizeof(const char *));
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(const char *));
    int i, j;
    for (i = 0; i < hits->nelts; i++) {
        fx_waf_hit *h = APR_ARRAY_IDX(hits, i, fx_waf_hit *);
        const char *a, *n;
        if (!h->chosen) {
            continue;
        }
        if (!fx_waf_config_safe(h->w.id)) {
            return NULL;
        }
        if (fx_waf_excludable_var(h->var)) {
            a = apr_psprintf(p, "ctl:ruleRemoveTargetById=%s;%s", h->w.id,
                             h->var);
            n = apr_psprintf(p, "rule %s for %s", h->w.id, h->var);
        }
        else {
            a = apr_psprintf(p, "ctl:ruleRemoveById=%s", h->w.id);
            n = apr_psprintf(p, "rule %s (all of it on this path: no "
                             "variable it can be narrowed to)", h->w.id);
        }
        for (j = 0; j < acts->nelts; j++) {
            if (strcmp(APR_ARRAY_IDX(acts, j, const char *), a) == 0) {
                break;
            }
        }
        if (j < acts->nelts) {
            continue;               /* multiMatch: the same rule again */
        }
        if (acts->nelts >= FX_WAF_MAX_EXCLUDE) {
            return NULL;
        }
        APR_ARRAY_PUSH(acts, const char *) = a;
        APR_ARRAY_PUSH(names, const char *) = names->nelts
                                              ? apr_pstrcat(p, " ", n, NULL)
                                              : n;
    }
    if (!acts->nelts) {
        return NULL;
    }
    *list = apr_array_pstrcat(p, names, ',');
    return apr_array_pstrcat(p, acts, ',');
}

/* s with each run of blanks (continuation lines) made one space, cut at
 * max bytes with "...". */
static const char *fx_waf_squeeze(apr_pool_t *p, const char *s,
                                  apr_size_t max)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (apr_isspace(*s)) {
            if (o > out && o[-1] == ' ') {
                continue;
            }
            *o++ = ' ';
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    if ((apr_size_t)(o - out) > max) {
        strcpy(out + max - 3, "...");
    }
    return out;
}

static void fx_waf_set_common(request_rec *r, const fx_waf_info *w,
                              fx_entry *e)
{
    const ap_directive_t *d = fx_waf_directive(r->pool, w);
    const char *directive, *section;

    fx_entry_set(e, "reason", "waf");
    fx_entry_set(e, "protection", "waf");
    /* a cut line's file:line only when the configuration confirms it */
    if (w->file && (d || !w->cut)) {
        fx_entry_set(e, "file", w->file);
    }
    if (w->line && (d || !w->cut)) {
        fx_entry_set_int(e, "line", w->line);
    }
    if (w->id) {
        fx_entry_set(e, "waf_rule_id", w->id);
    }
    /* The directive as written when the configuration holds it there (the
     * arguments of a CRS rule run to a kilobyte: bounded by the entry). */
    directive = d ? fx_waf_squeeze(r->pool, apr_pstrcat(r->pool,
                        d->directive, " ", d->args, NULL), 240)
                  : apr_pstrcat(r->pool, "SecRule id:", w->id ? w->id : "?",
                                NULL);
    section = d ? fx_section_chain(r->pool, d) : NULL;
    fx_entry_set(e, "directive", directive);
    if (section) {
        fx_entry_set(e, "section", section);
    }
    if (w->msg) {
        fx_entry_set(e, "waf_msg", w->msg);
    }
    if (w->phase) {
        fx_entry_set_int(e, "waf_phase", w->phase);
    }
    if (w->match) {
        fx_entry_set(e, "waf_match", w->match);
    }
    if (w->unique_id) {
        fx_entry_set(e, "waf_unique_id", w->unique_id);
    }
    fx_entry_set_raw(e, "blockers", apr_psprintf(r->pool,
        "[{\"directive\":%s,\"file\":%s,\"line\":%d,\"section\":%s,"
        "\"mechanism\":\"ModSecurity\"}]",
        fx_q(r->pool, directive, 320),
        fx_q(r->pool, d || !w->cut ? w->file : NULL, 256),
        d || !w->cut ? w->line : 0, fx_q(r->pool, section, 200)));
    fx_entry_set_raw(e, "hint_verified", "false");
    fx_entry_set(e, "hint_unverified",
                 "ModSecurity rules are not re-evaluated by the module");
}

/* The hint and fix for excluding the chosen rules on this path only. */
static void fx_waf_set_hint(request_rec *r, const fx_waf_info *deny,
                            const char *ctl, const char *list, int left,
                            int threshold, int accounted, fx_entry *e)
{
    apr_pool_t *p = r->pool;
    const char *path = r->parsed_uri.path;
    const fx_waf_at *at = fx_waf_anchor(deny->file);
    int id = fx_waf_free_id(p);
    const char *keep = fx_waf_is_evaluation_rule(deny->id)
        ? apr_psprintf(p, "keep %s and the rule set as they are", deny->id)
        : "keep the rule in place for every other request";
    const char *rule, *effect, *where, *ins_file = NULL;
    int ins_after = -1;

    if (!ctl || !fx_waf_config_safe(path) || !id) {
        fx_entry_set(e, "hint", apr_psprintf(p, "If this request is an "
            "attack, the WAF works as intended: %s.  Only if it is a false "
            "positive: exclude %s for this URL alone with a runtime "
            "exclusion (SecRule REQUEST_FILENAME \"@streq <path>\" "
            "\"id:<new id>,phase:1,pass,nolog,ctl:ruleRemoveTargetById=<id>;"
            "<variable>\") before the rules are included; the module did "
            "not write it for this request (%s).", keep,
            list ? list : "the rule", !ctl ? "more than 12 rule and "
            "variable pairs, or a rule id or variable it cannot write into "
            "the configuration as is" : !id ? "no free rule id"
            : "a path it cannot write into the configuration as is"));
        return;
    }
    /* Where the exclusion goes: before the Include line that reads the
     * denying rule's file (a phase:1 exclusion there runs before every rule
     * of that file), else, for a rule of phase 2 or later written in the
     * file itself, right after it (phase 1 runs before phase 2). */
    if (at) {
        ins_file = at->file;
        ins_after = at->line - 1;
        where = apr_psprintf(p, "before the Include at %s:%d", at->file,
                             at->line);
    }
    else if (deny->file && deny->line > 0 && deny->phase >= 2
             && strncmp(deny->file, "/usr/", 5) != 0) {
        ins_file = deny->file;
        ins_after = deny->line;
        where = apr_psprintf(p, "after rule %s (%s:%d)", deny->id,
                             deny->file, deny->line);
    }
    else {
        where = "before the rule is read";
    }
    rule = apr_psprintf(p, "SecRule REQUEST_FILENAME \"@streq %s\" "
                        "\"id:%d,phase:1,pass,t:none,nolog,%s\"", path, id,
                        ctl);
    effect = threshold < 0 ? ""
        : accounted
        ? apr_psprintf(p, "  By the rules' logged severities that leaves an "
                       "inbound score of %d, below the threshold %d.", left,
                       threshold)
        : "  The logged scores of the matched rules do not add up to the "
          "total (custom anomaly scores?), so every matched rule is in it.";
    fx_entry_set(e, "hint", apr_psprintf(p, "If this request is an attack, "
        "the WAF works as intended: %s.  Only if it is a false positive: "
        "exclude %s on %s alone, with this runtime exclusion placed "
        "%s: %s.%s", keep, list, path, where, rule, effect));
    if (ins_file && ins_after >= 0) {
        const char *text = apr_pstrcat(p, "# false positive on ", path,
            " (mod_forbidden_explain): exclude ", list, "\n", rule, NULL);
        fx_entry_set_raw(e, "fix", apr_psprintf(p,
            "[{\"op\":\"insert\",\"file\":%s,\"after_line\":%d,"
            "\"text\":%s}]", fx_q(p, ins_file, 512), ins_after,
            fx_q(p, text, 1400)));
    }
}

void fx_waf_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                    fx_entry *e)
{
    fx_req_state *first = fx_state_get(r);
    const fx_waf_state *ws = st->subsys[FX_SLOT_WAF];
    apr_array_header_t *hits, *parts;
    fx_waf_info deny;
    const char *ctl, *list = NULL;
    int i, total, threshold, sum = 0, accounted, left, omitted = 0, used;
    int pl = 0;
    (void)failed;

    /* Logged on the request that failed, or on the initial one. */
    if (!ws && first) {
        ws = first->subsys[FX_SLOT_WAF];
    }
    hits = apr_array_make(r->pool, 8, sizeof(fx_waf_hit *));
    if (!ws || !fx_waf_collect(r, ws, &deny, hits)
        || deny.status != HTTP_FORBIDDEN) {
        return;
    }
    fx_waf_set_common(r, &deny, e);
    total = fx_waf_total_score(deny.msg);
    threshold = fx_waf_threshold(deny.match);

    if (!fx_waf_is_evaluation_rule(deny.id) || total < 0) {
        /* A rule that denies by itself: it is the one to narrow. */
        fx_waf_hit *h = apr_pcalloc(r->pool, sizeof(*h));
        h->w = deny;
        fx_waf_hit_var(r, h);
        apr_array_clear(hits);
        APR_ARRAY_PUSH(hits, fx_waf_hit *) = h;
        fx_waf_pick(r->pool, hits, 0, -1, 0);
        ctl = fx_waf_ctl(r->pool, hits, &list);
        if (h->var) {
            fx_entry_set(e, "waf_variable", h->var);
        }
        fx_entry_set(e, "detail", apr_psprintf(r->pool, "ModSecurity rule %s "
                     "denied the request in its phase %d%s%s.",
                     deny.id ? deny.id : "(no id)", deny.phase,
                     deny.msg ? ": " : "", deny.msg ? deny.msg : ""));
        fx_waf_set_hint(r, &deny, ctl, list ? list
                        : apr_pstrcat(r->pool, "rule ",
                                      deny.id ? deny.id : "?", NULL),
                        0, -1, 0, e);
        return;
    }

    /* CRS anomaly scoring: the rules that matched in this request. */
    fx_entry_set(e, "waf_mode", "anomaly");
    fx_entry_set_int(e, "waf_score", total);
    if (threshold >= 0) {
        fx_entry_set_int(e, "waf_threshold", threshold);
    }
    parts = apr_array_make(r->pool, 8, sizeof(const char *));
    used = 2;
    for (i = 0; i < hits->nelts; i++) {
        fx_waf_hit *h = APR_ARRAY_IDX(hits, i, fx_waf_hit *);
        const char *j = fx_waf_hit_json(r->pool, h);
        sum += h->score;
        pl = h->pl > pl ? h->pl : pl;
        if (used + strlen(j) + 1 > FX_WAF_RULES_BUDGET) {
            omitted++;
            continue;
        }
        used += strlen(j) + 1;
        APR_ARRAY_PUSH(parts, const char *) = j;
    }
    fx_entry_set_raw(e, "waf_rules", apr_pstrcat(r->pool, "[",
                     apr_array_pstrcat(r->pool, parts, ','), "]", NULL));
    if (omitted) {
        fx_entry_set_int(e, "waf_rules_omitted", omitted);
    }
    if (ws->dropped) {
        fx_entry_set_int(e, "waf_lines_not_kept", ws->dropped);
    }
    if (pl) {
        /* a rule tagged paranoia-level/N runs only at level N or above */
        fx_entry_set_int(e, "waf_paranoia_level_at_least", pl);
    }
    accounted = sum == total && !ws->dropped;
    fx_entry_set_raw(e, "waf_score_accounted", accounted ? "true" : "false");

    left = fx_waf_pick(r->pool, hits, total, threshold, accounted);
    ctl = fx_waf_ctl(r->pool, hits, &list);
    {
        apr_array_header_t *d = apr_array_make(r->pool, 8,
                                               sizeof(const char *));
        for (i = 0; i < hits->nelts && i < 8; i++) {
            /* (the rest: in waf_rules, or counted) */
            fx_waf_hit *h = APR_ARRAY_IDX(hits, i, fx_waf_hit *);
            APR_ARRAY_PUSH(d, const char *) = apr_psprintf(r->pool,
                "%s%s (%s, +%d%s%s)", i ? " " : "", h->w.id,
                h->w.severity ? h->w.severity : "no severity", h->score,
                h->var ? ", " : "", h->var ? h->var : "");
        }
        fx_entry_set(e, "detail", apr_psprintf(r->pool,
            "ModSecurity's OWASP CRS denied the request by anomaly score: "
            "rule %s found an inbound score of %d%s.  %s%s%s.",
            deny.id, total,
            threshold >= 0 ? apr_psprintf(r->pool, " (threshold %d)",
                                          threshold) : "",
            hits->nelts ? "Rules that matched in this request: "
                        : "No rule's Warning line of this request was seen",
            apr_array_pstrcat(r->pool, d, ','),
            hits->nelts > 8 ? apr_psprintf(r->pool, " and %d more",
                                           hits->nelts - 8) : ""));
    }
    if (!hits->nelts) {
        return;
    }
    fx_waf_set_hint(r, &deny, ctl, list, left, threshold, accounted, e);
}

/* The ids of the rules whose Warning lines this request logged so far
 * (not the CRS's own evaluation rules), as a JSON array of strings; NULL
 * when mod_security2 logged none.  For an entry of another phase: the WAF
 * is a blocker the module does not re-evaluate, these matched already. */
const char *fx_waf_matched_ids(request_rec *r, fx_req_state *st)
{
    fx_req_state *first = fx_state_get(r);
    const fx_waf_state *ws = st ? st->subsys[FX_SLOT_WAF] : NULL;
    const char *out = NULL;
    int i, n = 0;

    if (!ws && first) {
        ws = first->subsys[FX_SLOT_WAF];
    }
    for (i = 0; ws && i < ws->lines->nelts && n < 16; i++) {
        fx_waf_info w;
        if (fx_waf_parse(r->pool, APR_ARRAY_IDX(ws->lines, i, const char *),
                         &w) != FX_WAF_WARNING || !w.id
            || fx_waf_is_evaluation_rule(w.id)) {
            continue;
        }
        out = apr_pstrcat(r->pool, out ? out : "[", out ? "," : "",
                          fx_json_quote(r->pool, w.id, 32, NULL), NULL);
        n++;
    }
    return out ? apr_pstrcat(r->pool, out, "]", NULL) : NULL;
}
