/* fx_report.c — publishes the entry of a 403: one line in the error log
 * through ap_log_rerror (LogLevel, ErrorLogFormat, syslog, providers, piped
 * loggers and error_log hooks applying as to any line), the same facts in
 * ForbiddenExplainLog when configured (standard JSON there),
 * a request note and environment variables for mod_log_config.  Runs in
 * log_transaction, when the final status is known, before mod_log_config
 * writes the access log. */
#include "apr_strings.h"
#include "apr_hash.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_main.h"
#include "mod_core.h"
#include "fx_private.h"
#include "fx_counters.h"
#include "fx_reportonly.h"

/* The error-log line (prefix + message) must stay below MAX_STRING_LEN
 * (8192); this leaves room for the prefix and ErrorLogFormat items. */
#define FX_LOG_BUDGET 6144
/* ForbiddenExplainLog: piped-log writes up to PIPE_BUF bytes are atomic. */
#define FX_PIPE_BUDGET 4000

/* The request, following internal redirects, whose hooks produced the 403
 * (or the initial one when none recorded it). */
static request_rec *fx_failed_request(request_rec *r, request_rec **last)
{
    request_rec *rr, *failed = NULL;
    *last = r;  /* gcc -O2 with sanitizers cannot see the loop runs once */
    for (rr = r; rr; rr = rr->next) {
        fx_req_state *st = fx_state_get(rr);
        if (st && st->has_origin) {
            failed = rr;
        }
        *last = rr;
    }
    return failed ? failed : r;
}

/* The entry for r's 403, built on first use (the wire subsystem may need it
 * before the response is sent). */
fx_entry *fx_report_entry(request_rec *r)
{
    request_rec *last, *failed = fx_failed_request(r, &last);
    fx_req_state *st = fx_state_ensure(failed);
    if (!st->entry) {
        st->entry = fx_explain(r, failed, st);
    }
    return st->entry;
}

static void fx_publish(request_rec *r, const fx_entry *e, const char *json)
{
    const char *reason = fx_entry_get(e, "reason");
    const char *file = fx_entry_get(e, "file");
    const char *line = fx_entry_get(e, "line");
    const char *at = file ? (line ? apr_pstrcat(r->pool, file, ":", line, NULL)
                                  : file)
                          : NULL;
    request_rec *rr;

    for (rr = r; rr; rr = rr->next) {
        apr_table_setn(rr->notes, "forbidden-explain", json);
        apr_table_setn(rr->subprocess_env, "FORBIDDEN_REASON", reason);
        if (at) {
            apr_table_setn(rr->subprocess_env, "FORBIDDEN_AT", at);
        }
    }
}

/* The 403 path of fx_log_transaction, out of line: the allowed path below
 * then saves no registers. */
/* The ErrorDocument URL that turned r's 403 into the redirect httpd sent
 * (ap_die_r: a 403 whose ErrorDocument is a full URL is answered 302 with
 * it as Location), or NULL.  Only for the request that decided the 403:
 * after an internal redirect the status is the later request's. */
static const char *fx_error_document_url(request_rec *r, request_rec *failed)
{
    const fx_req_state *st = fx_state_get(failed);
    const char *doc, *location;

    if (failed != r || r->next || r->status != HTTP_MOVED_TEMPORARILY
        || !st || !st->has_origin || st->origin.status != HTTP_FORBIDDEN) {
        return NULL;
    }
    doc = ap_response_code_string(r, ap_index_of_response(HTTP_FORBIDDEN));
    location = apr_table_get(r->headers_out, "Location");
    if (!doc || !location || !ap_is_url(doc) || strcmp(doc, location) != 0) {
        return NULL;
    }
    return doc;
}

/* The status the client got, when an ErrorDocument URL made it a redirect:
 * the entry explains the 403 httpd decided and says what was sent. */
static void fx_report_redirected(fx_entry *e, request_rec *r, const char *url)
{
    if (url) {
        fx_entry_set_int(e, "status", r->status);
        fx_entry_set_int(e, "decided_status", HTTP_FORBIDDEN);
        fx_entry_set(e, "error_document", url);
    }
}

static int __attribute__((noinline)) fx_log_403(request_rec *r)
{
    request_rec *last, *failed;
    fx_server_conf *sc;
    fx_req_state *st;
    fx_entry *e;
    const char *json, *key, *redirected_to;
    fx_count_kind kind;

    if (r->main) {
        return DECLINED;
    }
    for (last = r; last->next; last = last->next)
        ;
    failed = fx_failed_request(r, &last);
    redirected_to = last->status == HTTP_FORBIDDEN ? NULL
                    : fx_error_document_url(r, failed);
    if (last->status != HTTP_FORBIDDEN && !redirected_to) {
        /* served, but a report-only rule would deny (fx_reportonly.c) */
        if (!(e = fx_reportonly_entry(r))) {
            return DECLINED;        /* the allowed path ends here */
        }
        st = NULL;
        goto write;
    }
    if (!fx_enabled(failed)) {
        return DECLINED;
    }
    st = fx_state_ensure(failed);
    /* compact: first only what the cause needs (fx_repeat.c); the entry is
     * built again in full when the 403 turns out not to be a repeat */
    if (!st->entry && !st->logged_entry && fx_repeat_compact(r)) {
        st->cheap = 1;
    }
    e = fx_report_entry(r);
    if (st->logged_entry) {
        return DECLINED;
    }
    st->logged_entry = 1;
    fx_report_redirected(e, r, redirected_to);
write:
    key = fx_repeat_key(r, e);      /* of the facts before redaction */
    fx_wire_redact_log_entry(r, e);
    kind = fx_entry_get(e, "report_only") ? FX_COUNT_WOULD_DENY
                                          : FX_COUNT_DENIED;
    if (fx_repeat_log(r, e, key, &json)) {
        /* a repeat's short line was written (or, off, no line at all) */
        if (kind == FX_COUNT_DENIED) {
            fx_publish(r, e, json ? json : fx_entry_render(e, r->pool,
                                                           FX_LOG_BUDGET));
        }
        fx_counters_add(r, e, kind);
        return DECLINED;
    }
    if (st && st->cheap) {
        st->cheap = 0;
        st->entry = NULL;
        e = fx_report_entry(r);
        fx_report_redirected(e, r, redirected_to);
        fx_wire_redact_log_entry(r, e);
    }

    sc = ap_get_module_config(r->server->module_config,
                              &forbidden_explain_module);
    json = fx_entry_render(e, r->pool, FX_LOG_BUDGET);
    /* The entry's error-log line goes through ap_log_rerror() like every line
     * httpd writes: LogLevel (per module and per directory), ErrorLogFormat,
     * syslog, error-log providers, piped loggers and every error_log hook see
     * it as httpd's own, whatever httpd's build (DEFAULT_LOG_TID, an unescaped
     * build) or version lays out.  The rendered entry is log-safe (fx_json.h),
     * so httpd's escaping leaves it byte for byte as it is. */
    ap_log_rerror(APLOG_MARK, sc->log_level, 0, r, "%s", json);
    if (sc->log_file) {
        /* The module's own file or pipe: nobody escapes it after us, so it
         * is standard JSON (UTF-8 strings, fx_json.h) for log shippers. */
        static const fx_entry_style own = { FX_ENC_JSON, NULL, NULL, NULL };
        const char *line = fx_entry_render_as(e, r->pool, FX_PIPE_BUDGET,
                                              &own);
        apr_size_t len;
        line = apr_pstrcat(r->pool, line, "\n", NULL);
        len = strlen(line);
        apr_file_write_full(sc->log_file, line, len, NULL);
    }
    if (kind == FX_COUNT_DENIED) {
        /* FORBIDDEN_* stay unset on requests httpd served */
        fx_publish(r, e, json);
    }
    fx_counters_add(r, e, kind);
    return DECLINED;
}

/* Opens every ForbiddenExplainLog target once per generation; virtual
 * hosts naming the same target share the handle. */
int fx_report_open_logs(apr_pool_t *pconf, server_rec *s)
{
    apr_hash_t *opened = apr_hash_make(pconf);
    server_rec *vs;
    fx_server_conf *main_sc = ap_get_module_config(s->module_config,
                                                   &forbidden_explain_module);

    for (vs = s; vs; vs = vs->next) {
        fx_server_conf *sc = ap_get_module_config(vs->module_config,
                                                  &forbidden_explain_module);
        const char *target = sc->log_target ? sc->log_target
                                            : main_sc->log_target;
        apr_file_t *f;
        if (!target || strcasecmp(target, "off") == 0) {
            sc->log_file = NULL;
            continue;
        }
        f = apr_hash_get(opened, target, APR_HASH_KEY_STRING);
        if (!f) {
            if (*target == '|') {
                piped_log *pl = ap_open_piped_log(pconf, target + 1);
                if (!pl) {
                    ap_log_error(APLOG_MARK, APLOG_ERR, 0, vs,
                                 "forbidden_explain: could not open "
                                 "ForbiddenExplainLog pipe %s", target + 1);
                    return HTTP_INTERNAL_SERVER_ERROR;
                }
                f = ap_piped_log_write_fd(pl);
            }
            else {
                const char *path = ap_server_root_relative(pconf, target);
                apr_status_t rv;
                if (!path) {
                    ap_log_error(APLOG_MARK, APLOG_ERR, 0, vs,
                                 "forbidden_explain: invalid "
                                 "ForbiddenExplainLog path %s", target);
                    return HTTP_INTERNAL_SERVER_ERROR;
                }
                rv = apr_file_open(&f, path, APR_WRITE | APR_APPEND
                                   | APR_CREATE | APR_LARGEFILE,
                                   APR_OS_DEFAULT, pconf);
                if (rv != APR_SUCCESS) {
                    ap_log_error(APLOG_MARK, APLOG_ERR, rv, vs,
                                 "forbidden_explain: could not open "
                                 "ForbiddenExplainLog %s", path);
                    return HTTP_INTERNAL_SERVER_ERROR;
                }
            }
            apr_hash_set(opened, target, APR_HASH_KEY_STRING, f);
        }
        sc->log_file = f;
    }
    return OK;
}

static int fx_log_transaction(request_rec *r)
{
    const request_rec *last;
    int stateful = 0;

    if (r->main) {
        return DECLINED;
    }
    if (!r->next) {
        /* no internal redirect: the common case, without the loop */
        if (r->status != HTTP_FORBIDDEN && !fx_state_get(r)) {
            return DECLINED;        /* the allowed path ends here */
        }
        return fx_log_403(r);
    }
    for (last = r; ; last = last->next) {
        stateful |= fx_state_get(last) != NULL;
        if (!last->next) {
            break;
        }
    }
    if (last->status != HTTP_FORBIDDEN && !stateful) {
        return DECLINED;            /* the allowed path ends here */
    }
    /* a 403, or a served request a report-only rule may have judged */
    return fx_log_403(r);
}

void fx_report_register_hooks(apr_pool_t *p)
{
    (void)p;
    /* Before mod_log_config, so the access log sees the note and env. */
    ap_hook_log_transaction(fx_log_transaction, NULL, NULL,
                            APR_HOOK_REALLY_FIRST);
}
