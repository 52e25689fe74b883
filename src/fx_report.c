/* fx_report.c — publishes the entry of a 403: one line in the error log
 * (in httpd's own format, with LogLevel, ErrorLogFormat, syslog and piped
 * loggers applying), the same JSON in ForbiddenExplainLog when configured,
 * a request note and environment variables for mod_log_config.  Runs in
 * log_transaction, when the final status is known, before mod_log_config
 * writes the access log. */
#include <unistd.h>
#if defined(HAVE_SYS_GETTID) && !defined(HAVE_GETTID)
#include <sys/syscall.h>
#endif
#include "apr_strings.h"
#include "apr_hash.h"
#include "ap_mpm.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_main.h"
#include "util_time.h"
#include "fx_private.h"
#include "fx_logline.h"

/* The error-log line (prefix + message) must stay below MAX_STRING_LEN
 * (8192); this leaves room for the prefix and ErrorLogFormat items. */
#define FX_LOG_BUDGET 6144
/* Piped-log writes up to PIPE_BUF bytes are atomic. */
#define FX_PIPE_BUDGET 4000

/* The ":tid" part of httpd's default format, as server/log.c prints it
 * with the DEFAULT_LOG_TID of the httpd these headers come from. */
static const char *fx_log_tid(apr_pool_t *p)
{
#if APR_HAS_THREADS
    int threaded;
#endif
#if defined(DEFAULT_LOG_TID) && (defined(HAVE_GETTID) || defined(HAVE_SYS_GETTID))
    if (DEFAULT_LOG_TID[0] == 'g') {
#ifdef HAVE_GETTID
        pid_t tid = gettid();
#else
        pid_t tid = syscall(SYS_gettid);
#endif
        return tid == -1 ? NULL : apr_ltoa(p, (long)tid);
    }
#endif
#if APR_HAS_THREADS
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) == APR_SUCCESS
        && threaded != AP_MPMQ_NOT_SUPPORTED) {
        apr_os_thread_t tid = apr_os_thread_current();
        return apr_psprintf(p, "%pT", &tid);
    }
#endif
    return NULL;
}

/* The entry's error-log line.  ap_log_rerror() copies a message with
 * apr_vsnprintf and then escapes it byte by byte into a second buffer: for
 * a 1 KB entry that was a third of all a 403 cost the module.  msg is a
 * rendered entry, log-safe by construction (fx_entry.h), so where httpd
 * would write the line in its default format to a file or pipe, the same
 * bytes are written here and the error_log hook runs as httpd runs it.
 * ErrorLogFormat, syslog and the debug levels (which add file:line) go
 * through ap_log_rerror. */
static const char *const fx_level_names[APLOG_DEBUG] = {
    "emerg", "alert", "crit", "error", "warn", "notice", "info"
};

static void fx_log_entry_line(request_rec *r, int level, const char *msg)
{
    server_rec *s = r->server;
    conn_rec *c = r->connection;
    const request_rec *rmain = r->main ? r->main : r;
    core_server_config *core = ap_get_core_module_config(s->module_config);
    const char *referer;
    char when[64];
    int when_len = sizeof(when);
    apr_size_t cap;
    ap_errorlog_info info;
    fx_logline l;
    char *line;

    if (!s->error_log || level >= APLOG_DEBUG || core->error_log_format
        || (core->error_log_conn && core->error_log_conn->nelts)
        || (core->error_log_req && core->error_log_req->nelts)) {
        ap_log_rerror(APLOG_MARK, level, 0, r, "%s", msg);
        return;
    }
    if (level != APLOG_NOTICE
        && level > ap_get_request_module_loglevel(r, APLOG_MODULE_INDEX)) {
        return;
    }
    /* httpd gives the connection and the request their log ids (%L) on
     * their first error-log line. */
    if (!c->log_id) {
        ap_run_generate_log_id(c, NULL, &c->log_id);
    }
    if (!rmain->log_id) {
        ap_run_generate_log_id(c, rmain, &((request_rec *)rmain)->log_id);
    }

    ap_recent_ctime_ex(when, apr_time_now(), AP_CTIME_OPTION_USEC, &when_len);
    l.time = when;
    l.module = ap_find_module_short_name(APLOG_MODULE_INDEX);
    l.level = fx_level_names[level];
    l.pid = apr_ltoa(r->pool, (long)getpid());
    l.tid = fx_log_tid(r->pool);
    l.peer_word = c->sbh ? "client" : "remote";
    l.ip = r->useragent_ip;
    l.port = r->useragent_addr ? r->useragent_addr->port : 0;
    l.message = msg;
    l.referer = NULL;
    cap = strlen(msg) + 256;
    referer = apr_table_get(r->headers_in, "Referer");
    if (referer && *referer) {
        apr_size_t room = 4 * strlen(referer) + 1;
        char *esc = apr_palloc(r->pool, room > MAX_STRING_LEN
                                        ? MAX_STRING_LEN : room);
        ap_escape_errorlog_item(esc, referer, room > MAX_STRING_LEN
                                              ? MAX_STRING_LEN : room);
        l.referer = esc;
        cap += strlen(esc);
    }
    if (cap > MAX_STRING_LEN) {
        cap = MAX_STRING_LEN;
    }
    line = apr_palloc(r->pool, cap);
    fx_logline_compose(line, cap, &l);
    apr_file_puts(line, s->error_log);
    apr_file_flush(s->error_log);

    memset(&info, 0, sizeof(info));
    info.s = s;
    info.c = c;
    info.r = r;
    info.rmain = rmain;
    info.pool = r->pool;
    info.file = __FILE__;
    info.line = __LINE__;
    info.module_index = APLOG_MODULE_INDEX;
    info.level = level;
    info.format = "%s";
    ap_run_error_log(&info, msg);
}

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

static int fx_log_transaction(request_rec *r)
{
    request_rec *last, *failed;
    fx_server_conf *sc;
    fx_req_state *st;
    fx_entry *e;
    const char *json;

    if (r->main) {
        return DECLINED;
    }
    for (last = r; last->next; last = last->next)
        ;
    if (last->status != HTTP_FORBIDDEN) {
        return DECLINED;            /* the allowed path ends here */
    }
    failed = fx_failed_request(r, &last);
    if (!fx_enabled(failed)) {
        return DECLINED;
    }
    e = fx_report_entry(r);
    st = fx_state_get(failed);
    if (st->logged_entry) {
        return DECLINED;
    }
    st->logged_entry = 1;
    fx_wire_redact_log_entry(r, e);

    sc = ap_get_module_config(r->server->module_config,
                              &forbidden_explain_module);
    json = fx_entry_render(e, r->pool, FX_LOG_BUDGET);
    fx_log_entry_line(r, sc->log_level, json);
    if (sc->log_file) {
        const char *line = json;
        apr_size_t len;
        if (strlen(line) > FX_PIPE_BUDGET) {
            line = fx_entry_render(e, r->pool, FX_PIPE_BUDGET);
        }
        line = apr_pstrcat(r->pool, line, "\n", NULL);
        len = strlen(line);
        apr_file_write_full(sc->log_file, line, len, NULL);
    }
    fx_publish(r, e, json);
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

void fx_report_register_hooks(apr_pool_t *p)
{
    (void)p;
    /* Before mod_log_config, so the access log sees the note and env. */
    ap_hook_log_transaction(fx_log_transaction, NULL, NULL,
                            APR_HOOK_REALLY_FIRST);
}
