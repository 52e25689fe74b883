/* fx_api.c — how others state the reason of their own 403:
 *   - the optional function forbidden_explain_set_reason (include/), for
 *     modules;
 *   - the request note FX_NOTE_REASON ("forbidden-explain-reason"), for
 *     scripts that can set notes (mod_lua);
 *   - a response header the administrator names with
 *     ForbiddenExplainReasonHeader, for CGI scripts and proxied backends.
 *     The header is taken out of every 403 response before it is sent, so
 *     clients never see it; its value goes into the entry.
 * What was stated is applied last, on top of every other explanation. */
#include <string.h>
#include "fx_private.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "util_filter.h"
#include "http_request.h"
#include "http_protocol.h"
#include "mod_forbidden_explain.h"

#define FX_STATED_MAX 512

static ap_filter_rec_t *fx_reason_filter;

static request_rec *fx_top(request_rec *r)
{
    while (r->main) {
        r = r->main;
    }
    return r;
}

/* A reason word: lowercase letters, digits and '-', as the vocabulary. */
static int fx_reason_word_ok(const char *w)
{
    const char *s;
    if (!w || !*w || strlen(w) > 32) {
        return 0;
    }
    for (s = w; *s; s++) {
        if (!apr_islower(*s) && !apr_isdigit(*s) && *s != '-') {
            return 0;
        }
    }
    return 1;
}

static void forbidden_explain_set_reason(request_rec *r, const char *reason,
                                         const char *detail, const char *hint)
{
    request_rec *top;
    fx_req_state *st;

    if (!r) {
        return;
    }
    top = fx_top(r);
    st = fx_state_ensure(top);
    st->stated_reason = fx_reason_word_ok(reason)
                        ? apr_pstrdup(top->pool, reason) : FX_REASON_MODULE;
    st->stated_detail = detail ? apr_pstrndup(top->pool, detail, FX_STATED_MAX)
                               : NULL;
    st->stated_hint = hint ? apr_pstrndup(top->pool, hint, FX_STATED_MAX)
                           : NULL;
    st->stated_by = "forbidden_explain_set_reason";
}

const char *fx_api_set_reason_header(cmd_parms *cmd, void *dconf,
                                     const char *name)
{
    fx_dir_conf *dc = dconf;
    const char *s;
    (void)cmd;
    for (s = name; *s; s++) {
        if (!apr_isalnum(*s) && *s != '-' && *s != '_') {
            return "ForbiddenExplainReasonHeader: a header name (letters, "
                   "digits, '-') or 'none'";
        }
    }
    dc->reason_header = strcasecmp(name, "none") ? name : "";
    fx_insert_filters_wanted = 1;
    return NULL;
}

/* Takes the named header out of a 403 response into the request state. */
static void fx_take_reason_header(request_rec *r)
{
    fx_dir_conf *dc = fx_dir_get(r);
    const char *name = dc ? dc->reason_header : NULL;
    const char *v;
    request_rec *top;
    fx_req_state *st;

    if (!name || !*name || r->status != HTTP_FORBIDDEN) {
        return;
    }
    v = apr_table_get(r->headers_out, name);
    if (!v) {
        v = apr_table_get(r->err_headers_out, name);
    }
    apr_table_unset(r->headers_out, name);
    apr_table_unset(r->err_headers_out, name);
    if (!v) {
        return;
    }
    top = fx_top(r);
    st = fx_state_ensure(top);
    if (st->stated_by && !strcmp(st->stated_by,
                                 "forbidden_explain_set_reason")) {
        return;     /* a module's own statement wins */
    }
    st->stated_detail = apr_pstrndup(top->pool, v, FX_STATED_MAX);
    st->stated_by = apr_pstrcat(top->pool, "header ", name, NULL);
}

/* First brigade of the response: headers are not sent yet. */
static apr_status_t fx_reason_header_filter(ap_filter_t *f,
                                            apr_bucket_brigade *bb)
{
    fx_take_reason_header(f->r);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

void fx_api_insert_filter(request_rec *r)
{
    fx_dir_conf *dc = fx_dir_get(r);
    /* Only a handler can relay a backend's or script's 403 with its
     * headers; core's default handler (static files) answers a 403 as an
     * error, which fx_insert_error_filter sees.  So static files carry no
     * filter (233 instructions a request saved, docs/benchmark.md). */
    if (!r->handler || !strcmp(r->handler, "default-handler")) {
        return;
    }
    if (dc && dc->reason_header && *dc->reason_header) {
        ap_add_output_filter_handle(fx_reason_filter, NULL, r, r->connection);
    }
}

/* httpd's own error page (ProxyErrorOverride, a handler returning 403):
 * runs before the handler's headers are dropped. */
static void fx_insert_error_filter(request_rec *r)
{
    fx_take_reason_header(r);
}

void fx_api_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                    fx_entry *e)
{
    request_rec *rr;
    const char *reason = NULL, *detail = NULL, *hint = NULL, *by = NULL;

    /* A statement may sit on the initial request or on the one that
     * failed (after an internal redirect). */
    for (rr = r; rr; rr = rr->next) {
        fx_req_state *s = rr == failed ? st : fx_state_get(rr);
        const char *note = apr_table_get(rr->notes, FX_NOTE_REASON);
        if (note && *note) {
            detail = apr_pstrndup(r->pool, note, FX_STATED_MAX);
            by = "note " FX_NOTE_REASON;
        }
        if (s && s->stated_by) {
            reason = s->stated_reason;
            detail = s->stated_detail ? s->stated_detail : detail;
            hint = s->stated_hint;
            by = s->stated_by;
        }
        if (rr == failed) {
            break;
        }
    }
    if (!by && failed) {
        /* ErrorDocument redirect: the failed request's headers were never
         * sent, so the header is still there. */
        fx_take_reason_header(failed);
        if (st->stated_by) {
            detail = st->stated_detail;
            by = st->stated_by;
        }
    }
    if (!by) {
        return;
    }
    if (reason) {
        fx_entry_set(e, "reason", reason);
    }
    if (detail) {
        fx_entry_set(e, "detail", detail);
    }
    if (hint) {
        fx_entry_set(e, "hint", hint);
    }
    fx_entry_set(e, "stated_by", by);
}

void fx_api_register_hooks(apr_pool_t *p)
{
    (void)p;
    APR_REGISTER_OPTIONAL_FN(forbidden_explain_set_reason);
    fx_reason_filter = ap_register_output_filter("FX_REASON_HEADER",
                                                 fx_reason_header_filter, NULL,
                                                 AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(fx_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
}
