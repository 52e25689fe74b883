/* fx_counters.c — denial counters shared by all children: the shared
 * segment and its lock, counting once a 403 is certain, and the readers of
 * the counts (SetHandler forbidden-explain-metrics and
 * forbidden-explain-status, mod_status' section and ?auto lines).
 *
 * The table itself (layout, counting, rendering) is pure and lives in
 * fx_counter_table.c.  Here:
 *   - post_config (not in the pass that only checks the configuration):
 *     an anonymous apr_shm segment and a global mutex (a robust,
 *     process-shared pthread mutex: no file, and a child killed while it
 *     holds the lock does not block the others; a lock file under
 *     DefaultRuntimeDir where the platform has none), both in the process
 *     pool and remembered in its userdata, so they outlive the generation:
 *     every graceful restart finds them and the counts go on.  A restart
 *     with another ForbiddenExplainCounterRules makes a new segment and
 *     copies the counts over (what children of the old generation count
 *     after the copy is lost); the old segment is unmapped in the parent
 *     only, so those children keep a valid mapping until they exit.
 *   - child_init: the mutex is attached in each child.
 *   - fx_counters_add, called by fx_report.c once per certain 403 (and by
 *     report-only rules for "would deny"): one locked update.  Nothing
 *     runs on the allowed path.
 *   - readers copy the segment under the lock and render from the copy.
 * Configuration is global (main server) and read-only after post_config. */
#include "fx_private.h"
#include "apr_shm.h"
#include "apr_global_mutex.h"
#include "apr_strings.h"
#include "apr_optional_hooks.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "unixd.h"
#include "mod_status.h"
#include "fx_counters.h"
#include "fx_counter_table.h"

#define FX_CT_LOCKFILE "forbidden_explain_counters.lock"
#define FX_CT_USERDATA "forbidden_explain_counters"

#define FX_METRICS_HANDLER "forbidden-explain-metrics"
#define FX_STATUS_HANDLER "forbidden-explain-status"

/* The segment and its lock: allocated in the process pool, found again by
 * every generation through the pool's userdata. */
typedef struct {
    apr_shm_t *shm;
    fx_ct_table *table;
    apr_global_mutex_t *mutex;
    const char *lockfile;
} fx_ct_segment;

/* This generation's view of the segment (set in post_config, read-only in
 * the children), and the configuration (set while reading it). */
static fx_ct_segment *fx_seg;

typedef enum { FX_CLIENTS_OFF = 0, FX_CLIENTS_HASHED, FX_CLIENTS_ON }
    fx_clients_mode;

static int fx_ct_enabled = 1;
static fx_clients_mode fx_ct_clients = FX_CLIENTS_OFF;
static int fx_ct_rules = FX_CT_RULES_DEFAULT;
static int fx_ct_top = 100;

/* -------------------------------------------------------------------- */
/* directives (main server only: one table for the whole server)         */

const char *fx_counters_set_enabled(cmd_parms *cmd, void *dconf, int on)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dconf;
    if (err) {
        return err;
    }
    fx_ct_enabled = on;
    return NULL;
}

const char *fx_counters_set_clients(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dconf;
    if (err) {
        return err;
    }
    if (strcasecmp(arg, "off") == 0) {
        fx_ct_clients = FX_CLIENTS_OFF;
    }
    else if (strcasecmp(arg, "hashed") == 0) {
        fx_ct_clients = FX_CLIENTS_HASHED;
    }
    else if (strcasecmp(arg, "on") == 0) {
        fx_ct_clients = FX_CLIENTS_ON;
    }
    else {
        return "ForbiddenExplainCountClients: off, hashed or on";
    }
    return NULL;
}

static const char *fx_number(cmd_parms *cmd, const char *arg, int lo, int hi,
                             int *out)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);
    if (!*arg || *end || n < lo || n > hi) {
        return apr_psprintf(cmd->pool, "%s: a number from %d to %d",
                            cmd->cmd->name, lo, hi);
    }
    *out = (int)n;
    return NULL;
}

const char *fx_counters_set_rules(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dconf;
    return err ? err : fx_number(cmd, arg, FX_CT_RULES_MIN, FX_CT_RULES_MAX,
                                 &fx_ct_rules);
}

const char *fx_counters_set_top(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dconf;
    return err ? err : fx_number(cmd, arg, 0, FX_CT_RULES_MAX, &fx_ct_top);
}

/* -------------------------------------------------------------------- */
/* the segment                                                           */

static int fx_counters_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                                  apr_pool_t *ptemp)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    /* every generation reads its configuration afresh */
    fx_ct_enabled = 1;
    fx_ct_clients = FX_CLIENTS_OFF;
    fx_ct_rules = FX_CT_RULES_DEFAULT;
    fx_ct_top = 100;
    fx_seg = NULL;
    return OK;
}

/* The writers' lock.  Not an ap_mutex type: that would add a line to
 * `httpd -t -D DUMP_RUN_CFG`, and Debian's `Mutex file:... default` would
 * make it an fcntl lock, two system calls per counted 403. */
static apr_status_t fx_segment_mutex(fx_ct_segment *seg, apr_pool_t *pproc,
                                     server_rec *s)
{
    apr_status_t rv;
#if APR_HAS_PROC_PTHREAD_SERIALIZE
    rv = apr_global_mutex_create(&seg->mutex, NULL, APR_LOCK_PROC_PTHREAD,
                                 pproc);
    if (rv == APR_SUCCESS) {
        return rv;
    }
#endif
    seg->lockfile = ap_runtime_dir_relative(pproc, FX_CT_LOCKFILE);
    rv = apr_global_mutex_create(&seg->mutex, seg->lockfile, APR_LOCK_DEFAULT,
                                 pproc);
    if (rv == APR_SUCCESS) {
        rv = ap_unixd_set_global_mutex_perms(seg->mutex);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "forbidden_explain: "
                     "cannot create the counters' lock (%s); counting is off",
                     seg->lockfile);
    }
    return rv;
}

/* A new segment of n rules; the counts of old (if any) copied into it. */
static apr_status_t fx_segment_table(fx_ct_segment *seg, apr_pool_t *pproc,
                                     apr_uint32_t n, server_rec *s)
{
    apr_shm_t *shm;
    unsigned char key[16];
    apr_status_t rv;
    apr_size_t size = fx_ct_size(n);

    rv = apr_shm_create(&shm, size, NULL, pproc);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "forbidden_explain: "
                     "cannot create the counters' shared memory (%"
                     APR_SIZE_T_FMT " bytes); counting is off", size);
        return rv;
    }
    rv = apr_generate_random_bytes(key, sizeof(key));
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "forbidden_explain: no "
                     "random bytes for the counters' key; counting is off");
        apr_shm_destroy(shm);
        return rv;
    }
    fx_ct_init(apr_shm_baseaddr_get(shm), n, key, apr_time_now());
    if (seg->table) {
        /* children of the old generation may be writing: take the lock */
        apr_global_mutex_lock(seg->mutex);
        fx_ct_migrate(apr_shm_baseaddr_get(shm), seg->table);
        apr_global_mutex_unlock(seg->mutex);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "forbidden_explain: "
                     "counters moved to a table of %u rules", n);
        /* unmaps it here only: old children keep their mapping */
        apr_shm_destroy(seg->shm);
    }
    seg->shm = shm;
    seg->table = apr_shm_baseaddr_get(shm);
    return APR_SUCCESS;
}

static int fx_counters_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                   apr_pool_t *ptemp, server_rec *s)
{
    apr_pool_t *pproc = s->process->pool;
    fx_ct_segment *seg = NULL;
    apr_status_t rv;
    (void)pconf;
    (void)plog;
    (void)ptemp;

    /* Not while httpd only checks the configuration (the first pass, -t,
     * -S, -M): nothing is served then. */
    if (!fx_ct_enabled
        || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || ap_state_query(AP_SQ_RUN_MODE) != AP_SQ_RM_NORMAL) {
        return OK;
    }
    apr_pool_userdata_get((void **)&seg, FX_CT_USERDATA, pproc);
    if (!seg) {
        seg = apr_pcalloc(pproc, sizeof(*seg));
        rv = fx_segment_mutex(seg, pproc, s);
        if (rv != APR_SUCCESS) {
            return OK;              /* the server runs, uncounted */
        }
        apr_pool_userdata_set(seg, FX_CT_USERDATA, apr_pool_cleanup_null,
                              pproc);
    }
    if (!seg->table || seg->table->n_rules != (apr_uint32_t)fx_ct_rules) {
        if (fx_segment_table(seg, pproc, (apr_uint32_t)fx_ct_rules, s)
            != APR_SUCCESS && !seg->table) {
            return OK;              /* the server runs, uncounted */
        }
    }
    fx_seg = seg;
    return OK;
}

static void fx_counters_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;
    if (!fx_seg) {
        return;
    }
    rv = apr_global_mutex_child_init(&fx_seg->mutex, fx_seg->lockfile,
                                     pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "forbidden_explain: "
                     "cannot attach the counters' lock; this child does not "
                     "count");
        fx_seg = NULL;
    }
}

/* -------------------------------------------------------------------- */
/* counting                                                              */

/* The virtual host as configured (ServerName) and the local port that
 * received the request: never from the Host header, which the client
 * chooses (and which would make the table the client's). */
static const char *fx_vhost_name(request_rec *r)
{
    const char *name = r->server->server_hostname ? r->server->server_hostname
                                                  : "";
    apr_port_t port = r->connection->local_addr
                      ? r->connection->local_addr->port : r->server->port;
    return apr_pstrcat(r->pool, name, ":", apr_itoa(r->pool, port), NULL);
}

void fx_counters_add(request_rec *r, const fx_entry *e, fx_count_kind kind)
{
    fx_ct_event ev;
    const char *line, *client;

    if (!fx_seg || !e) {
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.kind = kind == FX_COUNT_WOULD_DENY ? FX_CT_WOULD : FX_CT_DENIED;
    ev.reason = fx_entry_get(e, "reason");
    ev.module = fx_entry_get(e, "module");
    ev.phase = fx_entry_get(e, "phase");
    ev.rule = fx_entry_get(e, "directive");
    ev.file = fx_entry_get(e, "file");
    line = fx_entry_get(e, "line");
    ev.line = line ? apr_atoi64(line) : 0;
    ev.vhost = fx_vhost_name(r);
    ev.path = fx_entry_get(e, "uri");
    ev.uri = ev.path;
    ev.hint = fx_entry_get(e, "hint");
    ev.request_id = fx_entry_get(e, "request_id");
    client = fx_entry_get(e, "client_ip");
    if (client && fx_ct_clients == FX_CLIENTS_ON) {
        ev.client = client;
    }
    else if (client && fx_ct_clients == FX_CLIENTS_HASHED) {
        /* the key is written once, before any child exists */
        ev.client = fx_ct_client_hash(r->pool, fx_seg->table->key, client);
    }
    if (client && fx_ct_clients != FX_CLIENTS_ON) {
        /* hints name the client ("add `Require ip 192.0.2.7`"): the
         * counters show it only as configured */
        ev.hint = fx_ct_mask_address(r->pool, ev.hint, client,
                                     ev.client ? ev.client : "[client]");
    }
    if (apr_global_mutex_lock(fx_seg->mutex) != APR_SUCCESS) {
        return;
    }
    fx_ct_add(fx_seg->table, &ev, apr_time_now());
    apr_global_mutex_unlock(fx_seg->mutex);
}

/* -------------------------------------------------------------------- */
/* readers                                                               */

/* A consistent copy of the table, or NULL (no segment). */
static const fx_ct_table *fx_snapshot(apr_pool_t *p)
{
    fx_ct_table *copy;
    apr_size_t size;
    if (!fx_seg) {
        return NULL;
    }
    if (apr_global_mutex_lock(fx_seg->mutex) != APR_SUCCESS) {
        return NULL;
    }
    size = (apr_size_t)fx_seg->table->size;
    copy = apr_palloc(p, size);
    memcpy(copy, fx_seg->table, size);
    apr_global_mutex_unlock(fx_seg->mutex);
    return fx_ct_valid(copy, size) ? copy : NULL;
}

int fx_counters_handler(request_rec *r)
{
    const fx_ct_table *t;
    const char *body;
    int metrics;

    if (strcmp(r->handler, FX_METRICS_HANDLER) == 0) {
        metrics = 1;
    }
    else if (strcmp(r->handler, FX_STATUS_HANDLER) == 0) {
        metrics = 0;
    }
    else {
        return DECLINED;
    }
    /* the Allow header of the 405 (HEAD is GET's) */
    ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;     /* HEAD is M_GET, header_only */
    }
    t = fx_snapshot(r->pool);
    if (!t) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "forbidden_explain: no "
                      "counters (ForbiddenExplainCounters off, or the "
                      "segment could not be made)");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (metrics) {
        ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
        body = fx_ct_render_metrics(r->pool, t, fx_ct_top);
    }
    else {
        /* the page shows request data: no script, nothing from elsewhere */
        apr_table_setn(r->headers_out, "Content-Security-Policy",
                       "default-src 'none'; style-src 'unsafe-inline'; "
                       "img-src 'none'; frame-ancestors 'none'");
        ap_set_content_type(r, "text/html; charset=utf-8");
        body = fx_ct_render_page(r->pool, t, apr_time_now(), fx_ct_top);
    }
    ap_set_content_length(r, strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return OK;
}

static int fx_counters_status(request_rec *r, int flags)
{
    const fx_ct_table *t = fx_snapshot(r->pool);
    if (!t) {
        return OK;
    }
    if (flags & AP_STATUS_SHORT) {
        ap_rputs(fx_ct_render_auto(r->pool, t), r);
    }
    else {
        ap_rputs(fx_ct_render_section(r->pool, t, flags & AP_STATUS_NOTABLE),
                 r);
    }
    return OK;
}

void fx_counters_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(fx_counters_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(fx_counters_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_child_init(fx_counters_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, fx_counters_status, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
