/* fx_audit.c — the configuration and filesystem audit: the 403s (and .htaccess
 * 500s) the running configuration predicts before any client meets them.
 *
 * For every server (main and virtual hosts), from the configuration httpd
 * built:
 *   - DocumentRoot, Alias / ScriptAlias targets (AliasMatch when the target
 *     is a plain path) and <Directory> paths the server user cannot
 *     traverse (fx_perm_walk: mode, owner, ACL; the fix fx_perm_plan gives);
 *   - directories with Indexes off and no DirectoryIndex file;
 *   - .htaccess files AllowOverride None ignores, and .htaccess directives
 *     AllowOverride forbids (a 500 for every request below them);
 *   - symlinks Options refuses (FollowSymLinks / SymLinksIfOwnerMatch).
 * The options and overrides of a directory are those server/request.c's
 * directory walk computes: the vhost's defaults, then core's sorted
 * <Directory> vectors level by level (the same matching rule), read from
 * core_dir_config; which directive decided is the record fx_conftree.c
 * keeps for that vector.  Below an .htaccess that may itself change Options
 * or DirectoryIndex the audit does not judge (it would be a guess).
 *
 * Used at startup (ForbiddenExplainAudit On: one notice line per finding,
 * never failing the start) and by the `forbidden-explain-audit` handler
 * (trusted clients only), which also lists real files and directories per
 * virtual host so that tools/fx-audit can probe for exposures through the
 * simulator.  Scans are bounded (depth, entries, findings). */
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <grp.h>
#include <sys/stat.h>
#include <dirent.h>
#include "apr_strings.h"
#include "apr_fnmatch.h"
#include "apr_lib.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mpm.h"
#include "http_main.h"
#include "ap_listen.h"
#include "util_cfgtree.h"
#include "unixd.h"
#include "fx_private.h"
#include "fx_perm.h"
#include "fx_json.h"
#include "fx_section.h"
#include "fx_auditrule.h"

#define FX_AUDIT_HANDLER "forbidden-explain-audit"
#define FX_AUDIT_MAX_FINDINGS 200   /* then a summary */
#define FX_AUDIT_MAX_ENTRIES 4000   /* directory entries examined per root */
#define FX_AUDIT_MAX_DEPTH 8        /* levels below a root */
#define FX_AUDIT_MAX_FILES 200      /* real files listed per server */
#define FX_AUDIT_MAX_DIRS 100       /* directory URLs listed per server */
#define FX_AUDIT_HT_LINES 2000      /* lines read from one .htaccess */

/* ForbiddenExplainAudit, main server only; reset in pre_config. */
static int fx_audit_on;

typedef struct {
    apr_pool_t *p;
    server_rec *s;
    const char *vhost;
    fx_perm_cred cred;
    const char *user, *group;
    apr_array_header_t *findings;   /* fx_audit_finding *, every server */
    int dropped;                    /* findings beyond the bound */
    apr_hash_t *seen;               /* one finding per server, kind, path */
    apr_array_header_t *files;      /* this server's URL paths of files */
    apr_array_header_t *dirs;       /* ... and of directories */
    apr_array_header_t *listings;   /* directories autoindex would list */
    int entries;                    /* entries examined under this root */
    int has_mod_dir;
    int has_autoindex;
    apr_port_t asked_on;            /* the handler's local port, or 0 */
} fx_audit;

/* What the directory walk has merged so far for one directory. */
typedef struct {
    unsigned opts, add, remove;
    unsigned override, override_opts;
    apr_table_t *override_list;
    int sec_idx;                    /* next of core's sorted sections */
    const fx_shadow_rec *ao_rec;    /* AllowOverride in effect */
    const fx_shadow_rec *idx_rec;   /* last Options touching Indexes */
    const fx_shadow_rec *sym_rec;   /* last Options touching symlinks */
    const char *dirindex;           /* DirectoryIndex names, NULL: default */
    const fx_shadow_rec *di_rec;
    const char *uncertain;          /* an .htaccess that may change Options */
} fx_dirstate;

/* -------------------------------------------------------------------- */
/* findings                                                              */

static const char *fx_rec_text(apr_pool_t *p, const fx_shadow_rec *rec)
{
    return rec ? apr_pstrcat(p, rec->name, " ", rec->args, NULL) : NULL;
}

static fx_audit_finding *fx_audit_add(fx_audit *a, const char *severity,
                                      const char *kind, const char *path,
                                      const fx_shadow_rec *rec)
{
    fx_audit_finding *f;
    const char *key = apr_pstrcat(a->p, a->vhost, "\n", kind, "\n", path, NULL);

    if (apr_hash_get(a->seen, key, APR_HASH_KEY_STRING)) {
        return NULL;
    }
    apr_hash_set(a->seen, key, APR_HASH_KEY_STRING, "");
    if (a->findings->nelts >= FX_AUDIT_MAX_FINDINGS) {
        a->dropped++;
        return NULL;
    }
    f = apr_pcalloc(a->p, sizeof(*f));
    f->severity = severity;
    f->kind = kind;
    f->vhost = a->vhost;
    f->path = path;
    f->order = a->findings->nelts;
    if (rec) {
        f->directive = fx_rec_text(a->p, rec);
        f->file = rec->file;
        f->line = rec->line;
        f->section = rec->where ? fx_section_chain(a->p, rec->where) : NULL;
    }
    APR_ARRAY_PUSH(a->findings, fx_audit_finding *) = f;
    return f;
}

static fx_audit_step *fx_audit_step_add(fx_audit *a, fx_audit_finding *f,
                                        const char *op)
{
    fx_audit_step *st;
    if (!f->fix) {
        f->fix = apr_array_make(a->p, 2, sizeof(fx_audit_step));
    }
    st = apr_array_push(f->fix);
    memset(st, 0, sizeof(*st));
    st->op = op;
    return st;
}

/* -------------------------------------------------------------------- */
/* the server user                                                       */

static void fx_audit_cred(apr_pool_t *p, fx_audit *a)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    const char *name;
    int n = 64;
    gid_t *groups;

    /* At startup (root) the children will run as User/Group; in a child
     * the process's own ids are the server user's. */
    if (uid == 0 && ap_unixd_config.user_id != 0) {
        uid = ap_unixd_config.user_id;
        gid = ap_unixd_config.group_id;
    }
    name = fx_user_name(p, uid);
    groups = apr_pcalloc(p, sizeof(gid_t) * (apr_size_t)n);
    if (!name || getgrouplist(name, gid, groups, &n) < 0) {
        if (name && n > 64) {
            groups = apr_pcalloc(p, sizeof(gid_t) * (apr_size_t)n);
            if (getgrouplist(name, gid, groups, &n) < 0) {
                n = 0;
            }
        }
        else {
            n = 0;
        }
    }
    a->cred.uid = uid;
    a->cred.gid = gid;
    a->cred.groups = groups;
    a->cred.ngroups = n;
    a->cred.kernel_check = 0;
    a->user = name ? name : apr_psprintf(p, "%lu", (unsigned long)uid);
    a->group = fx_group_name(p, gid);
    if (!a->group) {
        a->group = apr_psprintf(p, "%lu", (unsigned long)gid);
    }
}

/* -------------------------------------------------------------------- */
/* the directory walk's options, as server/request.c merges them        */

static void fx_dirstate_records(apr_pool_t *p, fx_dirstate *st,
                                ap_conf_vector_t *v);

static void fx_dirstate_init(apr_pool_t *p, fx_dirstate *st, server_rec *s)
{
    core_dir_config *c = ap_get_core_module_config(s->lookup_defaults);
    memset(st, 0, sizeof(*st));
    st->opts = c->opts;
    st->add = c->opts_add;
    st->remove = c->opts_remove;
    st->override = c->override;
    st->override_opts = c->override_opts;
    st->override_list = c->override_list;
    /* the server's own level: DirectoryIndex, AllowOverride, Options set
     * outside any section */
    fx_dirstate_records(p, st, s->lookup_defaults);
}

/* The records of one merged section: the ones that decide what we judge. */
static void fx_dirstate_records(apr_pool_t *p, fx_dirstate *st,
                                ap_conf_vector_t *v)
{
    const fx_shadow_list *l = fx_vector_records_conf(v);
    apr_array_header_t *recs;
    const char *names = NULL;
    const fx_shadow_rec *di = NULL;
    int i;

    if (!l) {
        return;
    }
    recs = fx_shadow_find(p, l, NULL);
    for (i = 0; i < recs->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
        if (!strcasecmp(rec->name, "AllowOverride")) {
            st->ao_rec = rec;
        }
        else if (!strcasecmp(rec->name, "Options")) {
            if (fx_options_effect(rec->args, FX_OPT_INDEXES) != -1) {
                st->idx_rec = rec;
            }
            if (fx_options_effect(rec->args, FX_OPT_SYM_LINKS) != -1
                || fx_options_effect(rec->args, FX_OPT_SYM_OWNER) != -1) {
                st->sym_rec = rec;
            }
        }
        else if (!strcasecmp(rec->name, "DirectoryIndex")) {
            /* mod_dir: the lines of one section add up; "disabled" first
             * clears; a section with any replaces the outer list */
            if (!strncasecmp(rec->args, "disabled", 8)) {
                names = "";
            }
            else {
                names = names && *names
                        ? apr_pstrcat(p, names, " ", rec->args, NULL)
                        : rec->args;
            }
            di = rec;
        }
    }
    if (di) {
        st->dirindex = names;
        st->di_rec = di;
    }
}

/* request.c core_opts_merge(): the same rule on core_dir_config. */
static void fx_dirstate_merge(apr_pool_t *p, fx_dirstate *st,
                              ap_conf_vector_t *v)
{
    core_dir_config *c = ap_get_core_module_config(v);
    if (!c) {
        return;
    }
    if (c->opts & OPT_UNSET) {
        st->add = (st->add & ~(unsigned)c->opts_remove) | c->opts_add;
        st->remove = (st->remove & ~(unsigned)c->opts_add) | c->opts_remove;
        st->opts = (st->opts & ~st->remove) | st->add;
    }
    else {
        st->opts = c->opts;
        st->add = c->opts_add;
        st->remove = c->opts_remove;
    }
    if (!(c->override & OR_UNSET)) {
        st->override = c->override;
        st->override_opts = c->override_opts;
    }
    if (c->override_list) {
        st->override_list = c->override_list;
    }
    fx_dirstate_records(p, st, v);
}

static int fx_count_slashes(const char *s)
{
    int n = 0;
    for (; *s; s++) {
        n += *s == '/';
    }
    return n;
}

/* The <Directory> sections (not regex) of level dir (ending in "/"), as
 * ap_directory_walk matches them: core sorted them by depth. */
static void fx_dirstate_level(fx_audit *a, fx_dirstate *st, const char *dir)
{
    core_server_config *sc = ap_get_core_module_config(a->s->module_config);
    ap_conf_vector_t **sec = (ap_conf_vector_t **)sc->sec_dir->elts;
    int seg = fx_count_slashes(dir);

    for (; st->sec_idx < sc->sec_dir->nelts; st->sec_idx++) {
        core_dir_config *c = ap_get_core_module_config(sec[st->sec_idx]);
        if (c->r || (int)c->d_components > seg) {
            break;
        }
        if (c->d_components
            && ((int)c->d_components < seg
                || (c->d_is_fnmatch
                    ? apr_fnmatch(c->d, dir, APR_FNM_PATHNAME) != APR_SUCCESS
                    : strcmp(dir, c->d) != 0))) {
            continue;
        }
        fx_dirstate_merge(a->p, st, sec[st->sec_idx]);
    }
}

/* The regex sections that match dir too (after the walk, as httpd does). */
static void fx_dirstate_regex(fx_audit *a, fx_dirstate *st, const char *dir)
{
    core_server_config *sc = ap_get_core_module_config(a->s->module_config);
    ap_conf_vector_t **sec = (ap_conf_vector_t **)sc->sec_dir->elts;
    const char *bare = apr_pstrmemdup(a->p, dir, strlen(dir) > 1
                                                 ? strlen(dir) - 1 : 1);
    int i;
    for (i = st->sec_idx; i < sc->sec_dir->nelts; i++) {
        core_dir_config *c = ap_get_core_module_config(sec[i]);
        if (c->r && ap_regexec(c->r, bare, 0, NULL, 0) == 0) {
            fx_dirstate_merge(a->p, st, sec[i]);
        }
    }
}

/* -------------------------------------------------------------------- */
/* .htaccess                                                              */

static int fx_ht_conditional(const char *name)
{
    return !strncasecmp(name, "<If", 3) && strcasecmp(name, "<If") != 0
           && strcasecmp(name, "<ElseIf") != 0;
}

static const char *fx_ao_text(fx_audit *a, const fx_dirstate *st)
{
    return st->ao_rec
        ? apr_psprintf(a->p, "AllowOverride %s (%s:%d)", st->ao_rec->args,
                       st->ao_rec->file ? st->ao_rec->file : "?",
                       st->ao_rec->line)
        : "httpd's default AllowOverride None";
}

/* The fix for an AllowOverride that stands in dir's own <Directory>. */
static void fx_ao_fix(fx_audit *a, fx_audit_finding *f, const fx_dirstate *st,
                      const char *dir, int need)
{
    const fx_shadow_rec *rec = st->ao_rec;
    fx_audit_step *step;
    const char *names = fx_audit_override_names(a->p, need);
    const char *now;

    /* not when the line holds Options=... or Nonfatal=...: rebuilt from
     * the bits it would lose what the lists keep out */
    if (!rec || !rec->file || rec->in_htaccess || !rec->dir_path || !names
        || strcmp(rec->dir_path, dir) != 0 || strchr(rec->args, '=')) {
        return;
    }
    now = fx_audit_override_names(a->p, (int)(st->override & OR_ALL));
    step = fx_audit_step_add(a, f, "replace");
    step->file = rec->file;
    step->line = rec->line;
    step->old = apr_pstrcat(a->p, "AllowOverride ", rec->args, NULL);
    step->text = apr_pstrcat(a->p, "AllowOverride ", now ? now : "",
                             now ? " " : "", names, NULL);
}

typedef struct {
    int line;
    const char *name;
    const char *text;
    int conditional;            /* inside <IfModule> & co., or one of them */
} fx_ht_line;

/* The directives of an .htaccess file (continuation lines joined). */
static apr_array_header_t *fx_ht_read(apr_pool_t *p, const char *path)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(fx_ht_line));
    ap_configfile_t *cf;
    char buf[8192];
    int depth = 0, n = 0;

    if (ap_pcfg_openfile(&cf, p, path) != APR_SUCCESS) {
        return NULL;
    }
    while (n++ < FX_AUDIT_HT_LINES
           && ap_cfg_getline(buf, sizeof(buf), cf) == APR_SUCCESS) {
        const char *l = buf;
        char *name;
        fx_ht_line *hl;
        if (!*l || *l == '#') {
            continue;
        }
        name = ap_getword_conf(p, &l);
        if (*name == '<' && name[1] == '/') {
            if (depth > 0) {
                depth--;
            }
            continue;
        }
        if (*name == '<') {
            char *gt = strchr(name, '>');
            if (gt) {
                *gt = '\0';
            }
        }
        hl = apr_array_push(out);
        hl->line = cf->line_number;
        hl->name = name;
        hl->text = apr_pstrdup(p, buf);
        /* inside <IfModule> & co. an unknown name may be a module's that
         * is not loaded: unknown names are judged outside them only */
        hl->conditional = depth > 0;
        if (*name == '<' && fx_ht_conditional(name)) {
            depth++;
            hl->conditional = 1;
        }
    }
    ap_cfg_closefile(cf);
    return out;
}

static void fx_ht_judge(fx_audit *a, fx_dirstate *st, const char *dir,
                        const char *path)
{
    apr_array_header_t *lines = fx_ht_read(a->p, path);
    int i, need = 0;

    if (!lines) {
        return;
    }
    if (!(st->override & OR_ALL) && apr_is_empty_table(st->override_list)) {
        fx_audit_finding *f;
        for (i = 0; i < lines->nelts; i++) {
            fx_ht_line *hl = &APR_ARRAY_IDX(lines, i, fx_ht_line);
            module *mod = ap_top_module;
            const command_rec *cmd = ap_find_command_in_modules(hl->name, &mod);
            if (cmd && *hl->name != '<') {
                need |= cmd->req_override & OR_ALL;
            }
        }
        if (!lines->nelts) {
            return;
        }
        f = fx_audit_add(a, "medium", "htaccess-ignored", path, st->ao_rec);
        if (f) {
            const char *names = fx_audit_override_names(a->p, need);
            f->detail = apr_psprintf(a->p, "%d directive(s) in %s never apply: "
                                     "%s is in effect for %s%s%s", lines->nelts,
                                     path, fx_ao_text(a, st), dir,
                                     names ? "; they need AllowOverride " : "",
                                     names ? names : "");
            fx_ao_fix(a, f, st, dir, need);
        }
        return;
    }
    for (i = 0; i < lines->nelts; i++) {
        fx_ht_line *hl = &APR_ARRAY_IDX(lines, i, fx_ht_line);
        module *mod = ap_top_module;
        const command_rec *cmd;
        int verdict, in_list;
        fx_audit_finding *f;
        const char *kind, *why, *bad = NULL;

        cmd = ap_find_command_in_modules(hl->name, &mod);
        if (!cmd) {
            if (hl->conditional || (st->override & NONFATAL_UNKNOWN)) {
                continue;
            }
            f = fx_audit_add(a, "high", "htaccess-invalid-directive",
                             apr_psprintf(a->p, "%s:%d", path, hl->line), NULL);
            if (f) {
                f->path = path;
                f->path_line = hl->line;
                f->directive = hl->text;
                f->detail = apr_psprintf(a->p, "'%s' is no directive of a "
                                         "loaded module: every request below "
                                         "%s gets a 500", hl->name, dir);
            }
            continue;
        }
        in_list = st->override_list
                  && apr_table_get(st->override_list, cmd->name) != NULL;
        verdict = fx_audit_directive_verdict(cmd->req_override,
                                             (int)st->override, in_list);
        if (verdict == FX_HT_ALLOWED && !strcasecmp(cmd->name, "Options")
            && !in_list) {
            const char *args = hl->text;
            (void)ap_getword_conf(a->p, &args);
            bad = fx_audit_options_refused(a->p, args, st->override_opts);
            if (bad) {
                verdict = FX_HT_500;
            }
        }
        if (verdict == FX_HT_ALLOWED) {
            if (!strcasecmp(cmd->name, "Options")
                || !strcasecmp(cmd->name, "DirectoryIndex")) {
                /* the walk below this directory no longer follows our model */
                st->uncertain = path;
            }
            continue;
        }
        kind = verdict == FX_HT_500 ? "htaccess-forbidden-directive"
                                    : "htaccess-ignored-directive";
        f = fx_audit_add(a, verdict == FX_HT_500 ? "high" : "medium", kind,
                         apr_psprintf(a->p, "%s:%d", path, hl->line),
                         st->ao_rec);
        if (!f) {
            continue;
        }
        f->path = path;
        f->path_line = hl->line;
        why = bad ? apr_psprintf(a->p, "Option %s is not in the "
                                 "AllowOverride Options= list", bad)
                  : apr_psprintf(a->p, "%s needs AllowOverride %s", cmd->name,
                                 fx_audit_override_names(a->p, cmd->req_override
                                                         & OR_ALL)
                                 ? fx_audit_override_names(a->p,
                                       cmd->req_override & OR_ALL)
                                 : "(none: not allowed in .htaccess)");
        f->detail = apr_psprintf(a->p, "%s line %d: %s; %s is in effect for "
                                 "%s: %s", path, hl->line, why,
                                 fx_ao_text(a, st), dir,
                                 verdict == FX_HT_500
                                 ? "every request below it gets a 500"
                                 : "the line is skipped with a warning");
        if (!bad) {
            fx_ao_fix(a, f, st, dir, cmd->req_override & OR_ALL);
        }
    }
}

/* The .htaccess files of dir (AccessFileName may name several). */
static void fx_ht_level(fx_audit *a, fx_dirstate *st, const char *dir)
{
    core_server_config *sc = ap_get_core_module_config(a->s->module_config);
    const char *names = sc->access_name ? sc->access_name : ".htaccess";
    while (*names) {
        const char *name = ap_getword_conf(a->p, &names);
        struct stat sb;
        const char *path;
        if (!*name) {
            break;
        }
        path = apr_pstrcat(a->p, dir, name, NULL);
        if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            fx_ht_judge(a, st, dir, path);
        }
    }
}

/* -------------------------------------------------------------------- */
/* roots                                                                  */

static void fx_perm_finding(fx_audit *a, const char *kind_missing,
                            const char *sev_missing, const char *path,
                            int final_need, const ap_directive_t *where,
                            const char *what)
{
    fx_perm_walk_result w;
    fx_audit_finding *f;
    fx_perm_fix fix;
    fx_shadow_rec *rec = apr_pcalloc(a->p, sizeof(*rec));
    int i;

    rec->name = where ? where->directive : what;
    rec->args = where && where->args ? where->args : "";
    rec->where = where;
    rec->file = where ? where->filename : NULL;
    rec->line = where ? where->line_num : 0;

    memset(&w, 0, sizeof(w));
    fx_perm_walk(a->p, path, final_need, &a->cred, &w);
    if (w.missing) {
        if (!kind_missing) {
            return;
        }
        f = fx_audit_add(a, sev_missing, kind_missing, path, rec);
        if (f) {
            f->detail = apr_psprintf(a->p, "%s %s: %s does not exist", what,
                                     path, w.missing);
        }
        return;
    }
    if (!w.denier) {
        return;
    }
    fx_perm_name_comp(a->p, w.denier);
    f = fx_audit_add(a, "high", final_need & FX_PERM_R ? "unreadable"
                                                       : "untraversable",
                     path, rec);
    if (!f) {
        return;
    }
    f->detail = apr_psprintf(a->p, "%s %s: the server user %s cannot %s %s "
                             "(%s %s, mode %s, owner %s:%s, class %s)", what,
                             path, a->user,
                             w.denier->need & FX_PERM_R ? "read" : "search",
                             w.denier->path, w.denier->type,
                             w.denier->mode_str, w.denier->mode_oct,
                             w.denier->owner ? w.denier->owner : "?",
                             w.denier->group ? w.denier->group : "?",
                             w.denier->perm_class ? w.denier->perm_class : "?");
    if (fx_perm_plan(a->p, w.denier, &a->cred, a->user, a->group, &fix)
        && fix.argv) {
        for (i = 0; i < fix.argv->nelts; i++) {
            fx_audit_step *st = fx_audit_step_add(a, f, "run");
            st->argv = APR_ARRAY_IDX(fix.argv, i, const char *const *);
        }
        if (fix.hint) {
            f->detail = apr_pstrcat(a->p, f->detail, "; ", fix.hint, NULL);
        }
    }
}

static void fx_list_add(apr_array_header_t *list, int max, const char *url)
{
    if (list->nelts < max) {
        APR_ARRAY_PUSH(list, const char *) = url;
    }
}

/* Indexes off and no DirectoryIndex file: the directory URL is a 403. */
static void fx_judge_index(fx_audit *a, const fx_dirstate *st_in,
                           const char *dir, const char *url, int is_root)
{
    fx_dirstate st = *st_in;
    const char *names, *n;
    fx_audit_finding *f;

    fx_dirstate_regex(a, &st, dir);
    if (st.uncertain) {
        return;
    }
    names = !a->has_mod_dir ? "" : st.dirindex ? st.dirindex : "index.html";
    n = names;
    while (*n) {
        const char *w = ap_getword_conf(a->p, &n);
        struct stat sb;
        if (!*w) {
            break;
        }
        if (*w == '/' || strchr(w, '$')) {
            return;             /* a URL: mod_dir's sub-request decides */
        }
        if (stat(apr_pstrcat(a->p, dir, w, NULL), &sb) == 0
            || errno != ENOENT) {
            return;             /* there, or we cannot tell */
        }
    }
    if (st.opts & OPT_INDEXES) {
        /* a listing, when mod_autoindex is there to make it: the client
         * asks the simulator whether strangers get it */
        if (a->has_autoindex) {
            fx_list_add(a->listings, FX_AUDIT_MAX_DIRS, url);
        }
        return;
    }
    f = fx_audit_add(a, is_root ? "medium" : "low", "no-index", dir,
                     st.idx_rec);
    if (f) {
        f->detail = apr_psprintf(a->p, "%s has no index file (%s) and Indexes "
                                 "is off (%s): its URL answers 403", dir,
                                 *names ? names : "DirectoryIndex disabled",
                                 st.idx_rec ? "the Options line named here"
                                 : "httpd's default Options FollowSymLinks");
    }
}

static void fx_judge_symlink(fx_audit *a, const fx_dirstate *st,
                             const char *dir, const char *path,
                             const struct stat *lsb)
{
    struct stat sb;
    int owner_match;
    fx_audit_finding *f;

    if (st->uncertain || stat(path, &sb) != 0) {
        return;                 /* a dangling link answers 403 or 404 anyway */
    }
    owner_match = sb.st_uid == lsb->st_uid;
    if (!fx_audit_symlink_refused(st->opts, owner_match)) {
        return;
    }
    f = fx_audit_add(a, "medium", "symlink-refused", path, st->sym_rec);
    if (!f) {
        return;
    }
    if (st->opts & OPT_SYM_OWNER) {
        const char *lo = fx_user_name(a->p, lsb->st_uid);
        const char *to = fx_user_name(a->p, sb.st_uid);
        fx_audit_step *step;
        f->detail = apr_psprintf(a->p, "SymLinksIfOwnerMatch applies in %s and "
                                 "the link is owned by %s, its target by %s",
                                 dir, lo ? lo : "?", to ? to : "?");
        if (to) {
            static const char *const chown_argv[] = { "chown", "-h", NULL };
            const char **argv = apr_pcalloc(a->p, 5 * sizeof(*argv));
            argv[0] = chown_argv[0];
            argv[1] = chown_argv[1];
            argv[2] = to;
            argv[3] = path;
            step = fx_audit_step_add(a, f, "run");
            step->argv = argv;
        }
    }
    else {
        f->detail = apr_psprintf(a->p, "Options in effect for %s have neither "
                                 "FollowSymLinks nor SymLinksIfOwnerMatch: "
                                 "requests through the link answer 403", dir);
    }
}

/* One directory under a root: its level of sections, .htaccess, index,
 * entries (symlinks, files listed, subdirectories). */
static void fx_scan_dir(fx_audit *a, const fx_dirstate *parent,
                        const char *dir, const char *url, int depth)
{
    fx_dirstate st = *parent;
    DIR *d;
    struct dirent *de;
    apr_array_header_t *subs = apr_array_make(a->p, 4, sizeof(const char *));
    int i;

    fx_dirstate_level(a, &st, dir);
    fx_ht_level(a, &st, dir);
    fx_judge_index(a, &st, dir, url, depth == 0);
    fx_list_add(a->dirs, FX_AUDIT_MAX_DIRS, url);
    d = opendir(dir);
    if (!d) {
        return;
    }
    while ((de = readdir(d)) && a->entries < FX_AUDIT_MAX_ENTRIES) {
        struct stat sb;
        const char *path;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
            continue;
        }
        a->entries++;
        path = apr_pstrcat(a->p, dir, de->d_name, NULL);
        if (lstat(path, &sb) != 0) {
            continue;
        }
        if (S_ISLNK(sb.st_mode)) {
            fx_judge_symlink(a, &st, dir, path, &sb);
        }
        else if (S_ISDIR(sb.st_mode)) {
            APR_ARRAY_PUSH(subs, const char *) = apr_pstrdup(a->p, de->d_name);
        }
        else if (S_ISREG(sb.st_mode)) {
            fx_list_add(a->files, FX_AUDIT_MAX_FILES,
                        apr_pstrcat(a->p, url, de->d_name, NULL));
        }
    }
    closedir(d);
    for (i = 0; depth < FX_AUDIT_MAX_DEPTH && i < subs->nelts; i++) {
        const char *name = APR_ARRAY_IDX(subs, i, const char *);
        fx_scan_dir(a, &st, apr_pstrcat(a->p, dir, name, "/", NULL),
                    apr_pstrcat(a->p, url, name, "/", NULL), depth + 1);
    }
}

/* The walk from "/" down to root's parent, then the scan of root. */
static void fx_scan_root(fx_audit *a, const char *root, const char *url)
{
    fx_dirstate st;
    char *dir = apr_pstrdup(a->p, root);
    const char *c;
    apr_size_t len = strlen(dir);
    struct stat sb;

    fx_perm_walk_result w;

    if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        return;
    }
    /* what the server user cannot reach is reported as such, and not
     * scanned (at startup we could read what it never will) */
    memset(&w, 0, sizeof(w));
    fx_perm_walk(a->p, root, FX_PERM_X, &a->cred, &w);
    if (w.denier || w.missing) {
        return;
    }
    if (len && dir[len - 1] != '/') {
        dir = apr_pstrcat(a->p, dir, "/", NULL);
    }
    a->entries = 0;
    fx_dirstate_init(a->p, &st, a->s);
    /* every level above the root, "/" first: sections and .htaccess as
     * the walk merges them (an .htaccess there that httpd reads can give
     * every request below a 500; one it ignores is no rule for the root) */
    for (c = dir; (c = strchr(c, '/')) && c[1]; c++) {
        char *level = apr_pstrmemdup(a->p, dir, (apr_size_t)(c - dir + 1));
        fx_dirstate_level(a, &st, level);
        if ((st.override & OR_ALL) || !apr_is_empty_table(st.override_list)) {
            fx_ht_level(a, &st, level);
        }
    }
    fx_scan_dir(a, &st, dir, url, 0);
}

/* -------------------------------------------------------------------- */
/* the configuration's roots                                             */

static const ap_directive_t *fx_vhost_node_of(const server_rec *s)
{
    const ap_directive_t *d;
    for (d = ap_conftree; d && s->defn_name; d = d->next) {
        if (d->directive && !strcasecmp(d->directive, "<VirtualHost")
            && d->filename && !strcmp(d->filename, s->defn_name)
            && (unsigned)d->line_num == s->defn_line_number) {
            return d;
        }
    }
    return NULL;
}

static const ap_directive_t *fx_find_directive(const ap_directive_t *first,
                                               const char *name)
{
    const ap_directive_t *d, *found = NULL;
    for (d = first; d; d = d->next) {
        if (d->directive && !strcasecmp(d->directive, name)) {
            found = d;          /* the last one wins */
        }
    }
    return found;
}

/* Alias targets and <Directory> paths of one level of the tree. */
static void fx_audit_level_roots(fx_audit *a, const ap_directive_t *first,
                                 int with_dirs)
{
    const ap_directive_t *d;
    for (d = first; d; d = d->next) {
        const char *n = d->directive, *args = d->args ? d->args : "";
        if (!n) {
            continue;
        }
        if (!strcasecmp(n, "Alias") || !strcasecmp(n, "ScriptAlias")
            || !strcasecmp(n, "AliasMatch") || !strcasecmp(n, "ScriptAliasMatch")) {
            const char *url = ap_getword_conf(a->p, &args);
            const char *target = ap_getword_conf(a->p, &args);
            int match = !strcasecmp(n + strlen(n) - 5, "Match");
            struct stat sb;
            if (!*target || (match && !fx_audit_plain_target(target))
                || *target != '/') {
                continue;
            }
            fx_perm_finding(a, "alias-target-missing", "medium", target,
                            stat(target, &sb) == 0 && S_ISREG(sb.st_mode)
                            ? FX_PERM_R : FX_PERM_X, d, n);
            if (!match) {
                fx_scan_root(a, target, url[strlen(url) - 1] == '/'
                                        ? url : apr_pstrcat(a->p, url, "/", NULL));
            }
        }
        else if (with_dirs && !strcasecmp(n, "<Directory")) {
            const char *w = ap_getword_conf(a->p, &args);
            char *gt = strrchr((char *)w, '>');
            if (gt) {
                *gt = '\0';
            }
            if (*w != '/' || strpbrk(w, "*?[") || !strcmp(w, "~")) {
                continue;
            }
            fx_perm_finding(a, NULL, NULL, w, FX_PERM_X, d, "<Directory>");
        }
    }
}

/* Does a <VirtualHost> claim this port (any of its addresses)? */
static int fx_port_claimed(const server_rec *main_s, apr_port_t port)
{
    const server_rec *s;
    const server_addr_rec *sa;
    for (s = main_s->next; s; s = s->next) {
        for (sa = s->addrs; sa; sa = sa->next) {
            if (sa->host_port == port) {
                return 1;
            }
        }
    }
    return 0;
}

/* The port a server answers on: its ServerName's, its <VirtualHost>
 * address's, or (the main server) a Listen port no <VirtualHost> claims,
 * the one the audit was asked on first. */
static apr_port_t fx_server_port(const server_rec *s, apr_port_t asked_on)
{
    const ap_listen_rec *lr;
    apr_port_t any = 0;
    if (s->port) {
        return s->port;
    }
    if (s->addrs && s->addrs->host_port) {
        return s->addrs->host_port;
    }
    if (asked_on && !fx_port_claimed(s, asked_on)) {
        return asked_on;
    }
    for (lr = ap_listeners; lr; lr = lr->next) {
        if (lr->bind_addr && !fx_port_claimed(s, lr->bind_addr->port)) {
            return lr->bind_addr->port;
        }
        if (lr->bind_addr && !any) {
            any = lr->bind_addr->port;
        }
    }
    return any;
}

static const char *fx_vhost_name(apr_pool_t *p, const server_rec *s,
                                 apr_port_t asked_on)
{
    apr_port_t port = fx_server_port(s, asked_on);
    return apr_psprintf(p, "%s:%u", s->server_hostname ? s->server_hostname
                                                       : "?", (unsigned)port);
}

typedef struct {
    server_rec *s;
    const char *vhost;
    const char *docroot;
    apr_array_header_t *files, *dirs, *listings;
    int first_finding, n_findings;
} fx_audit_server;

/* Every server's findings (sorted per server), and its files. */
static apr_array_header_t *fx_audit_run(apr_pool_t *p, server_rec *main_s,
                                        apr_port_t asked_on, fx_audit *a)
{
    apr_array_header_t *servers = apr_array_make(p, 4, sizeof(fx_audit_server));
    server_rec *s;

    memset(a, 0, sizeof(*a));
    a->asked_on = asked_on;
    a->p = p;
    a->findings = apr_array_make(p, 16, sizeof(fx_audit_finding *));
    a->seen = apr_hash_make(p);
    a->has_mod_dir = ap_find_linked_module("mod_dir.c") != NULL;
    a->has_autoindex = ap_find_linked_module("mod_autoindex.c") != NULL;
    fx_audit_cred(p, a);
    for (s = main_s; s; s = s->next) {
        core_server_config *sc = ap_get_core_module_config(s->module_config);
        const ap_directive_t *vh = s == main_s ? NULL : fx_vhost_node_of(s);
        const ap_directive_t *dr = NULL;
        fx_audit_server *out = apr_array_push(servers);
        apr_array_header_t *mine;
        int i;

        a->s = s;
        a->vhost = fx_vhost_name(p, s, a->asked_on);
        a->files = apr_array_make(p, 16, sizeof(const char *));
        a->dirs = apr_array_make(p, 16, sizeof(const char *));
        a->listings = apr_array_make(p, 4, sizeof(const char *));
        out->s = s;
        out->vhost = a->vhost;
        out->docroot = sc->ap_document_root;
        out->files = a->files;
        out->dirs = a->dirs;
        out->listings = a->listings;
        out->first_finding = a->findings->nelts;
        if (vh) {
            dr = fx_find_directive(vh->first_child, "DocumentRoot");
        }
        if (!dr) {
            dr = fx_find_directive(ap_conftree, "DocumentRoot");
        }
        if (sc->ap_document_root) {
            fx_perm_finding(a, "document-root-missing", "high",
                            sc->ap_document_root, FX_PERM_X, dr,
                            "DocumentRoot");
            fx_scan_root(a, sc->ap_document_root, "/");
        }
        /* the main server's aliases and sections apply in every host;
         * they are reported once, under the main server */
        if (s == main_s) {
            fx_audit_level_roots(a, ap_conftree, 1);
        }
        else if (vh) {
            fx_audit_level_roots(a, vh->first_child, 1);
        }
        out->n_findings = a->findings->nelts - out->first_finding;
        /* sort this server's slice */
        mine = apr_array_make(p, out->n_findings + 1, sizeof(fx_audit_finding *));
        for (i = 0; i < out->n_findings; i++) {
            APR_ARRAY_PUSH(mine, fx_audit_finding *) =
                APR_ARRAY_IDX(a->findings, out->first_finding + i,
                              fx_audit_finding *);
        }
        fx_audit_sort(mine);
        for (i = 0; i < out->n_findings; i++) {
            APR_ARRAY_IDX(a->findings, out->first_finding + i,
                          fx_audit_finding *) =
                APR_ARRAY_IDX(mine, i, fx_audit_finding *);
        }
    }
    return servers;
}

/* -------------------------------------------------------------------- */
/* at startup                                                            */

const char *fx_audit_set(cmd_parms *cmd, void *dconf, int on)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dconf;
    if (err) {
        return err;
    }
    fx_audit_on = on;
    return NULL;
}

static int fx_audit_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    fx_audit_on = 0;
    return OK;
}

/* The running server's start (and each restart), not -t, not the first
 * pass that only checks the configuration before detaching. */
void fx_audit_startup(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *main_s)
{
    fx_audit a;
    apr_array_header_t *servers;
    int i, j, shown = 0;
    (void)pconf;

    if (!fx_audit_on || ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_CONFIG
        || ap_state_query(AP_SQ_RUN_MODE) != AP_SQ_RM_NORMAL) {
        return;
    }
    servers = fx_audit_run(ptemp, main_s, 0, &a);
    for (i = 0; i < servers->nelts; i++) {
        fx_audit_server *sv = &APR_ARRAY_IDX(servers, i, fx_audit_server);
        for (j = 0; j < sv->n_findings; j++) {
            fx_audit_finding *f = APR_ARRAY_IDX(a.findings,
                                                sv->first_finding + j,
                                                fx_audit_finding *);
            const char *json = fx_audit_finding_json(ptemp, f, fx_json_quote);
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, sv->s,
                         "{\"event\":\"audit\",%s", json + 1);
            shown++;
        }
    }
    /* httpd writes a server's notices whatever its LogLevel (log.c), so
     * the lines are there with the stock "LogLevel warn" */
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, main_s,
                 "{\"event\":\"audit-summary\",\"findings\":%d,\"dropped\":%d,"
                 "\"server_user\":%s}", shown, a.dropped,
                 fx_json_quote(ptemp, a.user, 64, NULL));
}

/* -------------------------------------------------------------------- */
/* the handler                                                           */

static const char *fx_str_list(apr_pool_t *p, const apr_array_header_t *a)
{
    const char *j = "[";
    int i;
    for (i = 0; i < a->nelts; i++) {
        j = apr_pstrcat(p, j, i ? "," : "",
                        fx_json_std_quote(p, APR_ARRAY_IDX(a, i, const char *),
                                          1024, NULL), NULL);
    }
    return apr_pstrcat(p, j, "]", NULL);
}

static const char *fx_server_names(apr_pool_t *p, const server_rec *s)
{
    const char *j = "[";
    int i, n = 0;
    if (s->server_hostname) {
        j = apr_pstrcat(p, j, fx_json_std_quote(p, s->server_hostname, 256,
                                                NULL), NULL);
        n++;
    }
    for (i = 0; s->names && i < s->names->nelts; i++) {
        j = apr_pstrcat(p, j, n++ ? "," : "",
                        fx_json_std_quote(p, APR_ARRAY_IDX(s->names, i, char *),
                                          256, NULL), NULL);
    }
    return apr_pstrcat(p, j, "]", NULL);
}

int fx_audit_handler(request_rec *r)
{
    fx_audit a;
    apr_array_header_t *servers, *parts;
    int i, j;
    const char *out;

    if (!r->handler || strcmp(r->handler, FX_AUDIT_HANDLER) != 0) {
        return DECLINED;
    }
    if (!fx_wire_client_trusted(r)) {
        return HTTP_FORBIDDEN;
    }
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    servers = fx_audit_run(r->pool, ap_server_conf ? ap_server_conf
                                                   : r->server,
                           r->connection->local_addr
                           ? r->connection->local_addr->port : 0, &a);
    /* one body with its length (clients need not speak chunked) */
    parts = apr_array_make(r->pool, 16, sizeof(const char *));
    APR_ARRAY_PUSH(parts, const char *) =
        apr_psprintf(r->pool, "{\"audit\":\"forbidden-explain\","
                     "\"server_user\":%s,\"dropped\":%d,\"servers\":[",
                     fx_json_std_quote(r->pool, a.user, 64, NULL), a.dropped);
    for (i = 0; i < servers->nelts; i++) {
        fx_audit_server *sv = &APR_ARRAY_IDX(servers, i, fx_audit_server);
        APR_ARRAY_PUSH(parts, const char *) =
            apr_psprintf(r->pool, "%s{\"vhost\":%s,\"names\":%s,\"port\":%u,"
                         "\"is_main\":%s,\"document_root\":%s,\"files\":%s,"
                         "\"directories\":%s,\"listings\":%s,"
                         "\"findings\":[", i ? "," : "",
                         fx_json_std_quote(r->pool, sv->vhost, 512, NULL),
                         fx_server_names(r->pool, sv->s),
                         (unsigned)fx_server_port(sv->s, a.asked_on),
                         i ? "false" : "true",
                         sv->docroot ? fx_json_std_quote(r->pool, sv->docroot,
                                                         1024, NULL)
                                     : "null",
                         fx_str_list(r->pool, sv->files),
                         fx_str_list(r->pool, sv->dirs),
                         fx_str_list(r->pool, sv->listings));
        for (j = 0; j < sv->n_findings; j++) {
            fx_audit_finding *f = APR_ARRAY_IDX(a.findings,
                                                sv->first_finding + j,
                                                fx_audit_finding *);
            APR_ARRAY_PUSH(parts, const char *) = j ? "," : "";
            APR_ARRAY_PUSH(parts, const char *) =
                fx_audit_finding_json(r->pool, f, fx_json_std_quote);
        }
        APR_ARRAY_PUSH(parts, const char *) = "]}";
    }
    APR_ARRAY_PUSH(parts, const char *) = "]}\n";
    out = apr_array_pstrcat(r->pool, parts, 0);
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, strlen(out));
    if (!r->header_only) {
        ap_rputs(out, r);
    }
    return OK;
}

void fx_audit_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(fx_audit_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
}
