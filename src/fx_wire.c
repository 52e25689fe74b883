/* fx_wire.c — diagnostics on the wire for trusted clients only: the
 * Forbidden-Explain header, problem+json bodies, the opaque request id.
 *
 * Where a 403 is sent, and how this file sees it:
 *  - ap_die() → ap_send_error_response(): runs insert_error_filter with
 *    r->status already 403 (canned body, ErrorDocument "text").  Nothing is
 *    done for any other status, so allowed requests never get here.
 *  - a response whose status a handler sets itself (proxied backend 403,
 *    CGI/asis `Status: 403`, a local ErrorDocument served by r->next): seen
 *    by insert_filter, which adds the filter only when this scope can show
 *    something at all (headers on and the client's address trusted, or the
 *    request id on); the filter looks at r->status once and steps aside.
 * Either way the filter runs before the HTTP header filter, decides trust
 * (the expr= part only now, once the 403 is certain), and sets the headers
 * on the request whose headers go out; for problem+json it swallows the
 * body that was produced and sends the problem document instead. */
#include "apr_strings.h"
#include "apr_hash.h"
#include "httpd.h"
#include "ap_mmn.h"
#include "http_config.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "fx_wire.h"
#include "fx_sf.h"
#include "fx_wire_render.h"

#define FX_WIRE_FILTER "FORBIDDEN_EXPLAIN_WIRE"
#define FX_HEADER "Forbidden-Explain"
#define FX_HEADER_ID "Forbidden-Explain-Id"

/* Set once per generation in pre_config / post_config, read-only
 * afterwards. */
static fx_trust_list *fx_wire_loopback;
static ap_filter_rec_t *fx_wire_filter_handle;
/* Servers (server_rec *) whose mod_remoteip configuration names a proxy:
 * their loopback peers may be that proxy, so the default trusts nobody.
 * fx_wire_proxy_everywhere: named outside any <VirtualHost>. */
static apr_hash_t *fx_wire_proxied_servers;
static int fx_wire_proxy_everywhere;

/* -------------------------------------------------------------------- */
/* configuration                                                         */

void *fx_wire_create_dir(apr_pool_t *p)
{
    fx_wire_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    c->headers = FX_UNSET;
    c->request_id = FX_UNSET;
    c->literals = FX_UNSET;
    return c;
}

void *fx_wire_merge_dir(apr_pool_t *p, void *base_, void *add_)
{
    fx_wire_dir_conf *base = base_, *add = add_;
    fx_wire_dir_conf *c;

    /* Merged configs are never written to: share what is not combined. */
    if (!add || !base) {
        return add ? add : base;
    }
    c = apr_palloc(p, sizeof(*c));

    c->headers = add->headers != FX_UNSET ? add->headers : base->headers;
    c->request_id = add->request_id != FX_UNSET ? add->request_id
                                                : base->request_id;
    if (add->trust_set) {
        c->trust_set = 1;
        c->trust_none = add->trust_none;
        c->trust_addrs = add->trust_addrs;
        c->trust_exprs = add->trust_exprs;
    }
    else {
        c->trust_set = base->trust_set;
        c->trust_none = base->trust_none;
        c->trust_addrs = base->trust_addrs;
        c->trust_exprs = base->trust_exprs;
    }
    /* Redaction patterns accumulate down the sections unless a section
     * starts over with `ForbiddenExplainRedact none`. */
    c->redact_reset = add->redact_reset;
    if (add->redact_reset || !base->redact || !base->redact->nelts) {
        c->redact = add->redact;
    }
    else if (!add->redact || !add->redact->nelts) {
        c->redact = base->redact;
    }
    else {
        c->redact = apr_array_append(p, base->redact, add->redact);
    }
    c->literals = add->literals != FX_UNSET ? add->literals : base->literals;
    return c;
}

/* Sections get wire settings only when a wire directive appears in them,
 * so the many sections that merely hold Options or Require merge nothing. */
static fx_wire_dir_conf *fx_wire_conf(cmd_parms *cmd, void *dconf)
{
    fx_dir_conf *dc = dconf;
    if (!dc->wire) {
        dc->wire = fx_wire_create_dir(cmd->pool);
    }
    return dc->wire;
}

const char *fx_wire_set_headers(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;
    fx_wire_conf(cmd, dconf)->headers = on;
    return NULL;
}

const char *fx_wire_set_request_id(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;
    fx_wire_conf(cmd, dconf)->request_id = on;
    return NULL;
}

/* One word of ForbiddenExplainTrustedClients (ITERATE); several words and
 * several lines in one section add up. */
const char *fx_wire_add_trusted(cmd_parms *cmd, void *dconf, const char *arg)
{
    fx_wire_dir_conf *c = fx_wire_conf(cmd, dconf);
    const char *err = NULL;

    c->trust_set = 1;
    if (strcasecmp(arg, "none") == 0) {
        c->trust_none = 1;
        return NULL;
    }
    if (strncasecmp(arg, "expr=", 5) == 0) {
        ap_expr_info_t *expr;
        /* DONT_VARY: asking for a debug token must not add a Vary header
         * to what untrusted clients receive; explained responses carry
         * Cache-Control: private, no-store instead. */
        expr = ap_expr_parse_cmd(cmd, arg + 5, AP_EXPR_FLAG_DONT_VARY, &err,
                                 NULL);
        if (err) {
            return apr_psprintf(cmd->pool, "ForbiddenExplainTrustedClients: "
                                "cannot parse expression '%s': %s", arg + 5,
                                err);
        }
        if (!c->trust_exprs) {
            c->trust_exprs = apr_array_make(cmd->pool, 1,
                                            sizeof(ap_expr_info_t *));
        }
        APR_ARRAY_PUSH(c->trust_exprs, ap_expr_info_t *) = expr;
        return NULL;
    }
    if (!c->trust_addrs) {
        c->trust_addrs = fx_trust_make(cmd->pool);
    }
    err = fx_trust_add(c->trust_addrs, cmd->pool, arg);
    if (err) {
        return apr_pstrcat(cmd->pool, "ForbiddenExplainTrustedClients: ", err,
                           NULL);
    }
    return NULL;
}

const char *fx_wire_add_redact(cmd_parms *cmd, void *dconf, const char *arg,
                               const char *flag)
{
    return fx_redact_add(cmd, fx_wire_conf(cmd, dconf), arg, flag);
}

/* -------------------------------------------------------------------- */
/* trust                                                                  */

/* Did this request reach us through a proxy?  Then a loopback peer says
 * nothing about the client: a reverse proxy on the same host (haproxy,
 * nginx, Varnish, stunnel, another httpd) makes every client loopback.
 * Signs: a forwarding header, mod_remoteip having replaced the peer
 * address (it removes the header it consumed), or a proxy address in
 * this server's mod_remoteip configuration. */
static int fx_wire_via_proxy(const request_rec *r)
{
    const conn_rec *c = r->connection;
    if (fx_trust_forwarded_by(r->headers_in)) {
        return 1;
    }
    if (r->useragent_addr && c->client_addr
        && r->useragent_addr != c->client_addr
        && !apr_sockaddr_equal(r->useragent_addr, c->client_addr)) {
        return 1;
    }
    return fx_wire_proxy_everywhere
           || (fx_wire_proxied_servers
               && apr_hash_get(fx_wire_proxied_servers, &r->server,
                               sizeof(r->server)));
}

/* The address part: cheap, so insert_filter may ask it for every request
 * of a scope with headers on.  Only expr= rules: the address passes and
 * the expressions decide.  The loopback default holds only for requests
 * that did not come through a proxy; explicit rules mean what they say. */
static int fx_wire_address_trusted(const fx_wire_dir_conf *c,
                                   const request_rec *r)
{
    if (c->trust_none) {
        return 0;
    }
    if (!c->trust_set) {
        return fx_trust_match(fx_wire_loopback, r->useragent_addr)
               && !fx_wire_via_proxy(r);
    }
    if (fx_trust_count(c->trust_addrs)) {
        return fx_trust_match(c->trust_addrs, r->useragent_addr);
    }
    return c->trust_exprs != NULL;
}

/* Address and every expr= rule.  Called once a 403 is certain. */
static int fx_wire_trusted(const fx_wire_dir_conf *c, request_rec *r)
{
    int i;
    if (!fx_wire_address_trusted(c, r)) {
        return 0;
    }
    for (i = 0; c->trust_exprs && i < c->trust_exprs->nelts; i++) {
        const char *err = NULL;
        int rc = ap_expr_exec(r, APR_ARRAY_IDX(c->trust_exprs, i,
                                               ap_expr_info_t *), &err);
        if (rc <= 0) {
            if (err) {
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                              "ForbiddenExplainTrustedClients expression "
                              "failed: %s", err);
            }
            return 0;
        }
    }
    return 1;
}

/* -------------------------------------------------------------------- */
/* the filter                                                            */

/* The request the client sent, before any internal redirect: its
 * configuration and address decide, and fx_report_entry starts there. */
static request_rec *fx_wire_initial(request_rec *r)
{
    while (r->prev) {
        r = r->prev;
    }
    return r;
}

/* Should this scope get the filter at all? */
static int fx_wire_wanted(request_rec *initial)
{
    fx_dir_conf *dc = fx_dir_get(initial);
    fx_wire_dir_conf *c = dc ? dc->wire : NULL;
    /* Cheapest test first: this runs for every request (insert_filter). */
    if (!c || (c->request_id != 1 && c->headers != 1) || !fx_enabled(initial)) {
        return 0;
    }
    return c->request_id == 1
           || (c->headers == 1 && fx_wire_address_trusted(c, initial));
}

typedef struct {
    const char *body;               /* problem document replacing the body */
} fx_wire_ctx;

/* Decide and set the headers for a 403 going out on r.  Returns the
 * problem document when the body must be replaced, else NULL. */
static const char *fx_wire_apply(request_rec *r)
{
    request_rec *initial = fx_wire_initial(r);
    fx_wire_dir_conf *c = fx_dir_get(initial)->wire;
    fx_req_state *st = fx_state_ensure(initial);
    fx_entry *e, *shown;
    const char *id, *accept;

    /* One explanation per response, whichever path saw it first. */
    if (st->subsys[FX_SLOT_WIRE]) {
        return NULL;
    }
    st->subsys[FX_SLOT_WIRE] = (void *)"done";

    e = fx_report_entry(initial);
    id = fx_entry_get(e, "request_id");
    if (c->request_id == 1 && id) {
        apr_table_setn(r->headers_out, FX_HEADER_ID,
                       fx_sf_escape(r->pool, id, strlen(id), 256, NULL));
    }
    if (c->headers != 1 || !fx_wire_trusted(c, initial)) {
        return NULL;
    }
    shown = fx_redact_for_wire(r->pool, e, c);
    apr_table_setn(r->headers_out, FX_HEADER,
                   fx_wire_header_value(r->pool, shown,
                                        FX_WIRE_HEADER_BUDGET));
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-store");

    accept = apr_table_get(initial->headers_in, "Accept");
    if (!fx_sf_accepts_problem_json(accept)) {
        return NULL;
    }
    /* The body that was produced (canned text, ErrorDocument, backend)
     * is replaced, so none of its entity headers may stay. */
    apr_table_unset(r->headers_out, "Content-Length");
    apr_table_unset(r->headers_out, "ETag");
    apr_table_unset(r->headers_out, "Last-Modified");
    apr_table_unset(r->headers_out, "Content-Encoding");
    apr_table_unset(r->headers_out, "Content-Language");
    apr_table_unset(r->headers_out, "Content-Range");
    apr_table_unset(r->headers_out, "Accept-Ranges");
    r->content_encoding = NULL;
    r->content_languages = NULL;
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 132)
    ap_set_content_type_ex(r, "application/problem+json", 1);
#else
    ap_set_content_type(r, "application/problem+json");
#endif
    return fx_wire_problem_json(r->pool, shown, FX_WIRE_PROBLEM_BUDGET);
}

static apr_status_t fx_wire_out_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    fx_wire_ctx *ctx = f->ctx;
    apr_bucket *b, *next;

    if (!ctx) {
        const char *body = NULL;
        if (r->status == HTTP_FORBIDDEN && !r->main) {
            body = fx_wire_apply(r);
        }
        if (!body) {
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        f->ctx = ctx = apr_palloc(r->pool, sizeof(*ctx));
        ctx->body = body;
    }
    /* Replacing: drop everything until EOS, then send the document. */
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = next) {
        next = APR_BUCKET_NEXT(b);
        if (APR_BUCKET_IS_EOS(b)) {
            apr_bucket *doc = apr_bucket_pool_create(ctx->body,
                                                     strlen(ctx->body),
                                                     r->pool,
                                                     f->c->bucket_alloc);
            APR_BUCKET_INSERT_BEFORE(b, doc);
            ap_set_content_length(r, strlen(ctx->body));
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        apr_bucket_delete(b);
    }
    return APR_SUCCESS;
}

/* -------------------------------------------------------------------- */
/* hooks                                                                 */

void fx_wire_insert_filter(request_rec *r)
{
    if (r->main || !fx_wire_wanted(fx_wire_initial(r))) {
        return;
    }
    ap_add_output_filter_handle(fx_wire_filter_handle, NULL, r,
                                r->connection);
}

static void fx_wire_insert_error_filter(request_rec *r)
{
    if (r->status != HTTP_FORBIDDEN || r->main
        || !fx_wire_wanted(fx_wire_initial(r))) {
        return;
    }
    ap_add_output_filter_handle(fx_wire_filter_handle, NULL, r,
                                r->connection);
}

static int fx_wire_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    fx_wire_loopback = fx_trust_loopback(pconf);
    return OK;
}

/* mod_remoteip's directives that name a proxy, accept the PROXY protocol
 * from one, or (RemoteIPHeader alone) take every peer for a proxy.  Only directives httpd actually read are in the
 * tree: a false <IfModule> leaves nothing behind. */
static int fx_wire_is_proxy_directive(const char *name)
{
    static const char *const names[] = {
        "RemoteIPInternalProxy", "RemoteIPInternalProxyList",
        "RemoteIPTrustedProxy", "RemoteIPTrustedProxyList",
        "RemoteIPProxyProtocol", "RemoteIPHeader"
    };
    apr_size_t i;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The server_rec a <VirtualHost> node of the tree created: httpd records
 * the file and line of its definition. */
static server_rec *fx_wire_vhost_of(server_rec *s, const ap_directive_t *d)
{
    for (; s; s = s->next) {
        if (s->defn_name && d->filename && (int)s->defn_line_number == d->line_num
            && strcmp(s->defn_name, d->filename) == 0) {
            return s;
        }
    }
    return NULL;
}

static void fx_wire_find_proxies(apr_pool_t *p, server_rec *s,
                                 const ap_directive_t *d, server_rec *vhost)
{
    for (; d; d = d->next) {
        if (!d->directive) {
            continue;
        }
        if (strcasecmp(d->directive, "<VirtualHost") == 0) {
            fx_wire_find_proxies(p, s, d->first_child,
                                 fx_wire_vhost_of(s->next, d));
            continue;
        }
        if (fx_wire_is_proxy_directive(d->directive)) {
            if (!vhost) {
                fx_wire_proxy_everywhere = 1;
            }
            else {
                server_rec **key = apr_palloc(p, sizeof(*key));
                *key = vhost;
                apr_hash_set(fx_wire_proxied_servers, key, sizeof(*key),
                             "proxy");
            }
        }
        fx_wire_find_proxies(p, s, d->first_child, vhost);
    }
}

static int fx_wire_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    (void)plog;
    (void)ptemp;
    fx_wire_proxy_everywhere = 0;
    fx_wire_proxied_servers = apr_hash_make(pconf);
    fx_wire_find_proxies(pconf, s, ap_conftree, NULL);
    return OK;
}

/* log_transaction (fx_report.c): the log redaction (fx_redact_for_log). */
void fx_wire_redact_log_entry(request_rec *r, fx_entry *e)
{
    fx_dir_conf *dc = fx_dir_get(fx_wire_initial(r));
    /* no wire directive in scope: the default redaction still applies */
    fx_redact_for_log(r->pool, e, dc ? dc->wire : NULL);
}

void fx_wire_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(fx_wire_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(fx_wire_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(fx_wire_insert_error_filter, NULL, NULL,
                                APR_HOOK_LAST);
    /* After every AP_FTYPE_CONTENT_SET filter: fx_api.c's reason-header
     * filter must have fed the entry before it is built here, and a body
     * that DEFLATE already compressed is dropped whole (its
     * Content-Encoding with it, see fx_wire_apply). */
    fx_wire_filter_handle = ap_register_output_filter(
        FX_WIRE_FILTER, fx_wire_out_filter, NULL, AP_FTYPE_CONTENT_SET + 1);
}

/* fx_whatif.c: may r use the simulator?  The same rules as the wire
 * headers (ForbiddenExplainTrustedClients, loopback by default and not
 * through a proxy). */
int fx_wire_client_trusted(request_rec *r)
{
    fx_dir_conf *dc = fx_dir_get(r);
    if (!dc || !dc->wire) {
        return fx_trust_match(fx_wire_loopback, r->useragent_addr)
               && !fx_wire_via_proxy(r);
    }
    return fx_wire_trusted(dc->wire, r);
}
