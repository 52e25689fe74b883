/* fx_whatif.c — the what-if simulator: `SetHandler forbidden-explain-whatif`
 * answers "would METHOD URL from CLIENT as USER be allowed, and by which
 * rule?" by running the probe through httpd's own request pipeline.
 *
 * Protocol (README, "Ask the server"): POST, Content-Type application/json
 * (one probe object, answered with one object) or application/x-ndjson
 * (one probe per line, one answer line per probe, same order).  Clients
 * outside ForbiddenExplainTrustedClients get a plain 403, other methods
 * 405, bodies over the limits 413, malformed probes 400 {"error": ...}
 * (in a batch: an {"error": ...} line for that probe only).
 *
 * Mechanism.  A probe becomes a request of its own on a copy of the
 * caller's connection: the connection's local port is the probe's, its
 * peer the probe's client, and httpd's own vhost matching
 * (ap_update_vhost_given_ip, ap_update_vhost_from_headers_ex) picks the
 * virtual host.  post_read_request (SetEnvIf, mod_remoteip; the probe's
 * client address is then set as mod_remoteip would leave it) and
 * ap_process_request_internal run for real: translate_name,
 * map_to_storage on the real filesystem, header_parser, access / authn /
 * authz, type_checker, fixups.  The runners of fx_trampoline.c see the
 * request marked simulated: authentication is skipped when the probe
 * names a user, the Require trail is kept even when everything granted,
 * the handler never runs.  What three handlers would decide before
 * sending anything is repeated here without running them (mod_autoindex's
 * Options Indexes check, mod_cgi's ExecCGI check, the default handler's
 * open of the file, closed at once); an internal redirect of a
 * per-directory RewriteRule is followed as httpd would.  The status is the
 * one httpd would send, read from what the phases left (r->status, the
 * redirect chain, an ErrorDocument URL), as ap_die_r reads it.
 *
 * No side effects: the request's server record is a copy whose error log
 * is /dev/null, so httpd's lines for it are written nowhere while the
 * error_log hook still sees them (the entry needs their AH numbers);
 * log_transaction never runs (no access-log line, no counters); no handler
 * runs (no CGI, no backend connection, no file contents); a virtual host
 * whose configuration has a RewriteMap prg: is refused ("error").
 *
 * TLS (docs/whatif.md, "TLS"): facts are never invented.  An http probe's
 * connection copy has no mod_ssl record and no h2 master, so mod_ssl sees
 * a plain client; an https probe runs on the caller's TLS connection
 * (mod_ssl's own facts of a real handshake, fx-can-i --cert).  Given "tls"
 * facts are compared with the connection's; where they differ and a rule
 * reading TLS is in effect the answer is an error, not a verdict.  A TLS
 * probe under a per-directory SSLVerifyClient/SSLVerifyDepth/SSLCipherSuite
 * is stopped before its access phase (fx_whatif_access_gate), so mod_ssl
 * never renegotiates the caller's connection for it. */
#include <string.h>
#include <arpa/inet.h>
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_file_io.h"
#include "apr_atomic.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_vhost.h"
#include "http_ssl.h"
#include "mod_core.h"
#include "util_filter.h"
#include "fx_private.h"
#include "fx_reportonly.h"
#include "fx_json.h"
#include "fx_jsonin.h"

#define FX_WI_HANDLER "forbidden-explain-whatif"
#define FX_WI_MAX_SINGLE (64 * 1024)
#define FX_WI_MAX_BATCH (1024 * 1024)
#define FX_WI_MAX_PROBES 1000
#define FX_WI_MAX_PATH 8190
#define FX_WI_MAX_REDIRECTS 100   /* LimitInternalRecursion stops sooner */
#define FX_WI_ENTRY_BUDGET 16384

/* -------------------------------------------------------------------- */
/* configuration: RewriteMap prg: lines, per generation                  */

typedef struct {
    const char *name;
    const char *file;
    int line;
    const server_rec *s;            /* NULL: main server (all vhosts) */
} fx_wi_prg;

static apr_array_header_t *fx_wi_prgs;  /* pconf, read-only in children */

/* <If>/<ElseIf> sections whose expression reads TLS facts (fx_wi_prg
 * records: name is the expression, s unused): fx_wi_tls_if finds those a
 * request evaluated. */
static apr_array_header_t *fx_wi_tls_ifs;

/* SSLEngine lines (name: the argument), with their virtual host. */
static apr_array_header_t *fx_wi_sslengines;

static module *fx_wi_ssl_module;        /* mod_ssl, when loaded */

/* The SSLEngine line in effect for virtual host s (its own, else the main
 * server's, as mod_ssl merges it), or NULL. */
static const fx_wi_prg *fx_wi_sslengine_of(const server_rec *s)
{
    const fx_wi_prg *own = NULL, *main = NULL;
    int i;
    for (i = 0; fx_wi_sslengines && i < fx_wi_sslengines->nelts; i++) {
        const fx_wi_prg *g = &APR_ARRAY_IDX(fx_wi_sslengines, i, fx_wi_prg);
        if (g->s == s) {
            own = g;
        }
        else if (!g->s) {
            main = g;
        }
    }
    return own ? own : main;
}

/* Does a rule's text read TLS facts: %{HTTPS}, %{SSL_*}, %{SSL:*} (mod_rewrite),
 * the environment mod_ssl sets, mod_ssl's PeerExtList()? */
static int fx_wi_reads_tls(const char *text)
{
    static const char *const marks[] = {
        "%{HTTPS}", "%{SSL", "%{ENV:HTTPS}", "%{ENV:SSL_", "PeerExtList(",
        NULL
    };
    int i;
    for (i = 0; text && marks[i]; i++) {
        if (ap_strcasestr(text, marks[i])) {
            return 1;
        }
    }
    return 0;
}

volatile apr_uint32_t fx_sim_active;

static server_rec *fx_wi_vhost_of(server_rec *s, const ap_directive_t *d)
{
    for (; s; s = s->next) {
        if (s->defn_name && d->filename
            && (int)s->defn_line_number == d->line_num
            && strcmp(s->defn_name, d->filename) == 0) {
            return s;
        }
    }
    return NULL;
}

static void fx_wi_find_prgs(apr_pool_t *p, server_rec *s,
                            const ap_directive_t *d, const server_rec *vh)
{
    for (; d; d = d->next) {
        if (!d->directive) {
            continue;
        }
        if (!strcasecmp(d->directive, "<VirtualHost")) {
            fx_wi_find_prgs(p, s, d->first_child, fx_wi_vhost_of(s->next, d));
            continue;
        }
        if ((!strcasecmp(d->directive, "<If")
             || !strcasecmp(d->directive, "<ElseIf"))
            && fx_wi_reads_tls(d->args)) {
            fx_wi_prg *g = apr_array_push(fx_wi_tls_ifs);
            g->name = apr_pstrcat(p, d->directive, " ", d->args, NULL);
            g->file = d->filename;
            g->line = d->line_num;
            g->s = vh;
        }
        if (!strcasecmp(d->directive, "SSLEngine") && d->args) {
            fx_wi_prg *g = apr_array_push(fx_wi_sslengines);
            g->name = d->args;
            g->file = d->filename;
            g->line = d->line_num;
            g->s = vh;
        }
        if (!strcasecmp(d->directive, "RewriteMap") && d->args) {
            const char *a = d->args;
            char *name = ap_getword_conf(p, &a);
            char *src = ap_getword_conf(p, &a);
            if (!strncasecmp(src, "prg:", 4)) {
                fx_wi_prg *g = apr_array_push(fx_wi_prgs);
                g->name = name;
                g->file = d->filename;
                g->line = d->line_num;
                g->s = vh;
            }
        }
        fx_wi_find_prgs(p, s, d->first_child, vh);
    }
}

static int fx_wi_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    fx_wi_prgs = apr_array_make(pconf, 1, sizeof(fx_wi_prg));
    fx_wi_tls_ifs = apr_array_make(pconf, 1, sizeof(fx_wi_prg));
    fx_wi_sslengines = apr_array_make(pconf, 1, sizeof(fx_wi_prg));
    fx_wi_ssl_module = ap_find_linked_module("mod_ssl.c");
    fx_wi_find_prgs(pconf, s, ap_conftree, NULL);
    return OK;
}

/* -------------------------------------------------------------------- */
/* the request's I/O: nowhere                                            */

/* A probe's request has no client: what a module sends (core answers
 * TRACE in map_to_storage, an interim 100) is dropped, and what one reads
 * (ModSecurity's request body) is an empty body, never the caller's
 * connection. */
static ap_filter_rec_t *fx_wi_sink_out_handle, *fx_wi_sink_in_handle;

static apr_status_t fx_wi_sink_out(ap_filter_t *f, apr_bucket_brigade *bb)
{
    (void)f;
    apr_brigade_cleanup(bb);
    return APR_SUCCESS;
}

static apr_status_t fx_wi_sink_in(ap_filter_t *f, apr_bucket_brigade *bb,
                                  ap_input_mode_t mode, apr_read_type_e block,
                                  apr_off_t readbytes)
{
    (void)mode;
    (void)block;
    (void)readbytes;
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    return APR_SUCCESS;
}

static ap_filter_t *fx_wi_sink(apr_pool_t *p, ap_filter_rec_t *frec,
                               request_rec *r, conn_rec *c)
{
    ap_filter_t *f = apr_pcalloc(p, sizeof(*f));
    f->frec = frec;
    f->r = r;
    f->c = c;
    return f;
}

/* -------------------------------------------------------------------- */
/* probes                                                                */

/* The TLS facts a probe may give, and the mod_ssl variable each one is
 * compared with (docs/whatif.md, "TLS"). */
static const struct {
    const char *key;
    const char *var;
} fx_wi_tls_facts[] = {
    { "client_dn", "SSL_CLIENT_S_DN" },
    { "verify", "SSL_CLIENT_VERIFY" },
    { "protocol", "SSL_PROTOCOL" },
    { NULL, NULL }
};

typedef struct {
    const char *method;
    const char *path;
    const char *query;
    const char *host;
    const char *scheme;
    int port;
    const char *client_ip;
    const char *user;
    const fx_jv *groups;
    const fx_jv *headers;
    const fx_jv *tls;
} fx_wi_probe;

typedef struct {
    request_rec *r;                 /* the handler's request */
    apr_pool_t *p;                  /* answers are built here */
    apr_file_t *devnull;
    apr_array_header_t *notes;      /* const char *, standard JSON strings */
} fx_wi;

static const char *fx_wi_str(apr_pool_t *p, const char *s)
{
    return fx_json_std_quote(p, s ? s : "", 0, NULL);
}

static void fx_wi_note(fx_wi *w, const char *text)
{
    APR_ARRAY_PUSH(w->notes, const char *) = fx_wi_str(w->p, text);
}

static int fx_wi_is_tchar(int c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* NULL, or what is wrong with a string member. */
static const char *fx_wi_text(apr_pool_t *p, const fx_jv *v, const char *key,
                              apr_size_t max, const char **out)
{
    apr_size_t i;
    *out = NULL;
    if (!v || v->type == FX_JV_NULL) {
        return NULL;
    }
    if (v->type != FX_JV_STR) {
        return apr_psprintf(p, "\"%s\" must be a string, not %s", key,
                            fx_jsonin_type_name(v->type));
    }
    if (v->len > max) {
        return apr_psprintf(p, "\"%s\" is longer than %" APR_SIZE_T_FMT
                            " bytes", key, max);
    }
    for (i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->str[i];
        if (c == '\r' || c == '\n' || c == '\0') {
            return apr_psprintf(p, "CR, LF or NUL in \"%s\"", key);
        }
        if (c < 0x20 && c != '\t') {
            return apr_psprintf(p, "a control character in \"%s\"", key);
        }
    }
    *out = v->str;
    return NULL;
}

/* Does path climb above "/" with ".." segments (also written %2e, which
 * httpd decodes first)?  httpd would refuse it with 400. */
static int fx_wi_climbs(apr_pool_t *p, const char *path)
{
    char *d = apr_pstrdup(p, path), *o = d;
    const char *c;
    int depth = 0;

    for (c = path; *c; c++) {
        if (c[0] == '%' && c[1] == '2' && (c[2] == 'e' || c[2] == 'E')) {
            *o++ = '.';
            c += 2;
        }
        else {
            *o++ = *c;
        }
    }
    *o = '\0';
    for (c = d; *c; ) {
        const char *seg;
        apr_size_t n;
        while (*c == '/') {
            c++;
        }
        seg = c;
        while (*c && *c != '/') {
            c++;
        }
        n = (apr_size_t)(c - seg);
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            if (--depth < 0) {
                return 1;
            }
        }
        else if (n && !(n == 1 && seg[0] == '.')) {
            depth++;
        }
    }
    return 0;
}

static const char *fx_wi_parse_probe(apr_pool_t *p, const fx_jv *o,
                                     fx_wi_probe *pr)
{
    static const char *const known[] = {
        "method", "path", "query", "host", "scheme", "port", "client_ip",
        "user", "groups", "headers", "tls", NULL
    };
    const fx_jv *m;
    const char *err;
    int i;

    memset(pr, 0, sizeof(*pr));
    if (o->type != FX_JV_OBJ) {
        return apr_psprintf(p, "a probe must be a JSON object, not %s",
                            fx_jsonin_type_name(o->type));
    }
    for (m = o->first; m; m = m->next) {
        for (i = 0; known[i] && strcmp(known[i], m->key); i++)
            ;
        if (!known[i]) {
            return apr_psprintf(p, "unknown key \"%s\" (known: method, path, "
                                "query, host, scheme, port, client_ip, user, "
                                "groups, headers, tls)",
                                fx_json_std_quote(p, m->key, 64, NULL));
        }
    }
    if ((err = fx_wi_text(p, fx_jsonin_get(o, "method"), "method", 32,
                          &pr->method))) {
        return err;
    }
    pr->method = pr->method ? pr->method : "GET";
    for (i = 0; pr->method[i]; i++) {
        if (!fx_wi_is_tchar(pr->method[i])) {
            return "\"method\" must be an HTTP token such as GET";
        }
    }
    if (!*pr->method) {
        return "\"method\" is empty";
    }
    if (!strcmp(pr->method, "CONNECT")) {
        return "CONNECT is not simulated (its target is an authority, not "
               "a path)";
    }
    if ((err = fx_wi_text(p, fx_jsonin_get(o, "path"), "path", FX_WI_MAX_PATH,
                          &pr->path))) {
        return err;
    }
    if (!pr->path) {
        return "\"path\" is missing (the URL path, e.g. \"/admin/\")";
    }
    if (pr->path[0] != '/') {
        return "\"path\" must start with '/' (the path of the URL as sent, "
               "percent-encoded)";
    }
    for (i = 0; pr->path[i]; i++) {
        unsigned char c = (unsigned char)pr->path[i];
        if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') {
            return "\"path\" holds a space, '?', '#', a control or non-ASCII "
                   "byte: percent-encode it (the query goes in \"query\")";
        }
    }
    if (fx_wi_climbs(p, pr->path)) {
        return "\"path\" climbs above the root with '..' segments (httpd "
               "answers such a request 400)";
    }
    if ((err = fx_wi_text(p, fx_jsonin_get(o, "query"), "query",
                          FX_WI_MAX_PATH, &pr->query))) {
        return err;
    }
    for (i = 0; pr->query && pr->query[i]; i++) {
        unsigned char c = (unsigned char)pr->query[i];
        if (c <= 0x20 || c >= 0x7f || c == '#') {
            return "\"query\" holds a space, '#', a control or non-ASCII "
                   "byte: percent-encode it";
        }
    }
    if ((err = fx_wi_text(p, fx_jsonin_get(o, "host"), "host", 255,
                          &pr->host))) {
        return err;
    }
    for (i = 0; pr->host && pr->host[i]; i++) {
        if (!apr_isalnum(pr->host[i]) && !strchr(".-_[]:", pr->host[i])) {
            return "\"host\" is not a host name";
        }
    }
    if ((err = fx_wi_text(p, fx_jsonin_get(o, "scheme"), "scheme", 8,
                          &pr->scheme))) {
        return err;
    }
    if (pr->scheme && strcmp(pr->scheme, "http") && strcmp(pr->scheme, "https")) {
        return "\"scheme\" must be \"http\" or \"https\"";
    }
    m = fx_jsonin_get(o, "port");
    if (m && m->type != FX_JV_NULL) {
        if (m->type != FX_JV_NUM || !m->is_int || m->num < 1 || m->num > 65535) {
            return "\"port\" must be an integer from 1 to 65535";
        }
        pr->port = (int)m->num;
    }
    if ((err = fx_wi_text(p, fx_jsonin_get(o, "client_ip"), "client_ip", 64,
                          &pr->client_ip))) {
        return err;
    }
    if (pr->client_ip) {
        unsigned char buf[16];
        if (inet_pton(strchr(pr->client_ip, ':') ? AF_INET6 : AF_INET,
                      pr->client_ip, buf) != 1) {
            return "\"client_ip\" is not a numeric IPv4 or IPv6 address";
        }
    }
    if ((err = fx_wi_text(p, fx_jsonin_get(o, "user"), "user", 256,
                          &pr->user))) {
        return err;
    }
    if (pr->user && !*pr->user) {
        return "\"user\" is empty (leave it out for an anonymous request)";
    }
    m = fx_jsonin_get(o, "groups");
    if (m && m->type != FX_JV_NULL) {
        const fx_jv *g;
        if (m->type != FX_JV_ARR) {
            return "\"groups\" must be an array of strings";
        }
        for (g = m->first; g; g = g->next) {
            const char *s;
            if ((err = fx_wi_text(p, g, "groups", 256, &s))) {
                return err;
            }
            if (!s) {
                return "\"groups\" must be an array of strings";
            }
        }
        pr->groups = m;
    }
    m = fx_jsonin_get(o, "headers");
    if (m && m->type != FX_JV_NULL) {
        const fx_jv *h;
        if (m->type != FX_JV_OBJ) {
            return "\"headers\" must be an object of name: value strings";
        }
        for (h = m->first; h; h = h->next) {
            const char *s;
            apr_size_t k;
            if (!h->key_len || h->key_len > 128) {
                return "a header name is empty or too long";
            }
            for (k = 0; k < h->key_len; k++) {
                if (!fx_wi_is_tchar((unsigned char)h->key[k])) {
                    return apr_psprintf(p, "header name %s is not an HTTP "
                                        "token", fx_json_std_quote(p, h->key,
                                                                   64, NULL));
                }
            }
            if (!strcasecmp(h->key, "Host")) {
                return "give the virtual host in \"host\" (and \"port\"), "
                       "not as a Host header";
            }
            if ((err = fx_wi_text(p, h, apr_pstrcat(p, "headers.", h->key,
                                                    NULL), 8190, &s))) {
                return err;
            }
            if (!s) {
                return apr_psprintf(p, "the value of header %s must be a "
                                    "string", h->key);
            }
        }
        pr->headers = m;
    }
    m = fx_jsonin_get(o, "tls");
    if (m && m->type != FX_JV_NULL) {
        const fx_jv *t;
        if (m->type != FX_JV_OBJ) {
            return "\"tls\" must be an object";
        }
        for (t = m->first; t; t = t->next) {
            const char *s;
            int k;
            for (k = 0; fx_wi_tls_facts[k].key
                        && strcmp(fx_wi_tls_facts[k].key, t->key); k++)
                ;
            if (!fx_wi_tls_facts[k].key) {
                return apr_psprintf(p, "unknown key %s in \"tls\" "
                                    "(known: client_dn, verify, protocol)",
                                    fx_json_std_quote(p, t->key, 64, NULL));
            }
            if ((err = fx_wi_text(p, t, apr_pstrcat(p, "tls.", t->key, NULL),
                                  1024, &s))) {
                return err;
            }
            if (!s) {
                return apr_psprintf(p, "tls.%s must be a string", t->key);
            }
        }
        pr->tls = m;
    }
    return NULL;
}

/* -------------------------------------------------------------------- */
/* running a probe                                                       */

typedef struct {
    conn_rec *c;                    /* the copy the probe runs on */
    request_rec *first, *last;
    int status;                     /* what httpd would answer */
    int decided;                    /* the phases' error when httpd sends
                                     * another status (0: none) */
    const char *location;           /* the ErrorDocument URL it sends */
    request_rec *sent;              /* whose headers go out, if not last */
    const char *emulated;           /* a handler check repeated here */
    const char *error;              /* refused to simulate */
    int tls;                        /* ran on the caller's TLS connection */
    const char *tls_unknown;        /* why the TLS facts are not a real
                                     * client's of the probe (NULL: they are) */
} fx_wi_run;

/* Notes on a probe's connection copy (never the caller's): it is one
 * ("tls" or "plain"), a probe refused in the access phase, a TLS fact read
 * through httpd's public SSL API. */
#define FX_WI_CONN_NOTE "forbidden-explain-whatif"
#define FX_WI_REFUSED_NOTE "forbidden-explain-whatif-refused"
#define FX_WI_TLS_READ_NOTE "forbidden-explain-whatif-tls-read"

/* The connection config of the copy: a vector of its own (what a module
 * sets on it stays on the copy), pointing at the caller's per-module
 * records.  For a plain probe mod_ssl's record is left out: mod_ssl then
 * sees a connection it never set up, as for a client over plain HTTP
 * (SSLRequireSSL, Require ssl, %{HTTPS}, SSL_* variables), and the h2
 * master connection, where mod_ssl looks when a connection has none
 * (modssl_request_is_tls, ssl_get_effective_config), is cut too. */
static void fx_wi_conn_config(apr_pool_t *p, conn_rec *c, int plain)
{
    ap_conf_vector_t *v = ap_create_conn_config(p);
    module *m;

    for (m = ap_top_module; m; m = m->next) {
        ap_set_module_config(v, m, ap_get_module_config(c->conn_config, m));
    }
    if (plain) {
        if (fx_wi_ssl_module) {
            ap_set_module_config(v, fx_wi_ssl_module, NULL);
        }
        c->master = NULL;
    }
    c->conn_config = v;
}

/* Is a record in a per-directory section (or an .htaccess file), where
 * mod_ssl's per-directory configuration holds it? */
static int fx_wi_in_section(const fx_shadow_rec *rec)
{
    static const char *const kinds[] = {
        "<Directory", "<DirectoryMatch", "<Location", "<LocationMatch",
        "<Files", "<FilesMatch", "<If", "<ElseIf", "<Else", "<Proxy",
        "<ProxyMatch", NULL
    };
    const ap_directive_t *d;
    int i;

    if (rec->in_htaccess) {
        return 1;
    }
    for (d = rec->where ? rec->where->parent : NULL; d; d = d->parent) {
        for (i = 0; kinds[i]; i++) {
            if (d->directive && !strcasecmp(d->directive, kinds[i])) {
                return 1;
            }
        }
    }
    return 0;
}

static const char *fx_wi_rec_text(apr_pool_t *p, const fx_shadow_rec *rec)
{
    const char *chain = fx_section_chain(p, rec->where);
    return apr_psprintf(p, "%s%s%s (%s:%d%s%s)", rec->name,
                        *rec->args ? " " : "", rec->args,
                        rec->file ? rec->file : ".htaccess", rec->line,
                        chain ? ", in " : rec->in_htaccess ? ", in the "
                        ".htaccess of " : "",
                        chain ? chain : rec->in_htaccess ? rec->dir_path : "");
}

/* The request a probe's notes and pool belong to: its first request. */
static request_rec *fx_wi_top(request_rec *r)
{
    for (;;) {
        if (r->main) {
            r = r->main;
        }
        else if (r->prev) {
            r = r->prev;
        }
        else {
            return r;
        }
    }
}

/* fx_trampoline.c, before a simulated request's access_checker phase.
 * mod_ssl's access hook renegotiates (TLS 1.2) or asks for post-handshake
 * authentication (TLS 1.3) when a per-directory SSLVerifyClient,
 * SSLVerifyDepth or SSLCipherSuite differs from the handshake's; on a
 * probe on the caller's TLS connection that would happen on the caller's
 * own connection.  Whether it differs is mod_ssl's private state, so any
 * such directive in effect refuses the probe here, before mod_ssl's hook
 * runs (the answer is an error saying so).  A plain probe is not refused:
 * mod_ssl's hook does nothing of the kind without TLS, as for a real
 * plain client. */
int fx_whatif_access_gate(request_rec *r)
{
    const char *mode = apr_table_get(r->connection->notes, FX_WI_CONN_NOTE);
    apr_array_header_t *recs;
    int i;

    if (!mode || strcmp(mode, "tls") != 0) {
        return DECLINED;
    }
    recs = fx_records_find(r->pool, r, NULL);
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
        if ((!strcasecmp(rec->name, "SSLVerifyClient")
             || !strcasecmp(rec->name, "SSLVerifyDepth")
             || !strcasecmp(rec->name, "SSLCipherSuite"))
            && fx_wi_in_section(rec)) {
            request_rec *top = fx_wi_top(r);
            apr_table_setn(r->connection->notes, FX_WI_REFUSED_NOTE,
                apr_psprintf(top->pool, "not simulated: %s sets TLS "
                             "parameters per directory, so mod_ssl would "
                             "renegotiate (TLS 1.2) or ask for post-handshake "
                             "authentication (TLS 1.3) on the simulator's own "
                             "connection; the probe was stopped before the "
                             "access phase (%s), nothing was sent to the "
                             "client", fx_wi_rec_text(top->pool, rec),
                             r->uri ? r->uri : ""));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return DECLINED;
}

/* Reads of TLS facts through httpd's public SSL API (ap_ssl_conn_is_ssl:
 * %{HTTPS} of ap_expr and mod_rewrite; ap_ssl_var_lookup: %{SSL:...} of
 * mod_rewrite, mod_headers) on a probe's connection are noted on it.
 * Outside probes: one load and a branch. */
static int fx_wi_seen_is_ssl(conn_rec *c)
{
    if (fx_sim_active && c && apr_table_get(c->notes, FX_WI_CONN_NOTE)) {
        apr_table_setn(c->notes, FX_WI_TLS_READ_NOTE, "HTTPS");
    }
    return DECLINED;
}

static const char *fx_wi_seen_var(apr_pool_t *p, server_rec *s, conn_rec *c,
                                  request_rec *r, const char *name)
{
    (void)p;
    (void)s;
    if (fx_sim_active && name) {
        conn_rec *cc = c ? c : r ? r->connection : NULL;
        if (cc && apr_table_get(cc->notes, FX_WI_CONN_NOTE)
            && (!strncasecmp(name, "SSL_", 4) || !strcasecmp(name, "HTTPS"))) {
            apr_table_set(cc->notes, FX_WI_TLS_READ_NOTE, name);
        }
    }
    return NULL;
}

static server_rec *fx_wi_silent_server(fx_wi *w, server_rec *s)
{
    server_rec *copy = apr_pmemdup(w->p, s, sizeof(*s));
    copy->error_log = w->devnull;
    return copy;
}

/* A 403 a handler would return, noted as the trampoline notes one, with
 * the line httpd would log (the entry reads both). */
static void fx_wi_handler_denied(request_rec *r, const char *module, int ah,
                                 apr_status_t os, const char *message)
{
    fx_req_state *st = fx_state_ensure(r);
    fx_origin *o = &st->origin;
    st->has_origin = 1;
    o->phase = "handler";
    o->module = module;
    o->returned_ok = 0;
    o->status = HTTP_FORBIDDEN;
    o->handler = r->handler;
    o->uri = r->uri;
    o->filename = r->filename;
    if (st->n_logged < FX_MAX_LOGGED) {
        fx_logged *l = &st->logged[st->n_logged++];
        l->ah = ah;
        l->level = APLOG_ERR;
        l->apr_status = os;
        l->message = apr_psprintf(r->pool, "AH%05d: %s", ah, message);
        l->from_subrequest = 0;
    }
}

/* What the handler would decide before sending anything, for the handlers
 * whose decision is a configuration or filesystem check; returns the
 * status (OK: it would serve) and says in run->emulated what was done. */
static int fx_wi_handler(fx_wi *w, fx_wi_run *run, request_rec *r)
{
    const char *h = r->handler ? r->handler : r->content_type;
    const char *cgi = ap_find_linked_module("mod_cgid.c") ? "mod_cgid.c"
                    : ap_find_linked_module("mod_cgi.c") ? "mod_cgi.c" : NULL;

    if (r->filename && !strncmp(r->filename, "proxy:", 6)) {
        return OK;                      /* answered as "backend" */
    }
    if (h && !strcmp(h, DIR_MAGIC_TYPE) && r->finfo.filetype == APR_DIR
        && ap_find_linked_module("mod_autoindex.c")
        && r->method_number == M_GET) {
        apr_dir_t *dir;
        apr_status_t rv;
        if (!(ap_allow_options(r) & OPT_INDEXES)) {
            const char *names = apr_table_get(r->notes, "dir-index-names");
            run->emulated = "mod_autoindex.c: Options Indexes is off here "
                            "(its handler was not run; its check was "
                            "repeated)";
            fx_wi_handler_denied(r, "mod_autoindex.c", 1276, 0, apr_psprintf(
                r->pool, "Cannot serve directory %s: No matching "
                "DirectoryIndex (%s) found, and server-generated directory "
                "index forbidden by Options directive", r->filename,
                names ? names : "none"));
            return HTTP_FORBIDDEN;
        }
        run->emulated = "mod_autoindex.c would list this directory (Options "
                        "Indexes; the directory was opened and closed, "
                        "nothing was listed)";
        rv = apr_dir_open(&dir, r->filename, r->pool);
        if (rv != APR_SUCCESS) {
            fx_wi_handler_denied(r, "mod_autoindex.c", 1275, rv, apr_psprintf(
                r->pool, "Can't open directory for index: %s", r->filename));
            return HTTP_FORBIDDEN;
        }
        apr_dir_close(dir);
        return OK;
    }
    if (h && cgi && (!strcmp(h, "cgi-script")
                     || !strcmp(h, "application/x-httpd-cgi"))) {
        const char *forced = apr_table_get(r->notes, "alias-forced-type");
        int aliased = forced && !strcasecmp(forced, "cgi-script");
        run->emulated = apr_pstrcat(r->pool, cgi, ": the ExecCGI check was "
                                    "repeated; the script was not run", NULL);
        if (!(ap_allow_options(r) & OPT_EXECCGI) && !aliased) {
            int ah = !strcmp(cgi, "mod_cgid.c") ? 1262 : 2809;
            fx_wi_handler_denied(r, cgi, ah, 0, apr_psprintf(r->pool,
                                 "Options ExecCGI is off in this directory: "
                                 "%s", r->filename));
            return HTTP_FORBIDDEN;
        }
        return OK;
    }
    if (!r->handler || !strcmp(r->handler, "default-handler")
        || (h && !strcmp(h, DIR_MAGIC_TYPE))) {
        /* core's default_handler, in its order */
        apr_file_t *f;
        apr_status_t rv;
        if (r->method_number == M_OPTIONS) {
            return OK;
        }
        if (r->method_number != M_GET && r->method_number != M_POST) {
            return HTTP_METHOD_NOT_ALLOWED;
        }
        if (r->finfo.filetype == APR_NOFILE || r->finfo.filetype == APR_DIR
            || (r->used_path_info != AP_REQ_ACCEPT_PATH_INFO && r->path_info
                && *r->path_info)) {
            return HTTP_NOT_FOUND;
        }
        if (r->finfo.filetype != APR_REG) {
            return OK;
        }
        rv = apr_file_open(&f, r->filename, APR_READ | APR_BINARY, 0, r->pool);
        run->emulated = "core: the default handler's open of the file was "
                        "repeated (closed at once, nothing read)";
        if (rv != APR_SUCCESS) {
            fx_wi_handler_denied(r, "core.c", 132, rv, apr_psprintf(r->pool,
                                 "file permissions deny server access: %s",
                                 r->filename));
            return HTTP_FORBIDDEN;
        }
        apr_file_close(f);
        return OK;
    }
    (void)w;
    return OK;
}

/* REDIRECT_ prefixed copy of env, as httpd's internal redirects make it. */
static apr_table_t *fx_wi_redirect_env(apr_pool_t *p, apr_table_t *env)
{
    const apr_array_header_t *a = apr_table_elts(env);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    apr_table_t *out = apr_table_make(p, a->nelts + 1);
    int i;
    for (i = 0; i < a->nelts; i++) {
        if (e[i].key) {
            apr_table_setn(out, apr_pstrcat(p, "REDIRECT_", e[i].key, NULL),
                           e[i].val);
        }
    }
    return out;
}

static void fx_wi_mark(request_rec *r, const fx_wi_probe *pr,
                       const request_rec *prev)
{
    fx_req_state *st = fx_state_ensure(r);
    st->simulated = 1;
    st->sim_user = pr->user ? apr_pstrdup(r->pool, pr->user) : NULL;
    if (prev) {
        const fx_req_state *pst = fx_state_get(prev);
        st->sim_server = pst->sim_server;
        st->sim_real = pst->sim_real;
    }
}

/* The request an internal redirect to uri makes of prev (the part of
 * httpd's internal_internal_redirect that the request phases read). */
static request_rec *fx_wi_follow(request_rec *prev, const char *uri,
                                 const fx_wi_probe *pr)
{
    request_rec *r = apr_pcalloc(prev->pool, sizeof(*r));

    r->connection = prev->connection;
    r->server = prev->server;
    r->pool = prev->pool;
    r->method = prev->method;
    r->method_number = prev->method_number;
    r->allowed_methods = ap_make_method_list(r->pool, 2);
    r->the_request = prev->the_request;
    r->request_time = prev->request_time;
    r->assbackwards = 0;
    r->header_only = prev->header_only;
    r->protocol = prev->protocol;
    r->proto_num = prev->proto_num;
    r->hostname = prev->hostname;
    r->headers_in = prev->headers_in;
    r->trailers_in = prev->trailers_in;
    r->headers_out = apr_table_make(r->pool, 12);
    r->err_headers_out = prev->err_headers_out;
    r->trailers_out = apr_table_make(r->pool, 5);
    r->subprocess_env = fx_wi_redirect_env(r->pool, prev->subprocess_env);
    r->notes = apr_table_make(r->pool, 5);
    r->htaccess = prev->htaccess;
    r->request_config = ap_create_request_config(r->pool);
    r->per_dir_config = r->server->lookup_defaults;
    r->prev = prev;
    prev->next = r;
    /* the status is inherited (a RewriteRule [R] overridden by a later
     * rule leaves its 302 in prev->status), the Location with it */
    r->status = prev->status;
    if (ap_is_HTTP_REDIRECT(r->status)) {
        const char *loc = apr_table_get(prev->headers_out, "Location");
        if (loc) {
            apr_table_setn(r->headers_out, "Location", loc);
        }
    }
    r->proto_output_filters = prev->proto_output_filters;
    r->output_filters = prev->proto_output_filters;
    r->proto_input_filters = prev->proto_input_filters;
    r->input_filters = prev->proto_input_filters;
    r->useragent_addr = prev->useragent_addr;
    r->useragent_ip = prev->useragent_ip;
    r->used_path_info = AP_REQ_DEFAULT_PATH_INFO;
    r->allowed = prev->allowed;
    r->no_cache = prev->no_cache;
    r->expecting_100 = prev->expecting_100;
    r->no_local_copy = prev->no_local_copy;
    r->read_length = prev->read_length;
    r->vlist_validator = prev->vlist_validator;
    fx_wi_mark(r, pr, prev);
    ap_run_create_request(r);
    apr_table_setn(r->subprocess_env, "REDIRECT_STATUS",
                   apr_itoa(r->pool, prev->status));
    ap_parse_uri(r, uri);
    r->parsed_uri.port_str = prev->parsed_uri.port_str;
    r->parsed_uri.port = prev->parsed_uri.port;
    return r;
}

/* ap_die_r's custom response for the error rv of the last request: an
 * ErrorDocument that is a full URL makes httpd answer 302 with it as the
 * Location (a local path or a text keeps the status). */
static void fx_wi_error_document(fx_wi *w, fx_wi_run *run, int rv)
{
    const char *doc;

    if (rv < 400 || !ap_is_HTTP_VALID_RESPONSE(rv)) {
        return;
    }
    doc = ap_response_code_string(run->last, ap_index_of_response(rv));
    if (!doc || doc[0] == '"' || !ap_is_url(doc)) {
        return;
    }
    run->status = HTTP_MOVED_TEMPORARILY;
    run->decided = rv;
    run->location = doc;
    fx_wi_note(w, apr_psprintf(w->p, "the request answered %d; an "
                               "ErrorDocument for it is a URL, so httpd "
                               "redirects there (302)", rv));
}

/* The status httpd sends for the outcome rv (OK: the handler serves) of
 * the last request, read from the state the request phases left, as
 * ap_die_r and the response's status line use it:
 *  - served: the response goes out with r->status, whatever a module left
 *    there (mod_rewrite's [R] sets it before a later rule of the same pass
 *    turns the URL back into a local path: a 302 without Location and the
 *    file as its body);
 *  - an error of the first request: that error;
 *  - an error of an internal redirect's request whose r->status is not
 *    200: ap_die takes it for a recursive error and answers with the
 *    status of the earliest request of the chain whose status is not 200
 *    (run->decided keeps the pass's own error);
 *  - an ErrorDocument that is a URL (fx_wi_error_document). */
static void fx_wi_sent_status(fx_wi *w, fx_wi_run *run, int rv)
{
    request_rec *last = run->last, *first_err = last;
    int left = last->status;

    if (rv == OK) {
        run->status = left >= 100 ? left : HTTP_OK;
        if (run->status != HTTP_OK) {
            int loc = apr_table_get(last->headers_out, "Location")
                      || apr_table_get(last->err_headers_out, "Location");
            fx_wi_note(w, apr_psprintf(w->p, "the request phases left "
                "status %d in the request (%s) and the handler serves the "
                "response with it%s", run->status, last == run->first
                ? "set by a module, e.g. a RewriteRule [R] that a later "
                  "rule of the same pass turned back into a local path"
                : "carried over by the internal redirect from an earlier "
                  "pass, e.g. by a RewriteRule [R] a later rule overrode",
                ap_is_HTTP_REDIRECT(run->status) && !loc
                ? ": a redirect status without a Location header, the "
                  "resource as its body" : ""));
        }
        return;
    }
    run->status = rv;
    if (last == run->first || left == HTTP_OK) {
        fx_wi_error_document(w, run, rv);
        return;
    }
    while (first_err->prev && first_err->prev->status != HTTP_OK) {
        first_err = first_err->prev;
    }
    if (first_err != last) {
        run->status = first_err->status;
        run->decided = rv;
        run->sent = first_err;
        fx_wi_note(w, apr_psprintf(w->p, "the request after the internal "
            "redirect to %s answered %d, but it carried status %d from an "
            "earlier pass (e.g. a RewriteRule [R] a later rule overrode): "
            "httpd takes that for a recursive error and answers %d with its "
            "canned error page%s", last->uri, rv, left, run->status,
            ap_is_HTTP_REDIRECT(run->status)
            && !apr_table_get(first_err->headers_out, "Location")
            && !apr_table_get(first_err->err_headers_out, "Location")
            ? ", without a Location header" : ""));
    }
    else if (left != rv) {
        fx_wi_note(w, apr_psprintf(w->p, "the request after the internal "
            "redirect had status %d when it answered %d: httpd takes that "
            "for a recursive error (no ErrorDocument is tried)", left, rv));
    }
}

static const fx_wi_prg *fx_wi_prg_for(const server_rec *s)
{
    int i;
    for (i = 0; fx_wi_prgs && i < fx_wi_prgs->nelts; i++) {
        const fx_wi_prg *g = &APR_ARRAY_IDX(fx_wi_prgs, i, fx_wi_prg);
        if (!g->s || g->s == s) {
            return g;
        }
    }
    return NULL;
}

/* Builds and runs the probe; *err is set (and NULL returned... the run
 * kept) for input errors that are the client's (400). */
static const char *fx_wi_execute(fx_wi *w, const fx_wi_probe *pr,
                                 fx_wi_run *run)
{
    request_rec *r = w->r, *rr;
    conn_rec *c;
    apr_sockaddr_t *la, *ca = NULL;
    const char *ip = pr->client_ip ? pr->client_ip : r->useragent_ip;
    /* the caller's connection (an h2 stream: its master's) is TLS */
    int caller_tls = ap_ssl_conn_is_ssl(r->connection);
    /* no scheme: the caller's, when the probe is for the caller's port */
    const char *scheme = pr->scheme ? pr->scheme
                       : caller_tls && (!pr->port || pr->port
                                        == r->connection->local_addr->port)
                       ? "https" : "http";
    int port = pr->port ? pr->port
             : pr->scheme ? (!strcmp(pr->scheme, "https") ? 443 : 80)
             : r->connection->local_addr->port;
    const char *host = pr->host ? pr->host
                     : r->hostname ? r->hostname : r->server->server_hostname;
    const char *uri, *hosthdr;
    server_rec *found;
    const fx_wi_prg *prg;
    int rv, hops;

    memset(run, 0, sizeof(*run));
    if (!pr->client_ip) {
        fx_wi_note(w, apr_pstrcat(w->p, "no client_ip given: the caller's "
                                  "address ", ip, " was used", NULL));
    }
    if (apr_sockaddr_info_get(&ca, ip, APR_UNSPEC, 0, 0, w->p) != APR_SUCCESS
        || !ca) {
        return "\"client_ip\" could not be turned into an address";
    }
    /* the caller's connection, as if the probe had come in on it */
    c = apr_pmemdup(w->p, r->connection, sizeof(*c));
    la = apr_pmemdup(w->p, r->connection->local_addr, sizeof(*la));
    la->port = (apr_port_t)port;
    if (la->family == APR_INET) {
        la->sa.sin.sin_port = htons((apr_port_t)port);
    }
#if APR_HAVE_IPV6
    else if (la->family == APR_INET6) {
        la->sa.sin6.sin6_port = htons((apr_port_t)port);
    }
#endif
    c->local_addr = la;
    c->client_addr = ca;
    c->client_ip = apr_pstrdup(w->p, ip);
    c->remote_host = NULL;
    c->double_reverse = 0;
    c->notes = apr_table_copy(w->p, r->connection->notes);
    c->log_id = NULL;
    c->base_server = ap_server_conf;
    c->output_filters = fx_wi_sink(w->p, fx_wi_sink_out_handle, NULL, c);
    c->input_filters = fx_wi_sink(w->p, fx_wi_sink_in_handle, NULL, c);
    /* TLS: an http probe runs on a plain connection; an https one on the
     * caller's TLS connection, whose facts are mod_ssl's own (a real
     * handshake with the caller), never invented */
    run->tls = !strcmp(scheme, "https") && caller_tls;
    fx_wi_conn_config(w->p, c, !run->tls);
    apr_table_setn(c->notes, FX_WI_CONN_NOTE, run->tls ? "tls" : "plain");
    if (!strcmp(scheme, "https") && !caller_tls) {
        run->tls_unknown = "the simulator was reached over plain http, so "
                           "the probe has no TLS connection";
    }
    else if (run->tls && port != r->connection->local_addr->port) {
        run->tls_unknown = apr_psprintf(w->p, "the simulator was reached on "
                                        "port %d, not the probe's port %d: "
                                        "its TLS handshake was made with "
                                        "that port's virtual host",
                                        (int)r->connection->local_addr->port,
                                        port);
    }
    ap_update_vhost_given_ip(c);
    run->c = c;

    rr = ap_create_request(c);
    /* the filters create_request added sit above the sinks */
    run->first = run->last = rr;
    fx_wi_mark(rr, pr, NULL);
    rr->request_time = apr_time_now();
    rr->method = apr_pstrdup(rr->pool, pr->method);
    rr->method_number = ap_method_number_of(rr->method);
    rr->header_only = !strcmp(rr->method, "HEAD");     /* as httpd reads it */
    rr->protocol = "HTTP/1.1";
    rr->proto_num = HTTP_VERSION(1, 1);
    uri = pr->query ? apr_pstrcat(rr->pool, pr->path, "?", pr->query, NULL)
                    : apr_pstrdup(rr->pool, pr->path);
    rr->the_request = apr_pstrcat(rr->pool, rr->method, " ", uri,
                                  " HTTP/1.1", NULL);
    ap_parse_uri(rr, uri);
    if (pr->headers) {
        const fx_jv *h;
        for (h = pr->headers->first; h; h = h->next) {
            apr_table_add(rr->headers_in, apr_pstrdup(rr->pool, h->key),
                          apr_pstrdup(rr->pool, h->str));
        }
    }
    hosthdr = (port == (!strcmp(scheme, "https") ? 443 : 80))
              ? host : apr_psprintf(rr->pool, "%s:%d", host, port);
    apr_table_setn(rr->headers_in, "Host", hosthdr);
    /* As httpd matches: an address without name-based virtual hosts
     * serves any Host; with them, a Host no name matches is unknown (httpd
     * would fall back to the first). */
    if (ap_update_vhost_from_headers_ex(rr, 0) != HTTP_OK
        || rr->status != HTTP_OK) {
        server_rec *dflt = c->base_server;
        return apr_psprintf(w->p, "unknown virtual host: no ServerName or "
                            "ServerAlias matches '%s' on port %d (httpd "
                            "would answer from %s:%d, %s%s%s)",
                            host, port, dflt->server_hostname, port,
                            dflt->defn_name ? "defined at " : "the main server",
                            dflt->defn_name ? dflt->defn_name : "",
                            dflt->defn_name ? apr_psprintf(w->p, ":%d",
                                (int)dflt->defn_line_number) : "");
    }
    found = rr->server;
    if (run->tls && !run->tls_unknown && found != r->server) {
        /* Another virtual host than the caller's request: with SNI,
         * mod_ssl itself checks that its SSL setup is the handshake's
         * (421 otherwise); without, nothing says the handshake (its CA,
         * its SSLVerifyClient) is the one a client of the probe makes. */
        const char *sni = ap_ssl_var_lookup(w->p, r->server, r->connection,
                                            r, "SSL_TLS_SNI");
        if (!sni || !*sni) {
            run->tls_unknown = apr_psprintf(w->p, "the simulator's TLS "
                                            "handshake named no server "
                                            "(SNI) and was made for "
                                            "virtual host %s, not the "
                                            "probe's %s",
                                            r->server->server_hostname,
                                            found->server_hostname);
        }
    }
    prg = fx_wi_prg_for(found);
    if (prg) {
        run->error = apr_psprintf(w->p, "not simulated: RewriteMap %s is a "
                                  "prg: map (%s:%d); a rule using it would "
                                  "run the external program", prg->name,
                                  prg->file, prg->line);
        run->status = 0;
        return NULL;
    }
    if (!run->tls && strcmp(scheme, "https") && fx_wi_ssl_module) {
        /* a plain client of a TLS port gets mod_ssl's 400 before any of
         * the configuration is read */
        const fx_wi_prg *eng = fx_wi_sslengine_of(found);
        if (eng && !strcasecmp(eng->name, "on")) {
            run->error = apr_psprintf(w->p, "not simulated: a plain http "
                                      "request to port %d, whose virtual "
                                      "host has SSLEngine on (%s:%d): mod_ssl "
                                      "answers it 400 (plain HTTP to an "
                                      "SSL-enabled port); give \"scheme\": "
                                      "\"https\"", port, eng->file,
                                      eng->line);
            return NULL;
        }
    }
    /* httpd's lines for this request go to /dev/null (error_log hooks
     * still see them) */
    rr->server = fx_wi_silent_server(w, found);
    fx_state_ensure(rr)->sim_server = rr->server;
    fx_state_ensure(rr)->sim_real = found;
    c->base_server = c->base_server == found ? rr->server
                                             : fx_wi_silent_server(w, c->base_server);
    rr->per_dir_config = rr->server->lookup_defaults;

    rv = ap_run_post_read_request(rr);
    /* the address as mod_remoteip would leave it: the probe's */
    rr->useragent_addr = ca;
    rr->useragent_ip = c->client_ip;
    if (rv == DECLINED || rv == OK) {
        rv = ap_process_request_internal(rr);
    }
    for (hops = 0; rv == OK && hops < FX_WI_MAX_REDIRECTS; hops++) {
        request_rec *last = run->last;
        if (!last->handler || strcmp(last->handler, "redirect-handler")
            || !last->filename || strncmp(last->filename, "redirect:", 9)) {
            break;
        }
        /* LimitInternalRecursion, as ap_internal_redirect checks it */
        if (ap_is_recursion_limit_exceeded(last)) {
            rv = HTTP_INTERNAL_SERVER_ERROR;
            fx_wi_note(w, "internal redirects exceed LimitInternalRecursion");
            break;
        }
        /* mod_rewrite's redirect-handler: the new URI carries r->args */
        run->last = fx_wi_follow(last, apr_pstrcat(last->pool,
                                 last->filename + 9, last->args ? "?" : NULL,
                                 last->args, NULL), pr);
        /* internal_internal_redirect runs post_read_request again
         * (SetEnvIf's server-level variables are set anew); the address
         * stays the one the first pass left, the probe's */
        rv = ap_post_read_request(run->last);
        run->last->useragent_addr = last->useragent_addr;
        run->last->useragent_ip = last->useragent_ip;
        if (rv == OK) {
            rv = ap_process_request_internal(run->last);
        }
    }
    if (rv == OK) {
        rv = fx_wi_handler(w, run, run->last);
    }
    if (rv == DONE) {
        /* answered in a request phase (core's TRACE), sent nowhere */
        fx_wi_note(w, "answered before the handler (its output was "
                   "dropped)");
        rv = run->last->status >= 100 ? run->last->status : HTTP_OK;
        run->status = rv;
        return NULL;
    }
    fx_wi_sent_status(w, run, rv == DECLINED ? OK : rv);
    return NULL;
}

/* -------------------------------------------------------------------- */
/* answers                                                               */

static const char *fx_wi_std(apr_pool_t *p, const char *raw)
{
    return raw ? fx_json_raw_render(p, raw, strlen(raw), 1, 0, NULL, NULL)
               : "null";
}

/* A sub-request's grant, copied into its main request's pool (mod_dir
 * destroys the candidates it does not use). */
typedef struct {
    const char *uri;
    const char *granted;            /* log-safe JSON array */
} fx_wi_sub;

void fx_whatif_sub_authorized(request_rec *r)
{
    fx_req_state *mst = fx_state_get(r->main);
    const char *granted, *trail;
    fx_wi_sub *sub = NULL;
    int i;

    if (!mst || !mst->simulated || !r->uri
        || fx_authz_granted(r, r->main->pool, &granted, &trail) <= 0) {
        return;
    }
    if (!mst->sim_subs) {
        mst->sim_subs = apr_array_make(r->main->pool, 2, sizeof(fx_wi_sub));
    }
    for (i = 0; i < mst->sim_subs->nelts; i++) {
        fx_wi_sub *s = &APR_ARRAY_IDX(mst->sim_subs, i, fx_wi_sub);
        if (!strcmp(s->uri, r->uri)) {
            sub = s;                /* auth_checker after access_checker_ex */
        }
    }
    if (!sub) {
        sub = apr_array_push(mst->sim_subs);
        sub->uri = apr_pstrdup(r->main->pool, r->uri);
    }
    sub->granted = granted;
}

/* The first object of a JSON array of objects. */
static const char *fx_wi_first(apr_pool_t *p, const char *all)
{
    const char *first = apr_pstrndup(p, all + 1, strlen(all) - 2);
    const char *end = strstr(first, "},{");
    return end ? apr_pstrndup(p, first, end - first + 1) : first;
}

/* The grant of the sub-request whose URI the request took over (mod_dir's
 * index file, by ap_internal_fast_redirect), or NULL. */
static const char *fx_wi_sub_granted(request_rec *r, const char *orig_uri)
{
    fx_req_state *st = fx_state_get(r);
    int i;
    if (!st || !st->sim_subs || !r->uri || !strcmp(r->uri, orig_uri)) {
        return NULL;
    }
    for (i = 0; i < st->sim_subs->nelts; i++) {
        fx_wi_sub *s = &APR_ARRAY_IDX(st->sim_subs, i, fx_wi_sub);
        if (!strcmp(s->uri, r->uri)) {
            return s->granted;
        }
    }
    return NULL;
}

static const char *fx_wi_granted(fx_wi *w, request_rec *last,
                                 const char *orig_uri)
{
    request_rec *rr;
    const char *granted = NULL, *trail = NULL, *out;
    int n = 0;

    /* an internal redirect whose configuration did not change skips
     * authorization: the rules of the request that evaluated them count */
    for (rr = last; rr; rr = rr->prev) {
        n = fx_authz_granted(rr, w->p, &granted, &trail);
        if (n != 0) {
            break;
        }
    }
    if (n > 0) {
        const char *all = fx_wi_std(w->p, granted);
        const char *sub = fx_wi_sub_granted(last, orig_uri);
        if (sub) {
            /* the index file served for the directory URL had rules of
             * its own: they are what lets the client see it */
            const char *sall = fx_wi_std(w->p, sub);
            fx_wi_note(w, apr_pstrcat(w->p, "the URL is served by ", last->uri,
                                      " (mod_dir's index): granted_by names "
                                      "its rule, granted_by_url the one of "
                                      "the directory URL", NULL));
            return apr_pstrcat(w->p, ",\"granted_by\":",
                               fx_wi_first(w->p, sall), ",\"granted_by_all\":",
                               sall, ",\"granted_by_url\":",
                               fx_wi_first(w->p, all), ",\"trail\":",
                               fx_wi_std(w->p, trail), NULL);
        }
        /* the first granting rule as an object of its own */
        out = apr_pstrcat(w->p, ",\"granted_by\":", fx_wi_first(w->p, all),
                          ",\"granted_by_all\":", all,
                          ",\"trail\":", fx_wi_std(w->p, trail), NULL);
        {
            const char *compat = fx_authz_compat_granted(last, w->p);
            if (compat) {
                out = apr_pstrcat(w->p, out, ",\"access_compat_granted_by\":",
                                  fx_wi_std(w->p, compat), NULL);
            }
        }
        return out;
    }
    if (n < 0) {
        fx_wi_note(w, "the Require rules seen do not reproduce the grant; "
                   "no rule is named");
        return apr_pstrcat(w->p, ",\"granted_by\":null,\"trail\":",
                           fx_wi_std(w->p, trail), NULL);
    }
    {
        const char *compat = fx_authz_compat_granted(last, w->p);
        if (compat) {
            return apr_pstrcat(w->p, ",\"granted_by\":", fx_wi_std(w->p, compat),
                               ",\"authorization\":\"access-compat\"", NULL);
        }
    }
    return ",\"granted_by\":null,\"authorization\":\"no authorization "
           "configured (no Require rule was evaluated)\"";
}

static const char *fx_wi_notes_json(fx_wi *w)
{
    const char *out = "[";
    int i;
    for (i = 0; i < w->notes->nelts; i++) {
        out = apr_pstrcat(w->p, out, i ? "," : "",
                          APR_ARRAY_IDX(w->notes, i, const char *), NULL);
    }
    return apr_pstrcat(w->p, out, "]", NULL);
}

/* The value of mod_ssl's variable var on the probe's connection ("" on a
 * plain one). */
static const char *fx_wi_tls_var(fx_wi *w, fx_wi_run *run, const char *var)
{
    const char *v;
    if (!run->tls) {
        return "";
    }
    v = ap_ssl_var_lookup(w->p, run->first->server, run->c, run->first, var);
    return v ? v : "";
}

/* "tls" of the answer: the facts of the connection the probe ran on (null:
 * a plain connection). */
static const char *fx_wi_tls_json(fx_wi *w, fx_wi_run *run)
{
    const char *out = "{";
    int k;
    if (!run->tls) {
        return "null";
    }
    for (k = 0; fx_wi_tls_facts[k].key; k++) {
        out = apr_pstrcat(w->p, out, k ? "," : "", "\"",
                          fx_wi_tls_facts[k].key, "\":",
                          fx_wi_str(w->p, fx_wi_tls_var(w, run,
                                    fx_wi_tls_facts[k].var)), NULL);
    }
    return apr_pstrcat(w->p, out, ",\"sni\":", fx_wi_str(w->p,
                       fx_wi_tls_var(w, run, "SSL_TLS_SNI")), "}", NULL);
}

/* An <If>/<ElseIf> whose expression reads TLS facts among those core
 * evaluated for r (the sec_if of its merged sections: each condition keeps
 * the file and line of its section), as text, or NULL. */
static const char *fx_wi_tls_if(fx_wi *w, request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    int i, k;

    for (i = 0; d && d->sec_if && i < d->sec_if->nelts; i++) {
        ap_conf_vector_t *v = APR_ARRAY_IDX(d->sec_if, i, ap_conf_vector_t *);
        core_dir_config *ic = ap_get_core_module_config(v);
        if (!ic || !ic->condition || !ic->condition->filename) {
            continue;
        }
        for (k = 0; fx_wi_tls_ifs && k < fx_wi_tls_ifs->nelts; k++) {
            const fx_wi_prg *g = &APR_ARRAY_IDX(fx_wi_tls_ifs, k, fx_wi_prg);
            if (g->line == (int)ic->condition->line_number && g->file
                && !strcmp(g->file, ic->condition->filename)) {
                return apr_psprintf(w->p, "%s> (%s:%d)", g->name, g->file,
                                    g->line);
            }
        }
    }
    return NULL;
}

/* The first rule that reads TLS facts in effect for the probe's requests,
 * as text, or NULL: records of the sections that applied (.htaccess
 * included), an <If> evaluated for them whose expression reads them, a
 * read through httpd's SSL API seen on the connection. */
static const char *fx_wi_tls_rule(fx_wi *w, fx_wi_run *run, const char *seen)
{
    request_rec *rr;
    int i;

    for (rr = run->first; rr; rr = rr->next) {
        apr_array_header_t *recs = fx_records_find(w->p, rr, NULL);
        for (i = 0; i < recs->nelts; i++) {
            const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i,
                                                     const fx_shadow_rec *);
            const char *a = rec->args ? rec->args : "";
            int reads;
            if (!strcasecmp(rec->name, "SSLRequireSSL")
                || !strcasecmp(rec->name, "SSLRequire")) {
                reads = 1;
            }
            else if (!strcasecmp(rec->name, "SSLVerifyClient")
                     || !strcasecmp(rec->name, "SSLOptions")) {
                reads = fx_wi_in_section(rec);
            }
            else if (!strcasecmp(rec->name, "Require")) {
                const char *t = a;
                char *word;
                while (!strncasecmp(t, "not ", 4)) {
                    t += 4;
                }
                word = ap_getword_conf(w->p, &t);
                reads = !strcasecmp(word, "ssl")
                        || !strcasecmp(word, "ssl-verify-client")
                        || (!strcasecmp(word, "expr") && fx_wi_reads_tls(t));
            }
            else if (!strcasecmp(rec->name, "RewriteCond")) {
                reads = fx_wi_reads_tls(a);
            }
            else {
                reads = 0;
            }
            if (reads) {
                return fx_wi_rec_text(w->p, rec);
            }
        }
        if (rr == run->last) {
            break;
        }
    }
    for (rr = run->first; rr; rr = rr->next) {
        const char *in_if = fx_wi_tls_if(w, rr);
        if (in_if) {
            return in_if;
        }
        if (rr == run->last) {
            break;
        }
    }
    if (seen) {
        return apr_psprintf(w->p, "a rule reading %%{%s} (read through "
                            "httpd's SSL API while the probe ran)", seen);
    }
    return NULL;
}

/* Are the TLS facts the probe ran with those of a real client of the
 * probe?  NULL when they are (notes say whose they are); otherwise, when a
 * rule in effect reads them, the error that replaces the verdict; when
 * none does, NULL and a note that they did not matter. */
static const char *fx_wi_tls_check(fx_wi *w, const fx_wi_probe *pr,
                                   fx_wi_run *run)
{
    const char *diff = run->tls_unknown, *rule;
    const char *seen = apr_table_get(run->c->notes, FX_WI_TLS_READ_NOTE);
    const fx_jv *t;

    for (t = pr->tls ? pr->tls->first : NULL; t && !diff; t = t->next) {
        const char *given = t->str, *have;
        int k;
        if (!run->tls) {
            diff = "a plain http probe has no TLS facts, and \"tls\" gives "
                   "some";
            break;
        }
        for (k = 0; strcmp(fx_wi_tls_facts[k].key, t->key); k++)
            ;
        have = fx_wi_tls_var(w, run, fx_wi_tls_facts[k].var);
        if (strcmp(given, have) != 0) {
            diff = apr_psprintf(w->p, "the tls facts given differ from the "
                                "connection's (tls.%s is \"%s\", the "
                                "connection's %s is \"%s\")", t->key, given,
                                fx_wi_tls_facts[k].var, have);
        }
    }
    if (!diff) {
        if (run->tls) {
            fx_wi_note(w, pr->tls ? "tls facts: those of the presented "
                       "connection (the facts given are equal to them)"
                       : "tls facts: those of the presented connection "
                       "(mod_ssl's own, see \"tls\")");
        }
        return NULL;
    }
    rule = fx_wi_tls_rule(w, run, seen);
    if (!rule) {
        fx_wi_note(w, apr_pstrcat(w->p, diff, "; the tls facts did not "
                                  "matter: no rule reading TLS is in effect "
                                  "for this request", NULL));
        return NULL;
    }
    return apr_pstrcat(w->p, diff, "; ", rule, " reads them, so the answer "
                       "would not be httpd's: present the certificate with "
                       "fx-can-i --cert FILE --key FILE over https on the "
                       "probe's port (the TLS facts are then mod_ssl's own)",
                       NULL);
}

static const char *fx_wi_error_json(apr_pool_t *p, const char *err)
{
    return apr_pstrcat(p, "{\"error\":", fx_wi_str(p, err), "}", NULL);
}

/* One probe (a parsed JSON value) to its answer; *bad is set when the
 * answer is an input error (400 for a single probe). */
static const char *fx_wi_answer(fx_wi *w, const fx_jv *v, int *bad)
{
    static const fx_entry_style std = { FX_ENC_JSON, NULL, NULL, NULL };
    fx_wi_probe pr;
    fx_wi_run run;
    const char *err, *out, *verdict, *tls_err = NULL;
    request_rec *last;
    int decided;

    *bad = 0;
    memset(&run, 0, sizeof(run));
    w->notes = apr_array_make(w->p, 4, sizeof(const char *));
    err = fx_wi_parse_probe(w->p, v, &pr);
    if (!err) {
        apr_atomic_inc32(&fx_sim_active);
        err = fx_wi_execute(w, &pr, &run);
        apr_atomic_dec32(&fx_sim_active);
    }
    if (err) {
        *bad = 1;
        if (run.first && run.first->pool) {
            apr_pool_destroy(run.first->pool);
        }
        return fx_wi_error_json(w->p, err);
    }
    if (pr.groups) {
        fx_wi_note(w, "groups are informational: group rules are answered "
                   "by the configured group source for the user");
    }
    if (!run.error && run.c) {
        const char *refused = apr_table_get(run.c->notes, FX_WI_REFUSED_NOTE);
        if (refused) {
            run.error = refused;
        }
    }
    if (!run.error && run.c && run.tls
        && run.status == HTTP_MISDIRECTED_REQUEST) {
        /* mod_ssl's ReadReq: the handshake's virtual host and the
         * probe's have different SSL setups; a client of the probe would
         * have made its handshake with the probe's */
        run.error = "mod_ssl answered 421: the virtual host of the "
                    "simulator's TLS handshake has another SSL setup than "
                    "the probe's, with which a client of the probe would "
                    "make its handshake; reach the simulator by the probe's "
                    "host name (SNI) on its port";
    }
    if (!run.error && run.c) {
        tls_err = fx_wi_tls_check(w, &pr, &run);
    }
    if (tls_err) {
        run.error = tls_err;
    }
    if (run.error) {
        out = apr_pstrcat(w->p, "{\"verdict\":\"error\",\"error\":",
                          fx_wi_str(w->p, run.error), ",\"notes\":",
                          fx_wi_notes_json(w), "}", NULL);
        apr_pool_destroy(run.first->pool);
        return out;
    }
    last = run.last;
    /* what the request phases decided (a denial httpd answers with a 302
     * is still a denial: nothing is served) */
    decided = run.decided ? run.decided : run.status;
    verdict = decided < 400 ? "allowed" : decided < 500 ? "denied" : "error";
    out = apr_psprintf(w->p, "{\"verdict\":\"%s\",\"status\":%d", verdict,
                       run.status);
    if (run.decided) {
        out = apr_psprintf(w->p, "%s,\"decided_status\":%d", out, run.decided);
    }
    if (decided == HTTP_FORBIDDEN) {
        fx_entry *e = fx_report_entry(run.first);
        fx_wire_redact_log_entry(run.first, e);
        out = apr_pstrcat(w->p, out, ",\"entry\":",
                          fx_entry_render_as(e, w->p, FX_WI_ENTRY_BUDGET, &std),
                          NULL);
    }
    else if (decided < 400) {
        out = apr_pstrcat(w->p, out, fx_wi_granted(w, last, pr.path), NULL);
    }
    if (decided < 400 || decided == HTTP_FORBIDDEN) {
        /* what report-only candidate rules in effect would say */
        fx_entry *ro = fx_entry_make(w->p);
        if (fx_reportonly_evaluate(last, ro) >= 0) {
            out = apr_pstrcat(w->p, out, ",\"report_only\":",
                              fx_entry_render_as(ro, w->p, FX_WI_ENTRY_BUDGET,
                                                 &std), NULL);
        }
    }
    if (ap_is_HTTP_REDIRECT(run.status)) {
        request_rec *sent = run.sent ? run.sent : last;
        const char *loc = run.location ? run.location
                        : apr_table_get(sent->headers_out, "Location");
        if (!loc) {
            loc = apr_table_get(sent->err_headers_out, "Location");
        }
        out = apr_pstrcat(w->p, out, ",\"location\":", loc
                          ? fx_wi_str(w->p, loc) : "null", NULL);
    }
    if (decided == HTTP_UNAUTHORIZED && !pr.user) {
        fx_wi_note(w, "authentication is required here: give \"user\" to "
                   "simulate an authenticated request");
    }
    if (last->filename && !strncmp(last->filename, "proxy:", 6)) {
        out = apr_pstrcat(w->p, out, ",\"backend\":",
                          fx_wi_str(w->p, last->filename + 6), NULL);
        fx_wi_note(w, "proxied: no connection to the backend was made");
    }
    if (run.emulated) {
        fx_wi_note(w, run.emulated);
    }
    if (last != run.first) {
        out = apr_pstrcat(w->p, out, ",\"internal_redirect\":",
                          fx_wi_str(w->p, last->uri), NULL);
    }
    out = apr_pstrcat(w->p, out,
                      ",\"handler\":", last->handler
                      ? fx_wi_str(w->p, last->handler) : "null",
                      ",\"filename\":", last->filename
                      ? fx_wi_str(w->p, last->filename) : "null",
                      ",\"vhost\":", fx_wi_str(w->p, apr_psprintf(w->p,
                          "%s:%d", last->server->server_hostname,
                          (int)run.c->local_addr->port)),
                      ",\"vhost_defined_at\":", last->server->defn_name
                      ? fx_wi_str(w->p, apr_psprintf(w->p, "%s:%d",
                                  last->server->defn_name,
                                  (int)last->server->defn_line_number))
                      : "null",
                      ",\"user\":", pr.user ? fx_wi_str(w->p, pr.user)
                                            : "null",
                      ",\"client_ip\":", fx_wi_str(w->p, last->useragent_ip),
                      ",\"tls\":", fx_wi_tls_json(w, &run),
                      ",\"notes\":", fx_wi_notes_json(w), "}", NULL);
    apr_pool_destroy(run.first->pool);
    return out;
}

/* -------------------------------------------------------------------- */
/* the handler                                                           */

static int fx_wi_send(request_rec *r, int status, const char *type,
                      const char *body)
{
    r->status = status;
    ap_set_content_type(r, type);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, strlen(body));
    ap_rputs(body, r);
    return OK;
}

/* The body, at most max bytes; NULL and *status on failure. */
static const char *fx_wi_read_body(request_rec *r, apr_size_t max,
                                   apr_size_t *len, int *status)
{
    char *buf;
    apr_size_t got = 0;
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    int rc;

    *status = 0;
    if (cl && apr_atoi64(cl) > (apr_int64_t)max) {
        *status = HTTP_REQUEST_ENTITY_TOO_LARGE;
        return NULL;
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        *status = rc;
        return NULL;
    }
    buf = apr_palloc(r->pool, max + 1);
    if (ap_should_client_block(r)) {
        for (;;) {
            long n = ap_get_client_block(r, buf + got, max + 1 - got);
            if (n < 0) {
                *status = HTTP_BAD_REQUEST;
                return NULL;
            }
            if (n == 0) {
                break;
            }
            got += (apr_size_t)n;
            if (got > max) {
                *status = HTTP_REQUEST_ENTITY_TOO_LARGE;
                return NULL;
            }
        }
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

int fx_whatif_handler(request_rec *r)
{
    const char *ctype, *body, *err = NULL;
    apr_size_t len = 0;
    int batch, status, bad;
    fx_wi w;

    if (!r->handler || strcmp(r->handler, FX_WI_HANDLER)) {
        return DECLINED;
    }
    if (r->main || !fx_wire_client_trusted(r)) {
        return HTTP_FORBIDDEN;
    }
    if (r->method_number != M_POST) {
        ap_allow_standard_methods(r, REPLACE_ALLOW, M_POST, -1);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ctype = apr_table_get(r->headers_in, "Content-Type");
    if (ctype && !strncasecmp(ctype, "application/x-ndjson", 20)) {
        batch = 1;
    }
    else if (ctype && !strncasecmp(ctype, "application/json", 16)) {
        batch = 0;
    }
    else {
        return fx_wi_send(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "application/json",
                          fx_wi_error_json(r->pool, "Content-Type must be "
                                           "application/json (one probe) or "
                                           "application/x-ndjson (a batch)"));
    }
    body = fx_wi_read_body(r, batch ? FX_WI_MAX_BATCH : FX_WI_MAX_SINGLE,
                           &len, &status);
    if (!body) {
        if (status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
            return fx_wi_send(r, status, "application/json",
                              fx_wi_error_json(r->pool, apr_psprintf(r->pool,
                              "the body is larger than %d bytes (the limit "
                              "for %s)", batch ? FX_WI_MAX_BATCH
                                               : FX_WI_MAX_SINGLE,
                              batch ? "a batch" : "one probe")));
        }
        return status;
    }
    w.r = r;
    w.p = r->pool;
    if (apr_file_open(&w.devnull, "/dev/null", APR_WRITE, APR_OS_DEFAULT,
                      r->pool) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "forbidden_explain: "
                      "what-if: cannot open /dev/null");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!batch) {
        fx_jv *v = fx_jsonin_parse(r->pool, body, len, &err);
        const char *answer = v ? fx_wi_answer(&w, v, &bad)
                               : fx_wi_error_json(r->pool, err);
        if (!v) {
            bad = 1;
        }
        return fx_wi_send(r, bad ? HTTP_BAD_REQUEST : HTTP_OK,
                          "application/json",
                          apr_pstrcat(r->pool, answer, "\n", NULL));
    }
    {
        const char *s = body, *end = body + len;
        apr_array_header_t *lines = apr_array_make(r->pool, 16,
                                                   sizeof(const char *));
        int n = 0, i;
        apr_size_t total = 0;
        char *out, *o;
        /* count first: over the limit, nothing is simulated */
        for (s = body; s < end; ) {
            const char *nl = memchr(s, '\n', end - s);
            const char *e = nl ? nl : end;
            const char *t = s;
            while (t < e && (*t == ' ' || *t == '\t' || *t == '\r')) {
                t++;
            }
            n += (t < e);
            s = nl ? nl + 1 : end;
        }
        if (n > FX_WI_MAX_PROBES) {
            return fx_wi_send(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                              "application/json", fx_wi_error_json(r->pool,
                              apr_psprintf(r->pool, "%d probes; a batch holds "
                                           "at most %d", n, FX_WI_MAX_PROBES)));
        }
        for (s = body; s < end; ) {
            const char *nl = memchr(s, '\n', end - s);
            const char *e = nl ? nl : end;
            const char *t = s, *answer;
            fx_jv *v;
            while (t < e && (*t == ' ' || *t == '\t' || *t == '\r')) {
                t++;
            }
            if (t < e) {
                apr_pool_t *sub;
                apr_pool_create(&sub, r->pool);
                w.p = sub;
                v = fx_jsonin_parse(sub, s, e - s, &err);
                answer = v ? fx_wi_answer(&w, v, &bad)
                           : fx_wi_error_json(sub, err);
                answer = apr_pstrcat(r->pool, answer, "\n", NULL);
                APR_ARRAY_PUSH(lines, const char *) = answer;
                total += strlen(answer);
                apr_pool_destroy(sub);
            }
            s = nl ? nl + 1 : end;
        }
        out = o = apr_palloc(r->pool, total + 1);
        for (i = 0; i < lines->nelts; i++) {
            const char *a = APR_ARRAY_IDX(lines, i, const char *);
            apr_size_t k = strlen(a);
            memcpy(o, a, k);
            o += k;
        }
        *o = '\0';
        return fx_wi_send(r, HTTP_OK, "application/x-ndjson", out);
    }
}

void fx_whatif_register_hooks(apr_pool_t *p)
{
    (void)p;
    fx_wi_sink_out_handle = ap_register_output_filter(
        "FORBIDDEN_EXPLAIN_WHATIF_SINK", fx_wi_sink_out, NULL,
        AP_FTYPE_NETWORK);
    fx_wi_sink_in_handle = ap_register_input_filter(
        "FORBIDDEN_EXPLAIN_WHATIF_SINK", fx_wi_sink_in, NULL,
        AP_FTYPE_NETWORK);
    ap_hook_post_config(fx_wi_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_conn_is_ssl(fx_wi_seen_is_ssl, NULL, NULL,
                            APR_HOOK_REALLY_FIRST);
    ap_hook_ssl_var_lookup(fx_wi_seen_var, NULL, NULL, APR_HOOK_REALLY_FIRST);
}
