/* fx_ssl.c — explains 403s from mod_ssl's access checks: SSLRequireSSL over
 * plain HTTP (AH02219), an SSLRequire expression not met (AH02229), and
 * client-certificate renegotiation or TLS 1.3 post-handshake
 * authentication refused (AH02225, AH02261-AH02264, AH10158).  The entry
 * names the directive with file:line, the SSL variables the expression
 * read with their values, and the client certificate's verification
 * result, subject, issuer and expiry.  "Require ssl" and
 * "Require ssl-verify-client" are authorization (fx_authz.c).
 *
 * Which of several SSLRequire lines failed is not logged at the default
 * LogLevel (AH02228 is INFO), so each one in effect is evaluated again with
 * ap_expr, in mod_ssl's order; the first false one is the one that denied. */
#include <string.h>
#include "fx_private.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "ap_expr.h"
#include "http_core.h"
#include "http_ssl.h"
#include "fx_json.h"

/* Connection note holding why OpenSSL rejected the client certificate. */
#define FX_SSL_VERIFY_NOTE "forbidden-explain-ssl-verify"

/* mod_ssl's verify callback logs "AH02039: Certificate Verification: Error
 * (10): certificate has expired" against the connection, not the request,
 * so fx_errorlog.c does not keep it; this hook does, in the connection's
 * notes.  Runs only for lines httpd writes; costs a prefix test. */
static void fx_ssl_error_log(const ap_errorlog_info *info, const char *errstr)
{
    conn_rec *c = info->c ? (conn_rec *)info->c
                          : info->r ? info->r->connection : NULL;
    const char *why;

    if (!c || strncmp(errstr, "AH02039: ", 9) != 0
        || !(why = strstr(errstr, "Error ("))) {
        return;
    }
    apr_table_setn(c->notes, FX_SSL_VERIFY_NOTE,
                   apr_pstrndup(c->pool, why, 256));
}

void fx_ssl_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_error_log(fx_ssl_error_log, NULL, NULL, APR_HOOK_MIDDLE);
}

static const char *fx_ssl_var(request_rec *r, const char *name)
{
    return ap_ssl_var_lookup(r->pool, r->server, r->connection, r, name);
}

static void fx_set_rec(apr_pool_t *p, fx_entry *e, const fx_shadow_rec *rec)
{
    const char *chain = fx_section_chain(p, rec->where);
    fx_entry_set(e, "directive", *rec->args
                 ? apr_pstrcat(p, rec->name, " ", rec->args, NULL)
                 : rec->name);
    if (rec->file) {
        fx_entry_set(e, "file", rec->file);
        fx_entry_set_int(e, "line", rec->line);
    }
    fx_entry_set(e, "section", chain ? chain
                 : rec->in_htaccess ? apr_pstrcat(p, ".htaccess of ",
                                                  rec->dir_path, NULL)
                 : "server config");
}

static const fx_shadow_rec *fx_last(apr_array_header_t *recs)
{
    return recs->nelts ? APR_ARRAY_IDX(recs, recs->nelts - 1,
                                       const fx_shadow_rec *)
                       : NULL;
}

/* {"SSL_CLIENT_S_DN_O":"Evil Corp",...} for every %{VAR} in expr. */
static const char *fx_expr_vars_json(request_rec *r, const char *expr)
{
    apr_array_header_t *parts = apr_array_make(r->pool, 4, sizeof(char *));
    apr_table_t *seen = apr_table_make(r->pool, 4);
    const char *s = expr;

    while ((s = strstr(s, "%{")) != NULL) {
        const char *end = strchr(s + 2, '}');
        char *name;
        const char *v;
        if (!end) {
            break;
        }
        name = apr_pstrmemdup(r->pool, s + 2, end - s - 2);
        s = end + 1;
        if (!*name || apr_table_get(seen, name)) {
            continue;
        }
        apr_table_setn(seen, name, "1");
        v = fx_ssl_var(r, name);
        if (!v || !*v) {
            /* not an SSL variable: the request's headers and the like */
            v = apr_table_get(r->subprocess_env, name);
        }
        APR_ARRAY_PUSH(parts, char *) = apr_psprintf(r->pool, "%s:%s",
            fx_json_quote(r->pool, name, 128, NULL),
            fx_json_quote(r->pool, v ? v : "", 512, NULL));
        if (parts->nelts >= 16) {
            break;
        }
    }
    return apr_pstrcat(r->pool, "{", apr_array_pstrcat(r->pool, parts, ','),
                       "}", NULL);
}

/* 1 when expr evaluates to true for r, 0 false, -1 it cannot be evaluated
 * here (parse or run-time error). */
static int fx_expr_holds(request_rec *r, const char *expr)
{
    ap_expr_info_t *info = apr_pcalloc(r->pool, sizeof(*info));
    const char *err = NULL;
    int rc;

    info->filename = "SSLRequire";
    info->line_number = 0;
    info->flags = AP_EXPR_FLAG_SSL_EXPR_COMPAT | AP_EXPR_FLAG_DONT_VARY;
    info->module_index = forbidden_explain_module.module_index;
    err = ap_expr_parse(r->pool, r->pool, info, expr, NULL);
    if (err) {
        return -1;
    }
    rc = ap_expr_exec(r, info, &err);
    return err ? -1 : (rc > 0);
}

/* SSLVerifyClient outcome and the client certificate, when TLS is used. */
static void fx_client_cert(request_rec *r, fx_entry *e)
{
    static const struct { const char *var, *key; } vars[] = {
        { "SSL_CLIENT_VERIFY", "ssl_client_verify" },
        { "SSL_CLIENT_S_DN", "ssl_client_s_dn" },
        { "SSL_CLIENT_I_DN", "ssl_client_i_dn" },
        { "SSL_CLIENT_V_END", "ssl_client_v_end" },
        { "SSL_PROTOCOL", "ssl_protocol" },
    };
    apr_size_t i;

    if (!ap_ssl_conn_is_ssl(r->connection)) {
        return;
    }
    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = fx_ssl_var(r, vars[i].var);
        if (v && *v) {
            fx_entry_set(e, vars[i].key, v);
        }
    }
}

static void fx_explain_require(request_rec *r, request_rec *failed,
                               fx_entry *e)
{
    apr_array_header_t *reqs = fx_records_find(r->pool, failed,
                                              "SSLRequire");
    int i, unknown = 0;

    for (i = 0; i < reqs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(reqs, i,
                                                 const fx_shadow_rec *);
        int rc = fx_expr_holds(failed, rec->args);
        if (rc == 0) {
            fx_set_rec(r->pool, e, rec);
            fx_entry_set_raw(e, "ssl_vars",
                             fx_expr_vars_json(failed, rec->args));
            fx_entry_set(e, "detail", "The SSLRequire expression is false "
                         "for this connection (AH02229); ssl_vars shows the "
                         "values it read.");
            fx_entry_set(e, "hint", "Present a client certificate that "
                         "satisfies the expression, or change the "
                         "SSLRequire line (consider Require expr instead).");
            return;
        }
        unknown |= (rc < 0);
    }
    fx_entry_set(e, "detail", apr_psprintf(r->pool, "An SSLRequire "
                 "expression was not fulfilled (AH02229), but %s.",
                 unknown ? "re-evaluating the expressions in effect here "
                           "failed, so none is named"
                         : "no recorded SSLRequire line evaluates to false "
                           "now, so none is named"));
}

void fx_ssl_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                    fx_entry *e)
{
    const fx_origin *o = st->has_origin ? &st->origin : NULL;
    const fx_logged *l;
    apr_array_header_t *recs;

    if (!o || !o->module || strcmp(o->module, "mod_ssl.c") != 0
        || o->returned_ok) {
        return;
    }
    fx_entry_set(e, "reason", "ssl");
    fx_client_cert(failed, e);

    if (fx_logged_find(st, 2219)) {
        recs = fx_records_find(r->pool, failed, "SSLRequireSSL");
        if (fx_last(recs)) {
            fx_set_rec(r->pool, e, fx_last(recs));
        }
        fx_entry_set(e, "detail", "SSLRequireSSL is in effect and the request "
                     "came over plain HTTP (AH02219).");
        fx_entry_set(e, "hint", "Use https:// for this URL, or redirect "
                     "HTTP to HTTPS for it.");
        return;
    }
    if (fx_logged_find(st, 2229) || fx_logged_find(st, 2265)) {
        fx_explain_require(r, failed, e);
        return;
    }
    /* Renegotiation / post-handshake authentication for a per-directory
     * SSLVerifyClient (or cipher suite) that the connection could not
     * satisfy. */
    if ((l = fx_logged_find(st, 10158)) || (l = fx_logged_find(st, 2262))
        || (l = fx_logged_find(st, 2263)) || (l = fx_logged_find(st, 2261))
        || (l = fx_logged_find(st, 2225)) || (l = fx_logged_find(st, 2264))) {
        recs = fx_records_find(r->pool, failed, "SSLVerifyClient");
        if (fx_last(recs)) {
            fx_set_rec(r->pool, e, fx_last(recs));
        }
        fx_entry_set(e, "detail", apr_psprintf(r->pool, "A per-directory "
                     "client-certificate requirement needed a new handshake "
                     "that failed: %s", l->message));
        {
            const char *why = apr_table_get(failed->connection->notes,
                                            FX_SSL_VERIFY_NOTE);
            if (why) {
                fx_entry_set(e, "ssl_verify_error", why);
            }
        }
        fx_entry_set(e, "hint", l->ah == 10158 || l->ah == 2263
                     ? "The client must present a certificate for this URL "
                       "(with TLS 1.3 it must support post-handshake "
                       "authentication); or move SSLVerifyClient to the "
                       "virtual host so it is asked for in the first handshake."
                     : "The client certificate must be valid and issued by "
                       "a CA in SSLCACertificateFile/Path for this URL.");
        return;
    }
    if (apr_table_get(failed->notes, "ssl-renegotiate-forbidden")) {
        fx_entry_set(e, "detail", apr_psprintf(r->pool, "mod_ssl cannot "
                     "renegotiate on this connection (HTTP/2 or TLS 1.3) to "
                     "apply the per-directory %s.",
                     apr_table_get(failed->notes,
                                   "ssl-renegotiate-forbidden")));
    }
}
