/* mod_forbidden_explain.c — the module record: configuration, directives and
 * hook registration.  The work lives in src/fx_*.c, one concern per file:
 *
 *   fx_trampoline.c  which module returned the 403 in which phase
 *   fx_errorlog.c    the AH lines httpd wrote for the request
 *   fx_conftree.c    file:line and sections of directives, from the
 *                    configuration tree and the request's .htaccess
 *   fx_shadow.c      lists of those records, section chains
 *   fx_authz.c       Require / Order / Allow / Deny explanations
 *   fx_fs.c          filesystem, symlink, Options and index explanations
 *   fx_rewrite.c     mod_rewrite, mod_ssl, WAF, proxy and backend 403s
 *   fx_explain.c     assembles one entry per 403
 *   fx_report.c      error log, ForbiddenExplainLog, notes and env vars
 *   fx_wire.c        headers for trusted clients
 *   fx_entry.c, fx_json.c, fx_classify.c   pure helpers (unit tested)
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_request.h"
#include "ap_mpm.h"
#include "apr_strings.h"

#include "mod_forbidden_explain.h"
#define FX_MODULE_RECORD 1  /* AP_DECLARE_MODULE below sets the log tag */
#include "src/fx_private.h"


/* -------------------------------------------------------------------- */
/* configuration records                                                 */

static void *fx_create_dir(apr_pool_t *p, char *dir)
{
    fx_dir_conf *dc = apr_pcalloc(p, sizeof(*dc));
    (void)dir;
    dc->enabled = FX_UNSET;
    return dc;
}

static void *fx_merge_dir(apr_pool_t *p, void *base_, void *add_)
{
    fx_dir_conf *base = base_, *add = add_;
    fx_dir_conf *dc;

    /* Merged configs are read-only: when one side sets nothing, the other
     * side is the result (most requests merge a few such sections). */
    if (base->enabled == FX_UNSET && !base->wire && !base->reason_header) {
        return add;
    }
    if (add->enabled == FX_UNSET && !add->wire && !add->reason_header) {
        return base;
    }
    /* Records of directives are not merged here: fx_conftree.c joins them
     * only once a 403 is certain. */
    dc = apr_palloc(p, sizeof(*dc));
    dc->enabled = add->enabled != FX_UNSET ? add->enabled : base->enabled;
    dc->wire = base->wire && add->wire ? fx_wire_merge_dir(p, base->wire, add->wire)
                                       : add->wire ? add->wire : base->wire;
    dc->reason_header = add->reason_header ? add->reason_header
                                           : base->reason_header;
    return dc;
}

static void *fx_create_server(apr_pool_t *p, server_rec *s)
{
    fx_server_conf *sc = apr_pcalloc(p, sizeof(*sc));
    (void)s;
    sc->log_level = FX_UNSET;
    return sc;
}

static void *fx_merge_server(apr_pool_t *p, void *base_, void *add_)
{
    fx_server_conf *base = base_, *add = add_;
    fx_server_conf *sc = apr_pcalloc(p, sizeof(*sc));
    sc->log_target = add->log_target ? add->log_target : base->log_target;
    sc->log_level = add->log_level != FX_UNSET ? add->log_level
                                               : base->log_level;
    /* The main server's sections apply inside virtual hosts too. */
    sc->toggled_in_sections = add->toggled_in_sections
                              || base->toggled_in_sections;
    return sc;
}

/* -------------------------------------------------------------------- */
/* directives                                                            */

static const char *fx_set_enabled(cmd_parms *cmd, void *dconf, int on)
{
    ((fx_dir_conf *)dconf)->enabled = on;
    if (cmd->path) {
        /* Only then can a failed directory walk's sections disagree with
         * the virtual host's default (fx_enabled). */
        fx_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                  &forbidden_explain_module);
        sc->toggled_in_sections = 1;
    }
    return NULL;
}

static const char *fx_set_log(cmd_parms *cmd, void *dconf, const char *arg)
{
    fx_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                              &forbidden_explain_module);
    (void)dconf;
    if (!*arg || (*arg == '|' && !arg[1])) {
        return "ForbiddenExplainLog needs a file name, '|command' or 'off'";
    }
    sc->log_target = arg;
    return NULL;
}

static const char *fx_set_log_level(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    static const char *const names[] = {
        "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
        NULL
    };
    fx_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                              &forbidden_explain_module);
    int i;
    (void)dconf;
    for (i = 0; names[i]; i++) {
        if (strcasecmp(arg, names[i]) == 0) {
            sc->log_level = i;
            return NULL;
        }
    }
    return apr_psprintf(cmd->pool, "ForbiddenExplainLogLevel: unknown level "
                        "'%s' (emerg, alert, crit, error, warn, notice, info "
                        "or debug)", arg);
}

static const command_rec fx_cmds[] = {
    AP_INIT_FLAG("ForbiddenExplain", fx_set_enabled, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "On to explain 403 responses for this scope (default), Off to stay silent"),
    AP_INIT_TAKE1("ForbiddenExplainLog", fx_set_log, NULL, RSRC_CONF,
                  "a file or '|piped command' receiving one JSON object per 403"),
    AP_INIT_TAKE1("ForbiddenExplainLogLevel", fx_set_log_level, NULL, RSRC_CONF,
                  "error-log level of the entries (default warn)"),
    /* fx_api.c: a reason a CGI script or backend states in a header */
    AP_INIT_TAKE1("ForbiddenExplainReasonHeader", fx_api_set_reason_header,
                  NULL, RSRC_CONF | ACCESS_CONF,
                  "response header (removed from 403 responses) whose value "
                  "becomes the detail of the entry, or none"),
    /* fx_wire.c: diagnostics on the wire */
    AP_INIT_FLAG("ForbiddenExplainHeaders", fx_wire_set_headers, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "On to send the Forbidden-Explain header (and problem+json "
                 "on request) to trusted clients; default Off"),
    AP_INIT_ITERATE("ForbiddenExplainTrustedClients", fx_wire_add_trusted,
                    NULL, RSRC_CONF | ACCESS_CONF,
                    "addresses, CIDR ranges, \"expr=<expression>\" or none; "
                    "default loopback"),
    AP_INIT_FLAG("ForbiddenExplainRequestId", fx_wire_set_request_id, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "On to give every 403 a Forbidden-Explain-Id header with the "
                 "log entry's request_id; default Off"),
    AP_INIT_TAKE12("ForbiddenExplainRedact", fx_wire_add_redact, NULL,
                   RSRC_CONF | ACCESS_CONF,
                   "<regex> [log], expr-literals [log|off] or none: text "
                   "replaced by [redacted] on the wire (and in the log)"),

    { NULL }
};

/* -------------------------------------------------------------------- */
/* hooks                                                                 */

static int fx_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    fx_server_conf *sc;
    server_rec *vs;
    (void)plog;
    (void)ptemp;

    for (vs = s; vs; vs = vs->next) {
        sc = ap_get_module_config(vs->module_config, &forbidden_explain_module);
        if (sc->log_level == FX_UNSET) {
            sc->log_level = APLOG_WARNING;
        }
    }
    fx_conftree_index(pconf, s);
    fx_trampoline_install(pconf, s);
    return fx_report_open_logs(pconf, s);
}

static void fx_insert_filters(request_rec *r)
{
    fx_api_insert_filter(r);        /* ForbiddenExplainReasonHeader */
    fx_wire_insert_filter(r);       /* headers for trusted clients */
}

static void fx_register_hooks(apr_pool_t *p)
{
    /* Last, so every other module's request hooks are already in place. */
    ap_hook_post_config(fx_post_config, NULL, NULL, APR_HOOK_REALLY_LAST);
    fx_errorlog_register_hooks(p);
    fx_report_register_hooks(p);
    fx_authz_register_hooks(p);
    fx_fs_register_hooks(p);
    fx_rewrite_register_hooks(p);
    fx_api_register_hooks(p);
    fx_wire_register_hooks(p);
    fx_state_register_hooks(p);
    fx_version_register_hooks(p);
    ap_hook_insert_filter(fx_insert_filters, NULL, NULL, APR_HOOK_LAST);
}

AP_DECLARE_MODULE(forbidden_explain) = {
    STANDARD20_MODULE_STUFF,
    fx_create_dir,
    fx_merge_dir,
    fx_create_server,
    fx_merge_server,
    fx_cmds,
    fx_register_hooks
};
