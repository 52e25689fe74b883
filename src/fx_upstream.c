/* fx_upstream.c — explains 403s that httpd's own access rules did not
 * produce: a backend behind mod_proxy answered 403 (also with
 * ProxyErrorOverride On, where mod_proxy hands the status back to httpd),
 * a content generator (CGI "Status: 403", mod_lua, PHP via FPM) sent it,
 * mod_dav refused a WebDAV request; and the two refusals mod_proxy makes
 * itself: ProxyBlock (AH00916/AH00917) and AllowCONNECT, both ending in
 * AH00898. */
#include <string.h>
#include "fx_private.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_network_io.h"
#include "http_core.h"
#include "http_protocol.h"

static int fx_starts(const char *s, const char *prefix)
{
    return s && !strncmp(s, prefix, strlen(prefix));
}

static const char *fx_backend_of(const fx_origin *o)
{
    if (fx_starts(o->filename, "proxy:")) {
        return o->filename + 6;
    }
    if (fx_starts(o->handler, "proxy:")) {
        /* SetHandler "proxy:fcgi://127.0.0.1:9000" (PHP-FPM & co.) */
        return o->handler + 6;
    }
    return NULL;
}

static void fx_set_rec(apr_pool_t *p, fx_entry *e, const fx_shadow_rec *rec)
{
    fx_entry_set(e, "directive", apr_pstrcat(p, rec->name, " ", rec->args,
                                             NULL));
    if (rec->file) {
        fx_entry_set(e, "file", rec->file);
        fx_entry_set_int(e, "line", rec->line);
    }
    fx_entry_set(e, "section", fx_section_chain(p, rec->where)
                               ? fx_section_chain(p, rec->where)
                               : "server config");
}

/* Does ProxyBlock word w (a name or address) resolve to ip? */
static int fx_word_has_ip(apr_pool_t *p, const char *w, const char *ip)
{
    apr_sockaddr_t *sa;
    if (apr_sockaddr_info_get(&sa, w, APR_UNSPEC, 0, 0, p) != APR_SUCCESS) {
        return 0;
    }
    for (; sa; sa = sa->next) {
        char buf[64];
        if (apr_sockaddr_ip_getbuf(buf, sizeof(buf), sa) == APR_SUCCESS
            && !strcmp(buf, ip)) {
            return 1;
        }
    }
    return 0;
}

/* The text after "<marker>" up to the next space, from an AH line. */
static const char *fx_word_after(apr_pool_t *p, const char *msg,
                                 const char *marker)
{
    const char *s = msg ? strstr(msg, marker) : NULL;
    apr_size_t n;
    if (!s) {
        return NULL;
    }
    s += strlen(marker);
    n = strcspn(s, " ");
    return apr_pstrndup(p, s, n);
}

static void fx_explain_proxyblock(request_rec *r, request_rec *failed,
                                  fx_req_state *st, fx_entry *e)
{
    const fx_logged *byname = fx_logged_find(st, 916);
    const fx_logged *byip = fx_logged_find(st, 917);
    apr_array_header_t *recs = fx_records_find(r->pool, failed,
                                              "ProxyBlock");
    const char *word = NULL, *ip = NULL, *host;
    int i;

    host = fx_word_after(r->pool, (byname ? byname : byip)->message,
                         "connect to remote machine ");
    if (byname) {
        word = fx_word_after(r->pool, byname->message, "blocked: name ");
    }
    else {
        ip = fx_word_after(r->pool, byip->message, "blocked: IP ");
    }
    fx_entry_set(e, "reason", "proxy");
    fx_entry_set(e, "blocked_host", host);
    if (ip) {
        fx_entry_set(e, "blocked_ip", ip);
    }
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i,
                                                 const fx_shadow_rec *);
        char *args = apr_pstrdup(r->pool, rec->args), *w, *last;
        for (w = apr_strtok(args, " \t", &last); w;
             w = apr_strtok(NULL, " \t", &last)) {
            if ((word && !strcasecmp(w, word))
                || (ip && fx_word_has_ip(r->pool, w, ip))) {
                fx_set_rec(r->pool, e, rec);
                fx_entry_set(e, "detail", apr_psprintf(r->pool,
                    "mod_proxy refused to connect to %s: ProxyBlock entry "
                    "'%s' %s.", host ? host : "the destination", w,
                    word ? (*w == '*' ? "blocks every host"
                                      : "is part of the host name")
                         : apr_psprintf(r->pool, "resolves to %s", ip)));
                fx_entry_set(e, "hint", "Remove this entry from ProxyBlock "
                             "if the destination should be reachable.");
                return;
            }
        }
    }
    fx_entry_set(e, "detail", apr_psprintf(r->pool, "mod_proxy refused to "
                 "connect to %s (ProxyBlock, %s); the ProxyBlock line was not "
                 "found among the recorded directives.",
                 host ? host : "the destination",
                 word ? apr_pstrcat(r->pool, "name ", word, NULL)
                      : apr_pstrcat(r->pool, "IP ", ip, NULL)));
}

static void fx_explain_allowconnect(request_rec *r, request_rec *failed,
                                    fx_entry *e)
{
    apr_array_header_t *recs = fx_records_find(r->pool, failed,
                                              "AllowCONNECT");
    apr_array_header_t *lines = apr_array_make(r->pool, 4, sizeof(char *));
    const char *port = failed->parsed_uri.port_str;
    int i;

    fx_entry_set(e, "reason", "proxy");
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i,
                                                 const fx_shadow_rec *);
        APR_ARRAY_PUSH(lines, const char *) =
            apr_psprintf(r->pool, "%s (%s:%d)", rec->args,
                         rec->file ? rec->file : "?", rec->line);
        /* Every line adds ports; the last one is where to add more. */
        fx_set_rec(r->pool, e, rec);
    }
    fx_entry_set(e, "detail", apr_psprintf(r->pool, "mod_proxy_connect "
        "refused CONNECT to port %s: it is not in %s.", port ? port : "?",
        recs->nelts ? apr_pstrcat(r->pool, "the AllowCONNECT ports ",
                                  apr_array_pstrcat(r->pool, lines, ','),
                                  NULL)
                    : "the default AllowCONNECT ports (443 563); no "
                      "AllowCONNECT line is in effect"));
    fx_entry_set(e, "hint", "Add the port to AllowCONNECT if tunnels to it "
                 "should be allowed.");
}

void fx_upstream_explain(request_rec *r, request_rec *failed,
                         fx_req_state *st, fx_entry *e)
{
    const fx_origin *o;
    const char *backend;

    o = fx_state_cause(st, NULL);
    if (!o || !o->module || !o->phase) {
        return;
    }
    backend = fx_backend_of(o);

    /* mod_proxy's own refusals log AH00898 through ap_proxyerror. */
    if (fx_starts(o->module, "mod_proxy") && !o->returned_ok
        && fx_logged_find(st, 898)) {
        if (fx_logged_find(st, 916) || fx_logged_find(st, 917)) {
            fx_explain_proxyblock(r, failed, st, e);
        }
        else if (failed->method_number == M_CONNECT) {
            fx_explain_allowconnect(r, failed, e);
        }
        return;
    }

    if (!strcmp(o->phase, "handler") && backend
        && (o->returned_ok || fx_starts(o->module, "mod_proxy"))) {
        /* The backend's answer; with ProxyErrorOverride On mod_proxy
         * returns the status instead of relaying the body. */
        fx_entry_set(e, "reason", "upstream");
        fx_entry_set(e, "backend", backend);
        fx_entry_set(e, "detail", apr_psprintf(r->pool, "The backend %s "
                     "answered 403 and %s.", backend, o->returned_ok
                     ? "mod_proxy relayed its response"
                     : "mod_proxy passed the status on (ProxyErrorOverride "
                       "On), so httpd sent its own error page"));
        fx_entry_set(e, "hint", "Look at the backend's configuration and "
                     "logs for this URL; httpd's own configuration did not "
                     "deny the request.");
        return;
    }
    if (!o->returned_ok || strcmp(o->phase, "handler") != 0) {
        return;
    }
    if (!strcmp(o->module, "mod_dav.c")) {
        const char *depth = apr_table_get(failed->headers_in, "Depth");
        fx_entry_set(e, "reason", "upstream");
        if (failed->method_number == M_PROPFIND && depth
            && !strcasecmp(depth, "infinity")) {
            fx_entry_set(e, "detail", "mod_dav refused PROPFIND with Depth: "
                         "infinity, which DavDepthInfinity Off (the default) "
                         "forbids.");
            fx_entry_set(e, "hint", "Send a finite Depth, or set "
                         "DavDepthInfinity On for this location.");
        }
        else {
            fx_entry_set(e, "detail", apr_psprintf(r->pool, "mod_dav refused "
                         "the %s request and answered 403 itself.",
                         failed->method));
        }
        return;
    }
    /* A content generator: CGI, mod_lua, an application server. */
    fx_entry_set(e, "reason", "upstream");
    if (o->filename) {
        fx_entry_set(e, "script", o->filename);
    }
    fx_entry_set(e, "detail", apr_psprintf(r->pool, "The %s handler "
                 "(%s) ran %s, which answered 403 itself.",
                 o->handler ? o->handler : "content", o->module,
                 o->filename ? o->filename : "the request"));
    fx_entry_set(e, "hint", "Look at the application's own access rules and "
                 "logs; httpd's configuration did not deny this request.");
}
