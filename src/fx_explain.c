/* fx_explain.c — assembles the entry for a 403 that is certain: the facts
 * every entry has (status, module, phase, request, client), the default
 * reason, then each subsystem's proof on top.  Runs once per 403. */
#include "apr_strings.h"
#include "http_core.h"
#include "http_request.h"
#include "fx_private.h"
#include "fx_classify.h"

static const char *fx_origin_module(const fx_origin *o)
{
    return o->module ? o->module : "unknown";
}

/* Say so when the sections a request merged could not be traced from
 * httpd's walk caches: its directives were then not named at all. */
static void fx_explain_untraced(request_rec *failed, fx_entry *e)
{
    const fx_req_state *fst = failed ? fx_state_get(failed) : NULL;
    if (fst && fst->explained_done && !fst->explained_traced) {
        fx_entry_set(e, "directives_untraced",
                     "the configuration sections this request merged could "
                     "not be traced from httpd's walk caches, so no Options, "
                     "Order/Allow/Deny, rewrite or SSL line is named");
    }
}

fx_entry *fx_explain(request_rec *r, request_rec *failed, fx_req_state *st)
{
    fx_entry *e = fx_entry_make(r->pool);
    const fx_origin *o = st->has_origin ? &st->origin : NULL;
    const fx_origin *cause = fx_state_cause(st, NULL);
    fx_classify_in in;
    int ahs[FX_MAX_LOGGED], i, n = 0;
    const char *reason, *user = NULL;
    request_rec *rr;

    for (i = 0; i < st->n_logged; i++) {
        ahs[n++] = st->logged[i].ah;
    }

    in.module = cause ? cause->module : NULL;
    in.phase = cause ? cause->phase : NULL;
    in.returned_ok = cause ? cause->returned_ok : 0;
    in.handler = cause ? cause->handler : NULL;
    in.ahs = ahs;
    in.n_ahs = n;
    reason = fx_classify_reason(&in);

    fx_entry_set_int(e, "status", HTTP_FORBIDDEN);
    fx_entry_set(e, "reason", reason);
    if (cause) {
        fx_entry_set(e, "module", fx_origin_module(cause));
        fx_entry_set(e, "phase", cause->phase);
    }
    else {
        fx_entry_set(e, "module", "unknown");
        fx_entry_set(e, "phase", "unknown");
    }
    if (cause != o) {
        fx_entry_set(e, "subrequest_uri", cause->uri);
        fx_entry_set(e, "via", apr_pstrcat(r->pool, o->module, " (", o->phase,
                                           ")", NULL));
    }
    if (cause && cause->filename) {
        fx_entry_set(e, "path", cause->filename);
    }
    fx_entry_set(e, "method", r->method);
    fx_entry_set(e, "uri", r->uri);
    fx_entry_set(e, "client_ip", r->useragent_ip);
    if (r->connection->client_ip && r->useragent_ip
        && strcmp(r->connection->client_ip, r->useragent_ip) != 0) {
        fx_entry_set(e, "peer_ip", r->connection->client_ip);
    }
    for (rr = failed; rr && !user; rr = rr->prev) {
        user = rr->user;
    }
    fx_entry_set(e, "user", user ? user : r->user);
    fx_entry_set(e, "request_id", fx_request_id(r, st));
    if (cause && cause->returned_ok && cause->handler) {
        fx_entry_set(e, "handler", cause->handler);
    }
    for (i = st->n_logged - 1; i >= 0; i--) {
        if (st->logged[i].ah) {
            fx_entry_set(e, "ah", apr_psprintf(r->pool, "AH%05d",
                                                st->logged[i].ah));
            break;
        }
    }
    fx_authz_explain(r, failed, st, e);
    fx_fs_explain(r, failed, st, e);
    fx_rewrite_explain(r, failed, st, e);
    fx_ssl_explain(r, failed, st, e);
    fx_waf_explain(r, failed, st, e);
    fx_upstream_explain(r, failed, st, e);
    fx_api_explain(r, failed, st, e);
    fx_explain_untraced(failed, e);

    /* The reason's general wording, where no subsystem proved more. */
    reason = fx_entry_get(e, "reason");
    if (!fx_entry_get(e, "detail")) {
        fx_entry_set(e, "detail", !cause
                     ? "No request hook returned 403; the status was set "
                       "outside the phases this module observes."
                     : (!cause->returned_ok && strcmp(reason, "module") == 0)
                     ? apr_psprintf(r->pool, "%s returned 403 in the %s "
                                    "phase without stating a reason.",
                                    fx_origin_module(cause), cause->phase)
                     : fx_classify_detail(reason));
    }
    if (!fx_entry_get(e, "hint")) {
        fx_entry_set(e, "hint", fx_classify_hint(reason));
    }
    /* Every entry says whether its hint was checked; where no subsystem
     * re-evaluated the request, it was not. */
    if (!fx_entry_get(e, "hint_verified")) {
        fx_entry_set_raw(e, "hint_verified", "false");
        if (!fx_entry_get(e, "hint_unverified")) {
            fx_entry_set(e, "hint_unverified", apr_pstrcat(r->pool, "the "
                         "module does not re-evaluate a 403 of ",
                         fx_entry_get(e, "module"), " in the ",
                         fx_entry_get(e, "phase"), " phase with the hint "
                         "applied", NULL));
        }
    }
    return e;
}
