/* fx_repeat.c — ForbiddenExplainRepeat full|compact|off and
 * ForbiddenExplainRepeatWindow: bounded log volume under floods of one
 * cause.  Owns the table of causes in shared memory (fx_repeat_tab.c holds
 * its pure logic), the short repeat line, and the summary line written when
 * a window closes (by the parent's monitor hook, or by the next 403 of the
 * cause, whichever comes first).
 *
 * The segment is anonymous shared memory in the process pool, created once
 * by the parent and found again (userdata) in every later generation: the
 * causes and their windows survive graceful and plain restarts, and every
 * child of every generation shares them. */
#include "apr_strings.h"
#include "apr_shm.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "mpm_common.h"
#include "fx_private.h"
#include "fx_repeat_tab.h"

#define FX_RP_SLOTS 256
#define FX_RP_USERDATA "forbidden_explain_repeat_shm"
/* The same budgets as fx_report.c's documents. */
#define FX_RP_LOG_BUDGET 6144
#define FX_RP_PIPE_BUDGET 4000

/* The table, looked up per generation in post_config (read-only pointer
 * afterwards; the memory behind it is what changes). */
static fx_rt_table *fx_rp_table;

static int fx_rp_mode(const fx_server_conf *sc)
{
    return sc->repeat_mode == FX_UNSET ? FX_REPEAT_COMPACT : sc->repeat_mode;
}

static apr_time_t fx_rp_window(const fx_server_conf *sc)
{
    return apr_time_from_sec(sc->repeat_window > 0 ? sc->repeat_window : 60);
}

const char *fx_repeat_set_mode(cmd_parms *cmd, void *dconf, const char *arg)
{
    fx_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                              &forbidden_explain_module);
    (void)dconf;
    if (!strcasecmp(arg, "full")) {
        sc->repeat_mode = FX_REPEAT_FULL;
    }
    else if (!strcasecmp(arg, "compact")) {
        sc->repeat_mode = FX_REPEAT_COMPACT;
    }
    else if (!strcasecmp(arg, "off")) {
        sc->repeat_mode = FX_REPEAT_OFF;
    }
    else {
        return "ForbiddenExplainRepeat: full, compact or off";
    }
    return NULL;
}

const char *fx_repeat_set_window(cmd_parms *cmd, void *dconf, const char *arg)
{
    fx_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                              &forbidden_explain_module);
    char *end;
    long n = strtol(arg, &end, 10);
    (void)dconf;
    if (!*arg || *end || n < 1 || n > 86400) {
        return "ForbiddenExplainRepeatWindow: a number of seconds, 1 to 86400";
    }
    sc->repeat_window = (int)n;
    return NULL;
}

/* The position of s in the server list (the summary is written by the
 * parent, which has no request to take the server from). */
static apr_uint32_t fx_rp_server_index(const server_rec *s)
{
    const server_rec *vs;
    apr_uint32_t i = 0;
    for (vs = ap_server_conf; vs && vs != s; vs = vs->next) {
        i++;
    }
    return vs ? i : 0;
}

static server_rec *fx_rp_server_at(apr_uint32_t index)
{
    server_rec *vs = ap_server_conf;
    while (vs && index--) {
        vs = vs->next;
    }
    return vs ? vs : ap_server_conf;
}

/* Which virtual host a cause belongs to: where it was defined. */
static const char *fx_rp_vhost_label(apr_pool_t *p, const server_rec *s)
{
    return apr_psprintf(p, "%s:%u@%s:%d", s->server_hostname
                        ? s->server_hostname : "", (unsigned)s->port,
                        s->defn_name ? s->defn_name : "",
                        s->defn_line_number);
}

static const char *fx_rp_vhost(request_rec *r, const fx_server_conf *sc)
{
    return sc->repeat_vhost_of == r->server
           ? sc->repeat_vhost : fx_rp_vhost_label(r->pool, r->server);
}

int fx_repeat_compact(request_rec *r)
{
    fx_server_conf *sc = ap_get_module_config(r->server->module_config,
                                              &forbidden_explain_module);
    return fx_rp_table && fx_rp_mode(sc) == FX_REPEAT_COMPACT;
}

const char *fx_repeat_key(request_rec *r, const fx_entry *e)
{
    fx_server_conf *sc = ap_get_module_config(r->server->module_config,
                                              &forbidden_explain_module);
    if (fx_rp_mode(sc) != FX_REPEAT_COMPACT || !fx_rp_table) {
        return NULL;
    }
    return fx_rt_key(r->pool, e, fx_rp_vhost(r, sc));
}

static void fx_rp_write(apr_pool_t *p, server_rec *s, request_rec *r,
                        const fx_entry *e, const char **log_json)
{
    fx_server_conf *sc = ap_get_module_config(s->module_config,
                                              &forbidden_explain_module);
    const char *json = fx_entry_render(e, p, FX_RP_LOG_BUDGET);
    if (r) {
        ap_log_rerror(APLOG_MARK, sc->log_level, 0, r, "%s", json);
    }
    else {
        ap_log_error(APLOG_MARK, sc->log_level, 0, s, "%s", json);
    }
    if (sc->log_file) {
        static const fx_entry_style own = { FX_ENC_JSON, NULL, NULL, NULL };
        const char *line = apr_pstrcat(p, fx_entry_render_as(e, p,
                                       FX_RP_PIPE_BUDGET, &own), "\n", NULL);
        apr_file_write_full(sc->log_file, line, strlen(line), NULL);
    }
    if (log_json) {
        *log_json = json;
    }
}

static const char *fx_rp_time(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;
    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", x.tm_year + 1900,
                        x.tm_mon + 1, x.tm_mday, x.tm_hour, x.tm_min, x.tm_sec);
}

/* The summary line of a closed window: the cause, the full entry it
 * started with, how many repeats followed in the window. */
static void fx_rp_summary(apr_pool_t *p, const fx_rt_closed *c)
{
    server_rec *s = fx_rp_server_at(c->server_index);
    fx_entry *e = fx_entry_make(p);
    fx_entry_set_int(e, "status", HTTP_FORBIDDEN);
    fx_entry_set(e, "reason", c->reason);
    if (*c->directive) {
        fx_entry_set(e, "directive", c->directive);
    }
    if (*c->file) {
        fx_entry_set(e, "file", c->file);
    }
    if (c->line) {
        fx_entry_set_int(e, "line", c->line);
    }
    fx_entry_set(e, "repeat_of", c->full_id);
    fx_entry_set_int(e, "repeats", c->repeats);
    fx_entry_set(e, "window_start", fx_rp_time(p, c->window_start));
    fx_entry_set(e, "window_end", fx_rp_time(p, c->window_end));
    fx_rp_write(p, s, NULL, e, NULL);
}

int fx_repeat_log(request_rec *r, const fx_entry *e, const char *key,
                  const char **log_json)
{
    fx_server_conf *sc = ap_get_module_config(r->server->module_config,
                                              &forbidden_explain_module);
    int mode = fx_rp_mode(sc);
    fx_rt_label label;
    fx_rt_closed closed;
    char full_id[FX_RT_ID_MAX];
    apr_uint32_t count = 0;
    int has_closed = 0;
    const char *line;
    fx_rt_verdict v;
    fx_entry *c;

    *log_json = NULL;
    if (mode == FX_REPEAT_OFF) {
        return 1;
    }
    if (mode != FX_REPEAT_COMPACT || !key) {
        return 0;
    }
    label.reason = fx_entry_get(e, "reason");
    label.directive = fx_entry_get(e, "directive");
    label.file = fx_entry_get(e, "file");
    line = fx_entry_get(e, "line");
    label.line = line ? atoi(line) : 0;
    label.server_index = fx_rp_server_index(r->server);
    v = fx_rt_note(fx_rp_table, key, apr_time_now(), fx_rp_window(sc),
                   fx_entry_get(e, "request_id"), &label, full_id, &count,
                   &closed, &has_closed);
    if (has_closed) {
        fx_rp_summary(r->pool, &closed);
    }
    if (v != FX_RT_REPEAT) {
        return 0;
    }
    /* The short line: every 403 still has its own line with its exact
     * reason and rule; the rest is in the entry it repeats. */
    c = fx_entry_make(r->pool);
    line = fx_entry_get(e, "status");
    fx_entry_set_int(c, "status", line ? atoi(line) : HTTP_FORBIDDEN);
    if ((line = fx_entry_get(e, "decided_status")) != NULL) {
        /* sent as the 302 to the 403's ErrorDocument URL (fx_report.c) */
        fx_entry_set_int(c, "decided_status", atoi(line));
    }
    if (fx_entry_get(e, "report_only")) {
        /* a served request a report-only rule would deny (fx_reportonly.c) */
        fx_entry_set_raw(c, "report_only", "true");
    }
    line = fx_entry_get(e, "line");
    fx_entry_set(c, "reason", label.reason);
    fx_entry_set(c, "file", label.file);
    if (line) {
        fx_entry_set_int(c, "line", label.line);
    }
    fx_entry_set(c, "uri", fx_entry_get(e, "uri"));
    fx_entry_set(c, "client_ip", fx_entry_get(e, "client_ip"));
    fx_entry_set(c, "request_id", fx_entry_get(e, "request_id"));
    fx_entry_set(c, "repeat_of", full_id);
    fx_entry_set_int(c, "repeat", count);
    fx_rp_write(r->pool, r->server, r, c, log_json);
    return 1;
}

/* The parent, about every ten seconds: summaries of the windows that
 * closed, also when no further 403 of their cause comes. */
static int fx_rp_monitor(apr_pool_t *p, server_rec *s)
{
    fx_rt_closed out[8];
    apr_pool_t *tmp;
    int n, i;
    (void)s;

    if (!fx_rp_table) {
        return DECLINED;
    }
    apr_pool_create(&tmp, p);
    do {
        n = fx_rt_sweep(fx_rp_table, apr_time_now(), out, 8);
        for (i = 0; i < n; i++) {
            fx_rp_summary(tmp, &out[i]);
        }
        apr_pool_clear(tmp);
    } while (n == 8);
    apr_pool_destroy(tmp);
    return DECLINED;
}

static int fx_rp_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    apr_pool_t *proc = s->process->pool;
    apr_shm_t *shm = NULL;
    apr_status_t rv;
    void *base;
    server_rec *vs;
    (void)plog;
    (void)ptemp;

    fx_rp_table = NULL;
    for (vs = s; vs; vs = vs->next) {
        fx_server_conf *sc = ap_get_module_config(vs->module_config,
                                                  &forbidden_explain_module);
        sc->repeat_vhost = fx_rp_vhost_label(pconf, vs);
        sc->repeat_vhost_of = vs;
    }
    apr_pool_userdata_get((void **)&shm, FX_RP_USERDATA, proc);
    if (!shm) {
        rv = apr_shm_create(&shm, fx_rt_size(FX_RP_SLOTS), NULL, proc);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "forbidden_explain: "
                         "no shared memory for ForbiddenExplainRepeat: every "
                         "403 is written in full");
            return OK;
        }
        apr_pool_userdata_set(shm, FX_RP_USERDATA, apr_pool_cleanup_null, proc);
        fx_rt_init(apr_shm_baseaddr_get(shm), FX_RP_SLOTS);
    }
    base = apr_shm_baseaddr_get(shm);
    fx_rp_table = fx_rt_attach(base, FX_RP_SLOTS);
    if (!fx_rp_table) {
        fx_rp_table = fx_rt_init(base, FX_RP_SLOTS);
    }
    return OK;
}

void fx_repeat_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(fx_rp_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_monitor(fx_rp_monitor, NULL, NULL, APR_HOOK_MIDDLE);
}
