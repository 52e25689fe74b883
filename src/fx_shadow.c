/* fx_shadow.c — "shadow" directives: the module defines the same names as
 * Options, Order, RewriteRule, ... with the same override mask, so httpd
 * hands it every occurrence too (config.c invokes each module that defines a
 * name, most recently loaded first).  The shadow only records where the line
 * is; the real module still parses and enforces it.
 *
 * Rules kept here (reference §3.3): same req_override as the real directive,
 * never an EXEC_ON_READ name, never walk a container's children, and refuse a
 * name no other loaded module defines, so a configuration httpd would reject
 * stays rejected.  Records form persistent lists so merging per-dir configs
 * costs one small node, not a copy. */
#include <string.h>
#include "apr_strings.h"
#include "http_core.h"
#include "fx_private.h"

/* Per shadow command: does a module other than ours define the name?
 * Filled in pre_config, after every LoadModule ran and before any directive
 * is processed; read-only afterwards (children parse .htaccess with it). */
#define FX_MAX_SHADOWS 64
static signed char fx_defined[FX_MAX_SHADOWS];
static int fx_prepared;

static int fx_defined_elsewhere(const char *name)
{
    module *m;
    for (m = ap_top_module; m; m = m->next) {
        if (m != &forbidden_explain_module && m->cmds
            && ap_find_command(name, m->cmds)) {
            return 1;
        }
    }
    return 0;
}

void fx_shadow_prepare(apr_pool_t *pconf)
{
    const command_rec *c;
    int i = 0;
    (void)pconf;
    for (c = forbidden_explain_module.cmds; c->name && i < FX_MAX_SHADOWS;
         c++, i++) {
        fx_defined[i] = (signed char)fx_defined_elsewhere(c->name);
    }
    fx_prepared = 1;
}

static int fx_shadow_defined(const command_rec *cmd)
{
    long idx = cmd - forbidden_explain_module.cmds;
    if (fx_prepared && idx >= 0 && idx < FX_MAX_SHADOWS) {
        return fx_defined[idx];
    }
    return fx_defined_elsewhere(cmd->name);
}

const char *fx_shadow_record(cmd_parms *cmd, void *dconf, const char *args)
{
    fx_dir_conf *dc = dconf;
    fx_shadow_rec *rec;
    fx_shadow_list *leaf, **tail;
    const ap_directive_t *d = cmd->directive;
    int real_mask = (int)(apr_uintptr_t)cmd->info;

    if (!fx_shadow_defined(cmd->cmd)) {
        /* No real module behind the name: answer as httpd does for an
         * unknown directive (config.c, ap_walk_config_sub). */
        if (cmd->override & NONFATAL_UNKNOWN) {
            char *dir = apr_pstrdup(cmd->temp_pool, d ? d->directive
                                                      : cmd->cmd->name);
            ap_str_tolower(dir);
            ap_log_perror(APLOG_MARK, APLOG_WARNING, 0, cmd->temp_pool,
                          "AH02296: Unknown directive %s "
                          "perhaps misspelled or defined by a module "
                          "not included in the server configuration", dir);
            return NULL;
        }
        return apr_pstrcat(cmd->pool, "Invalid command '",
                           d ? d->directive : cmd->cmd->name,
                           "', perhaps misspelled or defined by a module not "
                           "included in the server configuration", NULL);
    }
    /* Where the real directive is not allowed (AllowOverride, context) the
     * real module refuses or skips it: it has no effect, record nothing. */
    if (!(cmd->override & real_mask)
        && !(cmd->override_list
             && apr_table_get(cmd->override_list, cmd->cmd->name))) {
        return NULL;
    }
    rec = apr_pcalloc(cmd->pool, sizeof(*rec));
    rec->name = cmd->cmd->name;
    rec->args = apr_pstrdup(cmd->pool, args ? args : "");
    rec->where = d;
    rec->file = d ? d->filename : NULL;
    rec->line = d ? d->line_num : 0;
    rec->limited = cmd->limited;
    rec->dir_path = cmd->path;
    /* .htaccess parsing uses the request pool for both pools; the main
     * configuration never does. */
    rec->in_htaccess = (cmd->pool == cmd->temp_pool);

    leaf = apr_pcalloc(cmd->pool, sizeof(*leaf));
    leaf->rec = rec;
    /* Append, keeping file order within the section (a section's own
     * config only ever holds leaves; merged nodes live in merged configs). */
    tail = &dc->shadows;
    while (*tail) {
        tail = (fx_shadow_list **)&(*tail)->next;
    }
    *tail = leaf;
    return NULL;
}

static void fx_flatten(const fx_shadow_list *l, const char *name,
                       apr_array_header_t *out)
{
    for (; l; l = l->next) {
        if (l->rec) {
            if (!name || strcasecmp(l->rec->name, name) == 0) {
                APR_ARRAY_PUSH(out, const fx_shadow_rec *) = l->rec;
            }
        }
        else {
            fx_flatten(l->base, name, out);
            fx_flatten(l->add, name, out);
        }
    }
}

apr_array_header_t *fx_shadow_find(apr_pool_t *p, const fx_dir_conf *dc,
                                   const char *name)
{
    apr_array_header_t *out = apr_array_make(p, 4,
                                             sizeof(const fx_shadow_rec *));
    if (dc) {
        fx_flatten(dc->shadows, name, out);
    }
    return out;
}

const char *fx_directive_at(apr_pool_t *p, const ap_directive_t *d)
{
    if (!d || !d->filename) {
        return NULL;
    }
    return apr_psprintf(p, "%s:%d", d->filename, d->line_num);
}

const char *fx_section_chain(apr_pool_t *p, const ap_directive_t *d)
{
    const ap_directive_t *stack[16], *s;
    const char *prev_file = NULL;
    struct iovec vec[16 * 8];
    int n = 0, v = 0, i;

    if (!d) {
        return NULL;
    }
    for (s = d->parent; s && n < 16; s = s->parent) {
        stack[n++] = s;
    }
    if (!n) {
        return NULL;
    }
    /* "<Directory /srv> (site.conf:12) > <RequireAll> (:14)": the file is
     * named again only when it changes. */
    for (i = n - 1; i >= 0; i--) {
        const char *args;
        int same_file;
        s = stack[i];
        args = s->args ? s->args : "";
        same_file = prev_file && s->filename && strcmp(prev_file, s->filename) == 0;
#define FX_V(str) (vec[v].iov_base = (void *)(str), vec[v].iov_len = strlen(str), v++)
        if (i != n - 1) {
            FX_V(" > ");
        }
        FX_V(s->directive);
        /* a container without arguments keeps ">" as its args */
        if (*args && strcmp(args, ">") != 0) {
            FX_V(" ");
        }
        FX_V(args);
        FX_V(same_file ? " (:" : " (");
        if (!same_file) {
            FX_V(s->filename ? s->filename : "?");
            FX_V(":");
        }
        FX_V(apr_itoa(p, s->line_num));
        FX_V(")");
#undef FX_V
        prev_file = s->filename;
    }
    return apr_pstrcatv(p, vec, v, NULL);
}
