/* fx_private.h — types shared by the parts of mod_forbidden_explain: the
 * module's configuration records, the per-request state the hooks fill in,
 * and the entry points each subsystem offers to the glue in
 * mod_forbidden_explain.c. */
#ifndef FX_PRIVATE_H
#define FX_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_hash.h"
#include "fx_entry.h"
#include "fx_section.h"

/* The module is built with -fvisibility=hidden (internal calls go direct,
 * not through the PLT); only the module record is exported. */
extern module AP_MODULE_DECLARE_DATA __attribute__((visibility("default")))
    forbidden_explain_module;
/* Every file but the record's definition reaches it through a hidden alias
 * (mod_forbidden_explain.c): the exported symbol may be interposed, so
 * each use of the real one loads its address from the GOT first (the
 * module index is read on every request, several times). */
extern module fx_module_self __attribute__((visibility("hidden")));
#define forbidden_explain_module fx_module_self
#ifndef FX_MODULE_RECORD
APLOG_USE_MODULE(forbidden_explain);
#endif

#define FX_UNSET (-1)

/* Persistent list of directive records (fx_shadow.c, fx_conftree.c). */
typedef struct fx_shadow_list fx_shadow_list;
/* Per-directory settings of the wire subsystem (fx_wire.c). */
typedef struct fx_wire_dir_conf fx_wire_dir_conf;

typedef struct {
    int enabled;                    /* ForbiddenExplain On|Off */
    fx_wire_dir_conf *wire;         /* ForbiddenExplainHeaders & co. */
    const char *reason_header;      /* ForbiddenExplainReasonHeader (fx_api.c) */
    struct fx_ro_conf *reportonly;  /* <ForbiddenExplainReportOnly> (fx_reportonly.c) */
    int rewrite;                    /* a section holding Rewrite* lines merged
                                     * in (fx_conftree.c, post_config) */
} fx_dir_conf;
/* An empty per-dir config (mod_forbidden_explain.c's create_dir_config). */
fx_dir_conf *fx_dir_conf_make(apr_pool_t *p);

typedef struct {
    const char *log_target;         /* ForbiddenExplainLog argument */
    apr_file_t *log_file;           /* opened per generation in open_logs */
    int log_level;                  /* ForbiddenExplainLogLevel, APLOG_* */
    int toggled_in_sections;        /* ForbiddenExplain inside a section */
    int repeat_mode;                /* ForbiddenExplainRepeat (fx_repeat.c) */
    int repeat_window;              /* ForbiddenExplainRepeatWindow, seconds */
    int rewrite;                    /* Rewrite* lines at this server's level,
                                     * or the main server's (fx_conftree.c) */
    const char *repeat_vhost;       /* the cause key's virtual host, made in
                                     * post_config (fx_repeat.c) for */
    const server_rec *repeat_vhost_of;  /* this server */
} fx_server_conf;

/* ForbiddenExplainRepeat: repeats of a cause in its window as short lines
 * (default), every entry in full, or no entry line at all. */
enum { FX_REPEAT_COMPACT = 0, FX_REPEAT_FULL = 1, FX_REPEAT_OFF = 2 };

/* The hook that returned the error, as the trampolines saw it. */
typedef struct {
    const char *phase;              /* "access_checker_ex", "handler", ... */
    const char *module;             /* httpd's name, e.g. "mod_authz_core.c" */
    int status;                     /* HTTP status produced */
    int returned_ok;                /* handler returned OK/DONE, r->status set */
    const char *handler;            /* r->handler at that moment */
    const char *uri;                /* r->uri of the (sub-)request */
    const char *filename;           /* r->filename at that moment */
} fx_origin;

/* One error-log line of interest (key: its AH number). */
typedef struct {
    int ah;                         /* 1630 for AH01630, 0 if none */
    int level;
    apr_status_t apr_status;
    const char *message;            /* the logged message, bounded */
    int from_subrequest;
} fx_logged;

#define FX_MAX_LOGGED 6

/* Slots of fx_req_state.subsys, one per subsystem that keeps request state. */
enum { FX_SLOT_AUTHZ, FX_SLOT_FS, FX_SLOT_WAF, FX_SLOT_WIRE, FX_SLOT_REWRITE,
       FX_SLOT_REPORTONLY, FX_SLOT_COUNT };

typedef struct fx_req_state fx_req_state;
struct fx_req_state {
    int has_origin;
    fx_origin origin;
    int has_sub_origin;             /* a sub-request of this request failed */
    fx_origin sub_origin;
    int n_logged;
    fx_logged logged[FX_MAX_LOGGED];
    apr_array_header_t *authz_trail;   /* fx_authz.c: fx_az_step per provider call */
    apr_array_header_t *sub_authz_trail; /* fx_authz.c: fx_az_fact, a failed sub-request's explanation */
    void *subsys[FX_SLOT_COUNT];    /* private per-subsystem state */
    fx_entry *entry;                /* built once the 403 is certain */
    const char *request_id;
    int logged_entry;               /* the entry was written */
    /* fx_repeat.c: the entry is built only to learn its cause (the 403 is
     * likely a repeat): explainers may skip what only a full entry shows
     * (hint verification, fix, blockers); never a fact of the cause */
    int cheap;
    /* fx_api.c: a reason stated by a module, note or response header */
    const char *stated_reason;
    const char *stated_detail;
    const char *stated_hint;
    const char *stated_by;
    /* fx_conftree.c, for the request being explained: the records of the
     * sections its walks merged (explained_traced: the merges were traced
     * back to the server's defaults), and of its .htaccess files */
    const fx_shadow_list *explained;
    int explained_done;
    int explained_traced;
    apr_hash_t *htaccess_records;
    /* fx_whatif.c: a request the simulator runs (authentication skipped,
     * the Require trail kept, fx_trampoline.c); sim_user its user */
    int simulated;
    const char *sim_user;
    server_rec *sim_server;         /* its server record: a silent copy */
    server_rec *sim_real;           /* ... of this one */
    apr_array_header_t *sim_subs;   /* fx_wi_sub: its sub-requests' grants */
};


/* fx_state.c */
/* Inline: the allowed path asks for these in every hook of ours. */
static APR_INLINE fx_req_state *fx_state_get(const request_rec *r)
{
    return ap_get_module_config(r->request_config, &forbidden_explain_module);
}
fx_req_state *fx_state_ensure(request_rec *r);
/* fx_repeat.c: r's entry is being built only to learn its cause (see
 * fx_req_state.cheap): skip what only a full entry shows. */
static APR_INLINE int fx_cheap(const request_rec *r)
{
    const fx_req_state *st = fx_state_get(r);
    return st && st->cheap;
}
static APR_INLINE fx_dir_conf *fx_dir_get(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &forbidden_explain_module);
}
int fx_enabled(const request_rec *r);
/* The origin that produced the 403: the hook's, or, when mod_dir relayed
 * the status of its index sub-request, that sub-request's (*via_subreq set).
 * NULL when no hook returned it. */
const fx_origin *fx_state_cause(const fx_req_state *st, int *via_subreq);
const char *fx_request_id(request_rec *r, fx_req_state *st);
/* fx_state.c: draws the key of the fallback request id (post_config). */
void fx_state_register_hooks(apr_pool_t *p);
/* fx_version.c: logs the running httpd's version (debug). */
void fx_version_register_hooks(apr_pool_t *p);
/* fx_audit.c: the configuration and filesystem audit (ForbiddenExplainAudit,
 * SetHandler forbidden-explain-audit) */
void fx_audit_register_hooks(apr_pool_t *p);
void fx_audit_startup(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
const char *fx_audit_set(cmd_parms *cmd, void *dconf, int on);

/* fx_trampoline.c: phase and module attribution */
typedef int fx_hook_fn(request_rec *r);
void fx_trampoline_install(apr_pool_t *pconf, server_rec *s);

/* fx_errorlog.c: collects AH lines that belong to a 403 */
void fx_errorlog_register_hooks(apr_pool_t *p);
const fx_logged *fx_logged_find(const fx_req_state *st, int ah);

/* fx_explain.c: builds the entry once a 403 is certain */
fx_entry *fx_explain(request_rec *r, request_rec *failed, fx_req_state *st);
/* Sets method, uri, client_ip, peer_ip and user (of at, or of a request
 * it was redirected from); returns that user or NULL. */
const char *fx_explain_request_facts(request_rec *r, request_rec *at,
                                     fx_entry *e);

/* fx_repeat.c: ForbiddenExplainRepeat.  The cause key of e (NULL unless
 * the mode is compact and the table is there), computed before redaction;
 * then fx_repeat_log() writes the short line of a repeat, or nothing for
 * off, and returns 1 (*log_json: the line written, or NULL), or returns 0:
 * write the entry in full. */
const char *fx_repeat_key(request_rec *r, const fx_entry *e);
/* compact mode with its table: an entry may be built cheap first */
int fx_repeat_compact(request_rec *r);
int fx_repeat_log(request_rec *r, const fx_entry *e, const char *key,
                  const char **log_json);
const char *fx_repeat_set_mode(cmd_parms *cmd, void *dconf, const char *arg);
const char *fx_repeat_set_window(cmd_parms *cmd, void *dconf, const char *arg);
void fx_repeat_register_hooks(apr_pool_t *p);

/* fx_report.c: writes the entry to the error log, own log, notes, env */
void fx_report_register_hooks(apr_pool_t *p);
int fx_report_open_logs(apr_pool_t *pconf, server_rec *s);
/* The entry for r's 403, built on first use and then cached. */
fx_entry *fx_report_entry(request_rec *r);

/* Subsystem explainers, called by fx_explain() in this order.  Each adds
 * what it can prove to the entry and leaves the rest alone. */
void fx_authz_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                      fx_entry *e);
void fx_fs_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                   fx_entry *e);
/* fx_fs.c: after a failed directory walk (r->per_dir_config is still the
 * virtual host's default), the module's per-dir config of the path where
 * the walk stopped; NULL otherwise (and on every allowed request). */
fx_dir_conf *fx_fs_walk_dir_conf(request_rec *r);
void fx_rewrite_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                        fx_entry *e);
/* fx_rewrite.c: a hook returned an error (the trampoline's note); when it
 * was mod_rewrite's, keep the inputs it had and the rules it applied. */
void fx_rewrite_origin_noted(request_rec *r, const fx_origin *o);
/* fx_rewrite.c, for fx_trampoline_install: the function to call in place of
 * mod_rewrite's translate_name (fixups 0) or fixups hook orig, which takes
 * the snapshot of its inputs first (translate_name: orig itself when no
 * server of s's list has Rewrite* lines at its level); fx_rewrite_unwrap
 * forgets the previous generation's. */
fx_hook_fn *fx_rewrite_wrap(int fixups, fx_hook_fn *orig, server_rec *s);
void fx_rewrite_unwrap(void);
/* fx_alias.c: a 403 mod_alias's hook returned (Redirect 403,
 * RedirectMatch 403): the line its replay proves answered. */
void fx_alias_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                      fx_entry *e);
/* fx_ssl.c, fx_waf.c, fx_upstream.c; fx_api.c runs last: a stated reason
 * wins over every inferred one. */
void fx_ssl_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                    fx_entry *e);
void fx_waf_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                    fx_entry *e);
/* Every blocker after a fix to an earlier phase (fx_explain.c, issue 13):
 * what the per-directory RewriteRules (fx_rewrite.c), the server user's
 * read of the file (fx_fs.c) would answer once authorization lets r
 * through, and which ModSecurity rules matched so far (fx_waf.c). */
int fx_rewrite_perdir_would_deny(request_rec *r, const char **json,
                                 const char **text);
int fx_fs_read_would_deny(request_rec *r, const char **json,
                          const char **text);
int fx_fs_listing_would_deny(request_rec *r, int has_index_file,
                             const char **json, const char **text);
const char *fx_waf_matched_ids(request_rec *r, fx_req_state *st);
void fx_upstream_explain(request_rec *r, request_rec *failed,
                         fx_req_state *st, fx_entry *e);
void fx_api_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                    fx_entry *e);
void fx_api_register_hooks(apr_pool_t *p);
const char *fx_api_set_reason_header(cmd_parms *cmd, void *dconf,
                                     const char *name);

/* A sub-request failed: copy what fx_authz_explain needs into main_st
 * (the sub-request's pool dies before the main request is explained). */
void fx_authz_subrequest_denied(request_rec *sub, fx_req_state *main_st);

/* A hook returned an error for r: keep its Require trail (fx_authz.c
 * holds a trail of rules that all granted on the thread only). */
void fx_authz_keep_pending(request_rec *r);
/* Called by the access_checker_ex and auth_checker runners before any hook
 * of the phase (as REALLY_FIRST hooks would be): mod_authz_core's first
 * evaluation starts -- whatever Require trail is pending on the connection
 * belongs to a request that is over --, its second (after authentication)
 * starts.  The first is inline, as that runner's only call: fx_authz.c's
 * pending record starts with the request it is for (checked there). */
static APR_INLINE void fx_authz_begin(request_rec *r)
{
    const request_rec **pending = ap_get_module_config(
        r->connection->conn_config, &forbidden_explain_module);
    if (pending) {
        *pending = NULL;
    }
}
void fx_authz_second_pass(request_rec *r);

void fx_authz_register_hooks(apr_pool_t *p);
void fx_fs_register_hooks(apr_pool_t *p);
void fx_rewrite_register_hooks(apr_pool_t *p);
void fx_wire_register_hooks(apr_pool_t *p);

/* insert_filter, per subsystem; one hook in the glue calls both, since it
 * runs for every request.  fx_insert_filters_wanted: some section of this
 * generation's configuration sets ForbiddenExplainReasonHeader or a wire
 * directive (none of them is allowed in .htaccess); set by their handlers,
 * reset in pre_config. */
extern int fx_insert_filters_wanted;
void fx_api_insert_filter(request_rec *r);
void fx_wire_insert_filter(request_rec *r);

/* fx_shadow.c, fx_conftree.c: where the directives in effect are */
typedef struct {
    const char *name;               /* directive, as its module spells it */
    const char *args;               /* its arguments */
    const ap_directive_t *where;    /* file, line, parent sections */
    const char *file;
    int line;
    apr_int64_t limited;            /* <Limit> method mask (-1: all) */
    const char *dir_path;           /* the section's path, or .htaccess dir */
    int in_htaccess;
} fx_shadow_rec;

/* post_config: records of the main configuration, put into this module's
 * slot of every section's per-dir config vector. */
void fx_conftree_index(apr_pool_t *pconf, server_rec *s);
/* Once a 403 is certain: records of the .htaccess files r read. */
void fx_conftree_htaccess(request_rec *r);
/* The records in effect for r: those of every section its walks merged
 * (.htaccess files included), in merge order, as a config for
 * fx_shadow_find (cached in r's state). */
const fx_shadow_list *fx_dir_explained(request_rec *r);
/* The records one section's vector holds (a section of the main
 * configuration, or an .htaccess file read for r). */
const fx_shadow_list *fx_vector_records(request_rec *r, ap_conf_vector_t *v);
/* The records of one section of the main configuration (no request). */
const fx_shadow_list *fx_vector_records_conf(ap_conf_vector_t *v);
/* Every record in effect for r named name (NULL = all), outermost first. */
apr_array_header_t *fx_records_find(apr_pool_t *p, request_rec *r,
                                    const char *name);

/* A list of shadow records: a leaf chain of one section's records, or a
 * node joining the lists of outer (base) and inner (add) sections. */
struct fx_shadow_list {
    const fx_shadow_list *base;     /* outer sections, merged earlier */
    const fx_shadow_list *add;      /* inner sections */
    const fx_shadow_rec *rec;       /* leaf: one directive */
    const fx_shadow_list *next;     /* leaf chain within one section */
};

/* The list of base's sections followed by add's, its node built in mem
 * (sizeof(fx_shadow_list)) when one is needed, so a per-dir merge makes one
 * allocation.  Inline: every request merges a few sections. */
static APR_INLINE void *fx_shadow_merge_at(void *mem, apr_pool_t *p,
                                           fx_shadow_list *base,
                                           fx_shadow_list *add)
{
    fx_shadow_list *node;
    if (!base || !add) {
        return base ? base : add;
    }
    node = mem ? mem : apr_palloc(p, sizeof(*node));
    node->base = base;
    node->add = add;
    node->rec = NULL;
    node->next = NULL;
    return node;
}

/* Every record in effect for r named name (case-insensitive, NULL = all),
 * outermost section first. */
apr_array_header_t *fx_shadow_find(apr_pool_t *p, const fx_shadow_list *l,
                                   const char *name);

/* fx_wire.c */
void *fx_wire_create_dir(apr_pool_t *p);
void *fx_wire_merge_dir(apr_pool_t *p, void *base, void *add);
const char *fx_wire_set_headers(cmd_parms *cmd, void *dconf, int on);
const char *fx_wire_set_request_id(cmd_parms *cmd, void *dconf, int on);
const char *fx_wire_add_trusted(cmd_parms *cmd, void *dconf, const char *arg);
const char *fx_wire_add_redact(cmd_parms *cmd, void *dconf, const char *arg,
                               const char *flag);
/* log_transaction: applies ForbiddenExplainRedact ... log to e in place. */
void fx_wire_redact_log_entry(request_rec *r, fx_entry *e);
/* fx_wire.c: ForbiddenExplainTrustedClients admits r (fx_whatif.c). */
int fx_wire_client_trusted(request_rec *r);
/* fx_authz.c: the Require rules that granted a simulated request. */
int fx_authz_granted(request_rec *r, apr_pool_t *p, const char **granted,
                     const char **trail);
/* fx_authz.c: the Order/Allow line that let a simulated request in. */
const char *fx_authz_compat_granted(request_rec *r, apr_pool_t *p);
/* fx_whatif.c: SetHandler forbidden-explain-whatif */
void fx_whatif_register_hooks(apr_pool_t *p);
/* The module's handlers, called from its one handler hook. */
int fx_whatif_handler(request_rec *r);
int fx_audit_handler(request_rec *r);
/* fx_whatif.c: how many probes this process is running (atomic); the
 * runners look at request state only while it is not 0. */
extern volatile apr_uint32_t fx_sim_active __attribute__((visibility("hidden")));
/* fx_trampoline.c -> fx_whatif.c: a sub-request of a simulated request
 * went through authorization (mod_dir's index, negotiation). */
void fx_whatif_sub_authorized(request_rec *r);
/* fx_trampoline.c -> fx_whatif.c: before a simulated request's
 * access_checker phase; DECLINED, or the status that stops the probe
 * (per-directory TLS parameters on a TLS probe: no renegotiation). */
int fx_whatif_access_gate(request_rec *r);

#endif
