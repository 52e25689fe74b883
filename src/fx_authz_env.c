/* fx_authz_env.c — owns the provenance of environment variables that
 * authorization rules test (Require env, Require not env, Allow/Deny from
 * env=): which SetEnvIf / SetEnvIfNoCase / BrowserMatch / BrowserMatchNoCase
 * line of the main configuration set the variable, from which header value.
 *
 * mod_setenvif keeps no location for its entries and its configuration is
 * private, so the lines are found by walking ap_conftree in post_config
 * (once per generation, into pconf).  Their regexes are compiled there only
 * for variables some Require/Allow/Deny line of the main configuration
 * names (the Bad Bot Blocker has 8,000 lines for one variable: compiling at
 * 403 time would make every refused bot expensive); others are compiled on
 * demand, bounded, in the request pool.  Nothing static is written at
 * request time.
 *
 * mod_setenvif applies the server-level entries (post_read_request), then
 * the per-directory ones (header_parser), each in order; the last matching
 * entry that names a variable decides it.  The re-test walks the same list
 * backwards and stops at the first applicable match.  An entry in a section
 * not known to apply to this request that matches makes the answer "cannot
 * tell". */
#include <string.h>
#include "apr_strings.h"
#include "httpd.h"
#include "http_core.h"
#include "http_config.h"
#include "fx_private.h"
#include "fx_json.h"
#include "fx_authz_env.h"

typedef struct {
    const ap_directive_t *d;
    const char *attr;           /* as written; "User-Agent" for BrowserMatch */
    int special;                /* FX_EV_* */
    const char *regex;
    int icase;
    ap_regex_t *re;             /* NULL: not compiled in post_config */
    const char **names;         /* variables it sets or unsets */
    const char **vals;          /* value, or "!" for unset */
    int nfeat;
    const ap_directive_t *vhost;    /* enclosing <VirtualHost> */
    const ap_directive_t *section;  /* enclosing per-directory section */
} fx_ev_line;

enum { FX_EV_HEADER, FX_EV_REMOTE_ADDR, FX_EV_SERVER_ADDR, FX_EV_URI,
       FX_EV_METHOD, FX_EV_PROTOCOL, FX_EV_UNSUPPORTED };

/* Server-level lines first, then per-directory ones: mod_setenvif's order. */
static apr_array_header_t *fx_ev_lines;
#define FX_EV_LAZY_MAX 256

static int fx_ev_is(const ap_directive_t *d, const char *name)
{
    return d->directive && !strcasecmp(d->directive, name);
}

static int fx_ev_is_section(const ap_directive_t *d)
{
    static const char *const names[] = {
        "<Directory", "<DirectoryMatch", "<Location", "<LocationMatch",
        "<Files", "<FilesMatch", "<If", "<ElseIf", "<Else", "<Proxy",
        "<ProxyMatch", NULL };
    int i;
    for (i = 0; names[i]; i++) {
        if (fx_ev_is(d, names[i])) {
            return 1;
        }
    }
    return 0;
}

static int fx_ev_special(const char *attr)
{
    static const char hdr_chars[] =
        "-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
    if (!strcasecmp(attr, "remote_addr")) return FX_EV_REMOTE_ADDR;
    if (!strcasecmp(attr, "server_addr")) return FX_EV_SERVER_ADDR;
    if (!strcasecmp(attr, "request_uri")) return FX_EV_URI;
    if (!strcasecmp(attr, "request_method")) return FX_EV_METHOD;
    if (!strcasecmp(attr, "request_protocol")) return FX_EV_PROTOCOL;
    /* remote_host needs a DNS look-up; a header-name regex is rare */
    if (!strcasecmp(attr, "remote_host") || attr[strspn(attr, hdr_chars)]) {
        return FX_EV_UNSUPPORTED;
    }
    return FX_EV_HEADER;
}

static void fx_ev_add(apr_pool_t *p, const ap_directive_t *d,
                      const ap_directive_t *vhost,
                      const ap_directive_t *section,
                      apr_array_header_t *srv, apr_array_header_t *dir)
{
    int browser = fx_ev_is(d, "BrowserMatch") || fx_ev_is(d, "BrowserMatchNoCase");
    const char *a = d->args ? d->args : "";
    fx_ev_line *l;
    apr_array_header_t *names, *vals;

    if (!browser && !fx_ev_is(d, "SetEnvIf") && !fx_ev_is(d, "SetEnvIfNoCase")) {
        return;
    }
    l = apr_array_push(section ? dir : srv);
    memset(l, 0, sizeof(*l));
    l->d = d;
    l->vhost = vhost;
    l->section = section;
    l->attr = browser ? "User-Agent" : ap_getword_conf(p, &a);
    l->special = fx_ev_special(l->attr);
    l->regex = ap_getword_conf(p, &a);
    l->icase = fx_ev_is(d, "BrowserMatchNoCase") || fx_ev_is(d, "SetEnvIfNoCase");
    names = apr_array_make(p, 1, sizeof(const char *));
    vals = apr_array_make(p, 1, sizeof(const char *));
    while (*a) {
        char *w = ap_getword_conf(p, &a), *eq;
        if (!*w) {
            break;
        }
        if (*w == '!') {
            APR_ARRAY_PUSH(names, const char *) = w + 1;
            APR_ARRAY_PUSH(vals, const char *) = "!";
            continue;
        }
        eq = strchr(w, '=');
        if (eq) {
            *eq = '\0';
        }
        APR_ARRAY_PUSH(names, const char *) = w;
        APR_ARRAY_PUSH(vals, const char *) = eq ? eq + 1 : "1";
    }
    l->names = (const char **)names->elts;
    l->vals = (const char **)vals->elts;
    l->nfeat = names->nelts;
}

/* Variables the main configuration's authorization rules name. */
static void fx_ev_wanted(apr_pool_t *p, const ap_directive_t *d,
                         apr_hash_t *want)
{
    const char *a = d->args ? d->args : "";
    if (fx_ev_is(d, "Require")) {
        char *w = ap_getword_conf(p, &a);
        if (!strcasecmp(w, "not")) {
            w = ap_getword_conf(p, &a);
        }
        if (strcasecmp(w, "env")) {
            return;
        }
        while (*a) {
            w = ap_getword_conf(p, &a);
            if (*w) {
                apr_hash_set(want, w, APR_HASH_KEY_STRING, w);
            }
        }
    }
    else if (fx_ev_is(d, "Allow") || fx_ev_is(d, "Deny")) {
        while (*a) {
            char *w = ap_getword_conf(p, &a);
            if (!strncasecmp(w, "env=", 4)) {
                w += 4 + (w[4] == '!');
                apr_hash_set(want, w, APR_HASH_KEY_STRING, w);
            }
        }
    }
}

static void fx_ev_walk(apr_pool_t *p, const ap_directive_t *d,
                       const ap_directive_t *vhost,
                       const ap_directive_t *section,
                       apr_array_header_t *srv, apr_array_header_t *dir,
                       apr_hash_t *want)
{
    for (; d; d = d->next) {
        fx_ev_add(p, d, vhost, section, srv, dir);
        fx_ev_wanted(p, d, want);
        if (d->first_child) {
            fx_ev_walk(p, d->first_child,
                       fx_ev_is(d, "<VirtualHost") ? d : vhost,
                       fx_ev_is_section(d) ? d : section, srv, dir, want);
        }
    }
}

void fx_azenv_collect(apr_pool_t *pconf)
{
    apr_array_header_t *srv = apr_array_make(pconf, 16, sizeof(fx_ev_line));
    apr_array_header_t *dir = apr_array_make(pconf, 16, sizeof(fx_ev_line));
    apr_hash_t *want = apr_hash_make(pconf);
    int i, j;

    fx_ev_walk(pconf, ap_conftree, NULL, NULL, srv, dir, want);
    apr_array_cat(srv, dir);
    for (i = 0; i < srv->nelts; i++) {
        fx_ev_line *l = &APR_ARRAY_IDX(srv, i, fx_ev_line);
        for (j = 0; j < l->nfeat; j++) {
            if (apr_hash_get(want, l->names[j], APR_HASH_KEY_STRING)) {
                l->re = ap_pregcomp(pconf, l->regex, AP_REG_EXTENDED
                                    | (l->icase ? AP_REG_ICASE : 0));
                break;
            }
        }
    }
    fx_ev_lines = srv;
}

/* -1: the line does not name var; else the index of its feature. */
static int fx_ev_feature(const fx_ev_line *l, const char *var)
{
    int j;
    for (j = l->nfeat - 1; j >= 0; j--) {
        if (!strcmp(l->names[j], var)) {
            return j;
        }
    }
    return -1;
}

/* For a plain <Directory path> or <Location path> (no wildcard, no regex):
 * 1 when what (r->filename, r->uri) lies at or under path, 0 when not; -1
 * for every other section. */
static int fx_ev_path_section(request_rec *r, const ap_directive_t *s)
{
    int dir = fx_ev_is(s, "<Directory"), loc = fx_ev_is(s, "<Location");
    const char *a = s->args ? s->args : "", *what;
    char *path;
    apr_size_t n;

    if (!dir && !loc) {
        return -1;
    }
    path = ap_getword_conf(r->pool, &a);
    n = strlen(path);
    if (n && path[n - 1] == '>') {
        path[--n] = '\0';
    }
    if (n && (path[n - 1] == '"' || path[n - 1] == '\'')) {
        path[--n] = '\0';
    }
    if (!n || *path == '~' || strpbrk(path, "*?[") || (dir && *path != '/')) {
        return -1;
    }
    what = dir ? r->filename : r->uri;
    if (!what) {
        return -1;
    }
    while (n > 1 && path[n - 1] == '/') {
        n--;
    }
    if (strncmp(what, path, n) != 0) {
        return 0;
    }
    return (what[n] == '\0' || what[n] == '/' || path[n - 1] == '/') ? 1 : 0;
}

/* 1 applies, 0 does not, -1 cannot tell. */
static int fx_ev_applies(request_rec *r, const fx_ev_line *l,
                         const ap_directive_t *const *in_effect, int n)
{
    int i;
    if (l->vhost) {
        const server_rec *s = r->server;
        if (!s->defn_name || strcmp(s->defn_name, l->vhost->filename)
            || s->defn_line_number != (unsigned)l->vhost->line_num) {
            return 0;
        }
    }
    if (!l->section) {
        return 1;
    }
    if (fx_ev_path_section(r, l->section) == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        const ap_directive_t *s;
        for (s = in_effect[i]; s; s = s->parent) {
            if (s == l->section) {
                return 1;
            }
        }
    }
    /* a plain <Directory>/<Location> nested in nothing else applies to
     * everything under its path */
    if (l->section->parent == l->vhost
        || (l->section->parent && !fx_ev_is_section(l->section->parent)
            && !fx_ev_is(l->section->parent, "<VirtualHost"))) {
        return fx_ev_path_section(r, l->section);
    }
    return -1;
}

static const char *fx_ev_value(request_rec *r, const fx_ev_line *l)
{
    const char *v;
    switch (l->special) {
    case FX_EV_REMOTE_ADDR: return r->useragent_ip;
    case FX_EV_SERVER_ADDR: return r->connection->local_ip;
    case FX_EV_URI:         return r->uri;
    case FX_EV_METHOD:      return r->method;
    case FX_EV_PROTOCOL:    return r->protocol;
    default:
        v = apr_table_get(r->headers_in, l->attr);
        return v ? v : apr_table_get(r->subprocess_env, l->attr);
    }
}

static const char *fx_ev_text(apr_pool_t *p, const ap_directive_t *d)
{
    return apr_pstrcat(p, d->directive, " ", d->args ? d->args : "", NULL);
}

static const char *fx_ev_json(apr_pool_t *p, const char *var,
                              const fx_ev_line *l, const char *value,
                              int matched)
{
    return apr_pstrcat(p, "{\"var\":", fx_json_quote(p, var, 128, NULL),
                       ",\"directive\":",
                       fx_json_quote(p, fx_ev_text(p, l->d), 512, NULL),
                       ",\"file\":", fx_json_quote(p, l->d->filename, 512, NULL),
                       ",\"line\":", apr_itoa(p, l->d->line_num),
                       ",\"attribute\":", fx_json_quote(p, l->attr, 128, NULL),
                       ",\"value\":", fx_json_quote(p, value ? value : "", 256,
                                                    NULL),
                       ",\"matched\":", matched ? "true" : "false", "}", NULL);
}

/* The last SetEnvIf/BrowserMatch line of the .htaccess files r read
 * (fx_conftree.c records them at 403 time, in merge order) that names var
 * and matches: 1 (*out, *val, *feat filled), 0 none, -1 cannot tell. */
static int fx_ev_htaccess(request_rec *r, apr_pool_t *p, const char *var,
                          fx_ev_line *out, const char **val, int *feat)
{
    apr_array_header_t *all = fx_records_find(p, r, NULL);
    int i;
    for (i = all->nelts - 1; i >= 0; i--) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(all, i, const fx_shadow_rec *);
        apr_array_header_t *tmp;
        const fx_ev_line *l;
        ap_regex_t *re;
        const char *v;
        int f;
        if (!rec->in_htaccess || !rec->where) {
            continue;
        }
        tmp = apr_array_make(p, 1, sizeof(fx_ev_line));
        fx_ev_add(p, rec->where, NULL, NULL, tmp, tmp);
        if (!tmp->nelts) {
            continue;
        }
        l = &APR_ARRAY_IDX(tmp, 0, fx_ev_line);
        if ((f = fx_ev_feature(l, var)) < 0) {
            continue;
        }
        if (l->special == FX_EV_UNSUPPORTED) {
            return -1;
        }
        re = ap_pregcomp(p, l->regex, AP_REG_EXTENDED
                         | (l->icase ? AP_REG_ICASE : 0));
        if (!re) {
            return -1;
        }
        v = fx_ev_value(r, l);
        if (ap_regexec(re, v ? v : "", 0, NULL, 0) != 0) {
            continue;
        }
        *out = *l;
        *val = v;
        *feat = f;
        return 1;
    }
    return 0;
}

static const char *fx_ev_source(request_rec *r, apr_pool_t *p, const char *var,
                                const ap_directive_t *const *in_effect, int n,
                                const char **json,
                                const ap_directive_t **setter)
{
    const apr_array_header_t *lines = fx_ev_lines;
    const fx_ev_line *found = NULL, *first_setter = NULL;
    fx_ev_line ht;
    const char *have = apr_table_get(r->subprocess_env, var);
    const char *found_val = NULL, *first_val = NULL;
    int i, lazy = 0, ambiguous = 0, setters = 0, feat = -1;

    *json = NULL;
    *setter = NULL;
    if (!var || !*var) {
        return NULL;
    }
    /* .htaccess lines run after the server-level and <Directory> ones;
     * a matching line of a <Files>, <Location> or <If> section may run
     * after them: then nothing is claimed */
    switch (fx_ev_htaccess(r, p, var, &ht, &found_val, &feat)) {
    case -1:
        return NULL;
    case 1:
        found = &ht;
        break;
    }
    if (!lines) {
        lines = apr_array_make(p, 1, sizeof(fx_ev_line));
    }
    for (i = lines->nelts - 1; i >= 0 && found; i--) {
        const fx_ev_line *l = &APR_ARRAY_IDX(lines, i, fx_ev_line);
        ap_regex_t *re = l->re;
        const char *val;
        if (fx_ev_feature(l, var) < 0 || !l->section
            || fx_ev_is(l->section, "<Directory")
            || fx_ev_is(l->section, "<DirectoryMatch")
            || fx_ev_applies(r, l, in_effect, n) == 0) {
            continue;
        }
        if (!re) {
            re = ap_pregcomp(p, l->regex, AP_REG_EXTENDED
                             | (l->icase ? AP_REG_ICASE : 0));
        }
        val = fx_ev_value(r, l);
        if (!re || ap_regexec(re, val ? val : "", 0, NULL, 0) == 0) {
            return NULL;
        }
    }
    for (i = lines->nelts - 1; i >= 0 && !found; i--) {
        const fx_ev_line *l = &APR_ARRAY_IDX(lines, i, fx_ev_line);
        ap_regex_t *re = l->re;
        const char *val;
        int f = fx_ev_feature(l, var), ap;

        if (f < 0 || (ap = fx_ev_applies(r, l, in_effect, n)) == 0) {
            continue;
        }
        if (l->special == FX_EV_UNSUPPORTED) {
            ambiguous = 1;
            continue;
        }
        if (!re) {
            if (++lazy > FX_EV_LAZY_MAX) {
                return NULL;
            }
            re = ap_pregcomp(p, l->regex, AP_REG_EXTENDED
                             | (l->icase ? AP_REG_ICASE : 0));
            if (!re) {
                return NULL;
            }
        }
        val = fx_ev_value(r, l);
        if (ap > 0 && l->vals[f][0] != '!') {
            setters++;
            first_setter = l;
            first_val = val;
        }
        if (ap_regexec(re, val ? val : "", 0, NULL, 0) != 0) {
            continue;
        }
        if (ap < 0) {
            ambiguous = 1;      /* it may or may not have run */
            continue;
        }
        found = l;
        found_val = val;
        feat = f;
        break;
    }
    if (ambiguous) {
        return NULL;
    }
    if (found && found->vals[feat][0] != '!') {
        /* a literal value must be what the request has, or something
         * else (SetEnv, a RewriteRule [E=], another module) set it later */
        if (!have || (!strchr(found->vals[feat], '$')
                      && strcmp(found->vals[feat], have))) {
            return NULL;
        }
        *json = fx_ev_json(p, var, found, found_val, 1);
        *setter = found->d;
        return apr_psprintf(p, "%s was set by `%s` (%s:%d): its pattern "
                            "matched the %s value '%s'", var,
                            fx_ev_text(p, found->d), found->d->filename,
                            found->d->line_num, found->attr,
                            found_val ? found_val : "");
    }
    if (have) {
        return NULL;            /* set by something else */
    }
    if (found) {
        *json = fx_ev_json(p, var, found, found_val, 1);
        return apr_psprintf(p, "%s was unset by `%s` (%s:%d), which matched "
                            "the %s value '%s'", var, fx_ev_text(p, found->d),
                            found->d->filename, found->d->line_num,
                            found->attr, found_val ? found_val : "");
    }
    if (!setters) {
        return NULL;
    }
    *json = fx_ev_json(p, var, first_setter, first_val, 0);
    return apr_psprintf(p, "%s is unset: none of the %d line%s that set it "
                        "matched (the first, `%s` (%s:%d), tests the %s "
                        "value '%s')", var, setters, setters == 1 ? "" : "s",
                        fx_ev_text(p, first_setter->d),
                        first_setter->d->filename, first_setter->d->line_num,
                        first_setter->attr, first_val ? first_val : "");
}

const char *fx_azenv_source(request_rec *r, apr_pool_t *p, const char *var,
                            const ap_directive_t *const *in_effect, int n,
                            const char **json)
{
    const ap_directive_t *setter;
    return fx_ev_source(r, p, var, in_effect, n, json, &setter);
}

const ap_directive_t *fx_azenv_setter(request_rec *r, apr_pool_t *p,
                                      const char *var,
                                      const ap_directive_t *const *in_effect,
                                      int n)
{
    const ap_directive_t *setter;
    const char *json;
    fx_ev_source(r, p, var, in_effect, n, &json, &setter);
    return setter;
}
