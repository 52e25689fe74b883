/* fx_fs.c — explains filesystem, symlink, Options and index denials: the
 * path component that denies, as the server's user (fx_perm.c does the
 * analysis), the Options line that turned an option off, the handler
 * mapping that made a file a CGI, and .htaccess files AllowOverride kept
 * out.  Also provides the effective per-directory configuration of a path
 * whose directory walk failed (httpd leaves r->per_dir_config at the
 * virtual host's default then), so `ForbiddenExplain Off` applies there.
 *
 * Everything here runs once a 403 is certain (from fx_explain) or, for the
 * ForbiddenExplain check, once the final status is 403.  The explain code
 * runs in the child, so the process credentials are httpd's User/Group. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "apr_strings.h"
#include "apr_fnmatch.h"
#include "http_core.h"
#include "http_request.h"
#include "apr_thread_mutex.h"
#include "apr_hash.h"
#include "fx_private.h"
#include "fx_perm.h"
#include "fx_json.h"
#include "fx_version.h"
#include "fx_protect.h"

#if FX_OPT_INDEXES != OPT_INDEXES || FX_OPT_SYM_LINKS != OPT_SYM_LINKS \
    || FX_OPT_EXECCGI != OPT_EXECCGI || FX_OPT_SYM_OWNER != OPT_SYM_OWNER
#error "fx_perm.h option bits differ from httpd's OPT_*"
#endif

/* What httpd has yet to evaluate after a failed directory walk: a fix for
 * the walk alone is not proof that the request is then allowed. */
#define FX_LATER_WALK "httpd stopped in the directory walk: the sections, " \
    ".htaccess files and authorization rules that apply after it were not " \
    "evaluated"

/* An OS error as text, in the pool: entry values are kept by reference and
 * strerror() is not thread-safe. */
static const char *fx_errtext(apr_pool_t *p, apr_status_t status)
{
    char buf[120];
    return apr_pstrdup(p, apr_strerror(status, buf, sizeof(buf)));
}

/* Per-request cache (FX_SLOT_FS). */
typedef struct {
    int walk_conf_done;
    fx_dir_conf *walk_conf;
} fx_fs_state;

/* ---------------------------------------------------------------------- */
/* replaying the directory walk's section matching                         */

/* One configuration merged by the walk, in walk order. */
typedef struct {
    ap_conf_vector_t *conf;
    const char *htaccess;       /* its file, for .htaccess configs */
} fx_walk_step;

/* A .htaccess file that exists but that AllowOverride None kept out. */
typedef struct {
    const char *path;
    const fx_shadow_rec *allow_override;  /* the line that set None, if any */
} fx_ignored_htaccess;

typedef struct {
    apr_array_header_t *steps;            /* fx_walk_step */
    apr_array_header_t *ignored;          /* fx_ignored_htaccess */
    allow_options_t opts;                 /* options after the last level */
    overrides_t override;                 /* AllowOverride at the last level */
    int htaccess_unknown;                 /* a level's .htaccess not cached */
} fx_walk_replay;

/* The mini-merge ap_directory_walk does for the options it tests itself:
 * an absolute Options replaces, a relative one adds/removes. */
typedef struct {
    allow_options_t opts, add, remove;
    overrides_t override;
    apr_table_t *override_list;
} fx_opts_acc;

static void fx_opts_acc_merge(fx_opts_acc *acc, const ap_conf_vector_t *conf)
{
    core_dir_config *d = ap_get_core_module_config(conf);
    if (!d) {
        return;
    }
    if (d->opts & OPT_UNSET) {
        acc->add = (acc->add & ~d->opts_remove) | d->opts_add;
        acc->remove = (acc->remove & ~d->opts_add) | d->opts_remove;
        acc->opts = (acc->opts & ~acc->remove) | acc->add;
    }
    else {
        acc->opts = d->opts;
        acc->add = d->opts_add;
        acc->remove = d->opts_remove;
    }
    if (!(d->override & OR_UNSET)) {
        acc->override = d->override;
    }
    if (d->override_list) {
        acc->override_list = d->override_list;
    }
}

static const fx_shadow_rec *fx_last_rec(request_rec *r,
                                        ap_conf_vector_t *conf,
                                        const char *name)
{
    apr_array_header_t *a = fx_shadow_find(r->pool,
                                           fx_vector_records(r, conf), name);
    return a->nelts ? APR_ARRAY_IDX(a, a->nelts - 1, const fx_shadow_rec *)
                    : NULL;
}

/* AccessFileName may list several names; the first is the usual one. */
static const char *fx_first_access_name(apr_pool_t *p,
                                        const core_server_config *sconf)
{
    const char *names = sconf->access_name ? sconf->access_name : "";
    return ap_getword_conf(p, &names);
}

static const struct htaccess_result *fx_htaccess_cached(const request_rec *r,
                                                        const char *dir)
{
    const struct htaccess_result *h;
    for (h = r->htaccess; h; h = h->next) {
        if (h->dir && strcmp(h->dir, dir) == 0) {
            return h;
        }
    }
    return NULL;
}

/* Replays, for directory dir (absolute, trailing slash), the <Directory>
 * matching of ap_directory_walk (server/request.c): levels from "/" down,
 * at each level the non-regex sections in their sorted order, then the
 * level's .htaccess as the request cached it.  with_regex adds the
 * <DirectoryMatch> sections matching match_path, as the walk does after
 * the last level (they play no part in its symlink test). */
static fx_walk_replay *fx_replay_walk(request_rec *r, const char *dir,
                                      int with_regex, const char *match_path)
{
    apr_pool_t *p = r->pool;
    core_server_config *sconf = ap_get_core_module_config(
                                    r->server->module_config);
    ap_conf_vector_t **sec = (ap_conf_vector_t **)sconf->sec_dir->elts;
    int nsec = sconf->sec_dir->nelts, idx = 0;
    core_dir_config *base = ap_get_core_module_config(
                                r->server->lookup_defaults);
    fx_walk_replay *w = apr_pcalloc(p, sizeof(*w));
    fx_opts_acc acc;
    const fx_shadow_rec *allow_override;
    char *level = apr_palloc(p, strlen(dir) + 2);
    const char *s = dir;
    unsigned seg;
    apr_size_t len = 0;

    /* the .htaccess vectors it merges carry records only once read again */
    fx_conftree_htaccess(r);
    w->steps = apr_array_make(p, 8, sizeof(fx_walk_step));
    w->ignored = apr_array_make(p, 1, sizeof(fx_ignored_htaccess));
    acc.opts = base->opts;
    acc.add = base->opts_add;
    acc.remove = base->opts_remove;
    acc.override = base->override;
    acc.override_list = base->override_list;
    allow_override = fx_last_rec(r, r->server->lookup_defaults,
                                 "AllowOverride");

    if (dir[0] != '/') {
        return w;
    }
    level[len++] = '/';
    level[len] = '\0';
    s++;
    seg = (unsigned)ap_count_dirs(level);
    for (;;) {
        for (; idx < nsec; idx++) {
            core_dir_config *ec = ap_get_core_module_config(sec[idx]);
            const fx_shadow_rec *ao;
            if (ec->r || ec->d_components > seg) {
                break;
            }
            if (ec->d_components
                && (ec->d_components < seg
                    || (ec->d_is_fnmatch
                        ? apr_fnmatch(ec->d, level, APR_FNM_PATHNAME)
                          != APR_SUCCESS
                        : strcmp(level, ec->d) != 0))) {
                continue;
            }
            fx_opts_acc_merge(&acc, sec[idx]);
            ((fx_walk_step *)apr_array_push(w->steps))->conf = sec[idx];
            APR_ARRAY_IDX(w->steps, w->steps->nelts - 1, fx_walk_step).htaccess
                = NULL;
            if ((ao = fx_last_rec(r, sec[idx], "AllowOverride"))) {
                allow_override = ao;
            }
        }
        if (!acc.override && apr_is_empty_table(acc.override_list)) {
            /* httpd does not even look: say so when a file is there. */
            const char *names = sconf->access_name;
            while (names && *names) {
                const char *name = ap_getword_conf(p, &names);
                /* a candidate: fx_note_ignored looks whether it exists, so
                 * replays that never report it cost no stat per level */
                if (*name) {
                    fx_ignored_htaccess *ig = apr_array_push(w->ignored);
                    ig->path = apr_pstrcat(p, level, name, NULL);
                    ig->allow_override = allow_override;
                }
            }
        }
        else {
            const struct htaccess_result *h = fx_htaccess_cached(r, level);
            if (!h) {
                w->htaccess_unknown = 1;
            }
            else if (h->htaccess) {
                fx_walk_step *step = apr_array_push(w->steps);
                step->conf = h->htaccess;
                step->htaccess = apr_pstrcat(p, level,
                                             fx_first_access_name(p, sconf),
                                             NULL);
                fx_opts_acc_merge(&acc, h->htaccess);
            }
        }
        /* next level */
        {
            const char *e = s;
            while (*e && *e != '/') {
                e++;
            }
            if (e == s) {
                break;
            }
            memcpy(level + len, s, (apr_size_t)(e - s));
            len += (apr_size_t)(e - s);
            level[len++] = '/';
            level[len] = '\0';
            s = *e ? e + 1 : e;
            seg++;
        }
    }
    w->opts = acc.opts;
    w->override = acc.override;
    if (with_regex && match_path) {
        for (; idx < nsec; idx++) {
            core_dir_config *ec = ap_get_core_module_config(sec[idx]);
            if (ec->r && ap_regexec(ec->r, match_path, 0, NULL, 0) == 0) {
                fx_walk_step *step = apr_array_push(w->steps);
                step->conf = sec[idx];
                step->htaccess = NULL;
            }
        }
    }
    return w;
}

/* ---------------------------------------------------------------------- */
/* ForbiddenExplain for a failed directory walk                            */

static int fx_walk_failed(const request_rec *r, const fx_req_state *st)
{
    return st && st->has_origin && st->origin.phase && st->origin.module
           && strcmp(st->origin.phase, "map_to_storage") == 0
           && strcmp(st->origin.module, "core.c") == 0
           && r->per_dir_config == r->server->lookup_defaults
           && st->origin.filename && st->origin.filename[0] == '/';
}

fx_dir_conf *fx_fs_walk_dir_conf(request_rec *r)
{
    fx_req_state *st = fx_state_get(r);
    fx_fs_state *fs;
    const char *path, *dir;
    fx_walk_replay *w;
    ap_conf_vector_t *merged;
    int i;

    if (!st || !st->has_origin) {
        return NULL;            /* the allowed path ends here */
    }
    fs = st->subsys[FX_SLOT_FS];
    if (fs && fs->walk_conf_done) {
        return fs->walk_conf;
    }
    if (!fs) {
        fs = st->subsys[FX_SLOT_FS] = apr_pcalloc(r->pool, sizeof(*fs));
    }
    fs->walk_conf_done = 1;
    if (!fx_walk_failed(r, st)) {
        return NULL;
    }
    /* The request targets the component where the walk stopped or
     * something below it: the sections for that path apply. */
    path = st->origin.filename;
    dir = path[strlen(path) - 1] == '/' ? path
                                        : apr_pstrcat(r->pool, path, "/", NULL);
    w = fx_replay_walk(r, dir, 1, path);
    merged = r->server->lookup_defaults;
    for (i = 0; i < w->steps->nelts; i++) {
        merged = ap_merge_per_dir_configs(r->pool, merged,
                        APR_ARRAY_IDX(w->steps, i, fx_walk_step).conf);
    }
    fs->walk_conf = ap_get_module_config(merged, &forbidden_explain_module);
    return fs->walk_conf;
}

/* ---------------------------------------------------------------------- */
/* entry helpers                                                           */

static void fx_set_rec(request_rec *r, fx_entry *e, const fx_shadow_rec *rec)
{
    fx_entry_set(e, "directive", apr_pstrcat(r->pool, rec->name, " ",
                                             rec->args, NULL));
    if (rec->file) {
        fx_entry_set(e, "file", rec->file);
        fx_entry_set_int(e, "line", rec->line);
    }
    if (!rec->in_htaccess) {
        const char *chain = fx_section_chain(r->pool, rec->where);
        fx_entry_set(e, "section", chain ? chain : "server config");
    }
    else {
        fx_entry_set(e, "section", apr_pstrcat(r->pool, ".htaccess of ",
                                               rec->dir_path, NULL));
    }
}

static const char *fx_rec_at(request_rec *r, const fx_shadow_rec *rec)
{
    return apr_psprintf(r->pool, "%s %s (%s:%d)", rec->name, rec->args,
                        rec->file ? rec->file : "?", rec->line);
}

static void fx_set_json_list(request_rec *r, fx_entry *e, const char *key,
                             const apr_array_header_t *a)
{
    const char *json = "[";
    int i;
    for (i = 0; i < a->nelts && i < 8; i++) {
        json = apr_pstrcat(r->pool, json, i ? "," : "",
                           fx_json_quote(r->pool,
                                         APR_ARRAY_IDX(a, i, const char *),
                                         512, NULL), NULL);
    }
    fx_entry_set_raw(e, key, apr_pstrcat(r->pool, json, "]", NULL));
}

typedef struct {
    fx_perm_cred cred;
    const char *user;           /* name of the effective uid */
    const char *group;          /* name of the effective gid */
    const char *ids;            /* "uid=33(www-data) gid=33(www-data) ..." */
} fx_server_ids;

static void fx_server_ids_read(apr_pool_t *p, fx_server_ids *ids);

/* The child's credentials are final when child_init runs (every MPM but
 * mpm-itk drops privileges before it) and never change afterwards: read
 * them, with their names, once per child instead of once per 403.  Written
 * only there, before any request thread exists.  Under mpm-itk and
 * mod_ruid2 they are never cached (fx_creds_refused). */
static fx_server_ids fx_child_ids;
static int fx_child_ids_ready;

/* Owner and group names of reported components, per child: an NSS
 * lookup reads and parses /etc/passwd or /etc/group each time, which a
 * flood of identical 403s would repeat thousands of times a second.  The
 * pool and hash are touched only under the lock; names stay valid for the
 * child's life (a renamed user shows its new name in new children). */
#define FX_NAME_CACHE_MAX 512
static apr_thread_mutex_t *fx_name_lock;
static apr_pool_t *fx_name_pool;
static apr_hash_t *fx_name_cache;

static const char *fx_cached_name(apr_pool_t *p, unsigned long id, int group)
{
    apr_uint64_t key = ((apr_uint64_t)id << 1) | (group ? 1 : 0);
    const char *name;

    apr_thread_mutex_lock(fx_name_lock);
    name = apr_hash_get(fx_name_cache, &key, sizeof(key));
    apr_thread_mutex_unlock(fx_name_lock);
    if (name) {
        return *name ? name : NULL;         /* "" = no such id */
    }
    name = fx_perm_nss_name(p, id, group);
    apr_thread_mutex_lock(fx_name_lock);
    if (apr_hash_count(fx_name_cache) < FX_NAME_CACHE_MAX
        && !apr_hash_get(fx_name_cache, &key, sizeof(key))) {
        apr_uint64_t *k = apr_pmemdup(fx_name_pool, &key, sizeof(key));
        apr_hash_set(fx_name_cache, k, sizeof(*k),
                     apr_pstrdup(fx_name_pool, name ? name : ""));
    }
    apr_thread_mutex_unlock(fx_name_lock);
    return name;
}

static void fx_fs_child_init(apr_pool_t *pchild, server_rec *s)
{
    (void)s;
    /* not under mpm-itk / mod_ruid2: see fx_server_creds_mode() */
    if (fx_server_creds_mode() == FX_CREDS_PER_CHILD) {
        fx_server_ids_read(pchild, &fx_child_ids);
        fx_child_ids_ready = 1;
    }
    if (apr_pool_create(&fx_name_pool, pchild) == APR_SUCCESS
        && apr_thread_mutex_create(&fx_name_lock, APR_THREAD_MUTEX_DEFAULT,
                                   pchild) == APR_SUCCESS) {
        fx_name_cache = apr_hash_make(fx_name_pool);
        fx_perm_set_namer(fx_cached_name);
    }
}

static void fx_server_ids_get(apr_pool_t *p, fx_server_ids *ids)
{
    if (fx_child_ids_ready) {
        *ids = fx_child_ids;
        return;
    }
    fx_server_ids_read(p, ids);
}

static void fx_server_ids_read(apr_pool_t *p, fx_server_ids *ids)
{
    /* as many supplementary groups as the process has (NGROUPS_MAX can be
     * 65536): a fixed array made getgroups fail and drop them all */
    int n = getgroups(0, NULL), i;
    gid_t *groups = apr_pcalloc(p, sizeof(gid_t) * (apr_size_t)(n > 0 ? n : 1));
    const char *list = "";

    n = n > 0 ? getgroups(n, groups) : 0;
    ids->cred.uid = geteuid();
    ids->cred.gid = getegid();
    if (n < 0) {
        n = 0;
    }
    ids->cred.groups = groups;
    ids->cred.ngroups = n;
    ids->cred.kernel_check = 1;
    ids->user = fx_user_name(p, ids->cred.uid);
    ids->group = fx_group_name(p, ids->cred.gid);
    if (!ids->user) {
        ids->user = apr_psprintf(p, "%ld", (long)ids->cred.uid);
    }
    if (!ids->group) {
        ids->group = apr_psprintf(p, "%ld", (long)ids->cred.gid);
    }
    for (i = 0; i < n; i++) {
        const char *g = fx_group_name(p, groups[i]);
        list = apr_psprintf(p, "%s%s%ld(%s)", list, i ? "," : "",
                            (long)groups[i], g ? g : "?");
    }
    ids->ids = apr_psprintf(p, "uid=%ld(%s) gid=%ld(%s)%s%s",
                            (long)ids->cred.uid, ids->user,
                            (long)ids->cred.gid, ids->group,
                            n ? " groups=" : "", list);
}

static const char *fx_need_word(int need, const char *type)
{
    if (need == FX_PERM_X) {
        return "search (x)";
    }
    if (need == FX_PERM_R) {
        return "read (r)";
    }
    if (need == (FX_PERM_R | FX_PERM_X)) {
        return strcmp(type, "directory") == 0 ? "read and search (rx)"
                                               : "read and execute (rx)";
    }
    return "access";
}

/* Facts about component c on the entry; returns the sentence. */
static const char *fx_set_component(request_rec *r, fx_entry *e,
                                    const fx_perm_comp *c,
                                    const fx_server_ids *ids)
{
    apr_pool_t *p = r->pool;
    const char *sentence;

    fx_entry_set(e, "path", c->path);
    fx_entry_set(e, "path_type", c->type);
    fx_entry_set(e, "mode", c->mode_str);
    fx_entry_set(e, "mode_octal", c->mode_oct);
    fx_entry_set(e, "owner", c->owner ? c->owner
                                      : apr_psprintf(p, "%ld", (long)c->uid));
    fx_entry_set_int(e, "owner_uid", (apr_int64_t)c->uid);
    fx_entry_set(e, "group", c->group ? c->group
                                      : apr_psprintf(p, "%ld", (long)c->gid));
    fx_entry_set_int(e, "group_gid", (apr_int64_t)c->gid);
    fx_entry_set(e, "perm_class", c->perm_class);
    fx_entry_set(e, "server_user", ids->ids);
    if (c->link_target) {
        fx_entry_set(e, "symlink_target", c->link_target);
    }
    if (c->has_acl) {
        fx_entry_set(e, "acl", fx_acl_text(p, &c->acl));
    }
    if (c->mount_rdonly || c->mount_noexec) {
        fx_entry_set(e, "mount", apr_pstrcat(p, c->mount_rdonly ? "ro" : "",
                                             c->mount_rdonly && c->mount_noexec
                                             ? "," : "",
                                             c->mount_noexec ? "noexec" : "",
                                             NULL));
    }
    if (!c->mode_allows) {
        const char *granted = fx_perm_bits(p, c->granted);
        fx_entry_set(e, "missing", fx_perm_bits(p, c->need & ~c->granted));
        /* apr_pstrcat: the formatter would walk this format for every
         * filesystem 403 (3k instructions). */
        sentence = apr_pstrcat(p, "The server user ", ids->user, " lacks ",
                               fx_need_word(c->need, c->type),
                               " permission on ", c->type, " ", c->path,
                               " (", c->mode_str, " ", c->mode_oct,
                               ", owner ", c->owner ? c->owner : "?",
                               ", group ", c->group ? c->group : "?",
                               "): the '", c->perm_class, "' class grants '",
                               *granted ? granted : "nothing", "'.", NULL);
        if (c->has_acl) {
            sentence = apr_pstrcat(p, sentence, " A POSIX ACL decides: ",
                                   fx_acl_text(p, &c->acl), ".", NULL);
        }
        else if (c->acl_unreadable) {
            sentence = apr_pstrcat(p, sentence, " It also has a POSIX ACL "
                                   "too large for this module to evaluate, "
                                   "which may be what decides (getfacl ",
                                   c->path, ").", NULL);
        }
        return sentence;
    }
    /* The bits allow it but the kernel said no: name what is observable,
     * claim nothing. */
    {
        const char *label = fx_perm_process_label(p);
        const char *seen = "";
        fx_entry_set(e, "missing", fx_perm_bits(p, c->need));
        if (label) {
            fx_entry_set(e, "lsm", label);
            seen = apr_pstrcat(p, seen, " The server process runs confined "
                               "by a security module (label ", label, ").",
                               NULL);
        }
        if (c->mount_rdonly || c->mount_noexec) {
            seen = apr_pstrcat(p, seen, " Its filesystem is mounted ",
                               c->mount_rdonly ? "read-only " : "",
                               c->mount_noexec ? "noexec" : "", ".", NULL);
        }
        sentence = apr_psprintf(p, "The mode bits%s of %s %s (%s %s) allow "
                                "%s for %s, yet the kernel denies it.%s",
                                c->has_acl ? " and ACL" : "", c->type,
                                c->path, c->mode_str, c->mode_oct,
                                fx_need_word(c->need, c->type), ids->user,
                                *seen ? seen : " Nothing this module can "
                                "observe (ACL, security module label, "
                                "mount flags) explains it.");
        fx_entry_set(e, "hint", label
                     ? apr_psprintf(p, "Check the security policy for %s "
                                    "(SELinux: ausearch -m avc; AppArmor: "
                                    "journalctl -k | grep apparmor)", label)
                     : "Find what else restricts the server process here "
                       "(a security module, a FUSE or network filesystem)");
        return sentence;
    }
}

/* Credentials that switch per request (fx_server_creds_mode): under
 * mpm-itk they are read again now and the entry says so; under mod_ruid2
 * the walk is refused, with the reason, because the process's credentials
 * now need not be those the failed system call ran with.  Returns 1 when
 * refused. */
static int fx_creds_refused(request_rec *r, fx_entry *e, const char *path,
                            const char *lead)
{
    int mode = fx_server_creds_mode();
    const char *who = fx_server_creds_switcher();
    const char *why;

    if (mode == FX_CREDS_PER_REQUEST) {
        fx_entry_set(e, "credentials", apr_pstrcat(r->pool, "per request (",
                     who, " switches the user per request; read when the "
                     "403 was explained)", NULL));
        return 0;
    }
    if (mode != FX_CREDS_REFUSED) {
        return 0;
    }
    why = apr_pstrcat(r->pool, "cannot tell: ", who, " switches the server's "
                      "user and group per request and back, so the "
                      "credentials the failed access used are not known "
                      "here", NULL);
    fx_entry_set(e, "credentials", why);
    fx_entry_set(e, "path", path);
    fx_entry_set(e, "detail", apr_pstrcat(r->pool, lead ? lead : "",
                 lead ? " " : "", "Which path component denies access "
                 "cannot be told: ", who, " switches the user per request.",
                 NULL));
    fx_entry_set(e, "hint", apr_pstrcat(r->pool, "Check the permissions of ",
                 path, " and its parent directories for the user this "
                 "virtual host runs as (", who, " configuration)", NULL));
    return 1;
}

/* A fix is written whole or not at all: a path cut to fit the log line
 * would name another file.  Fix values are quoted without a limit and the
 * whole is held to this size, well inside the line budget. */
#define FX_FIX_MAX 3072
#define FX_FIX_TOO_LONG "the fix is too long to write into the entry"

static int fx_fix_too_long(const char *steps, const char *blockers)
{
    return (steps ? strlen(steps) : 0) + (blockers ? strlen(blockers) : 0)
           > FX_FIX_MAX;
}

/* {"op":"run","argv":[...]} for each step of fix, appended to json
 * (which holds earlier steps, or is ""). */
static const char *fx_fix_json_steps(apr_pool_t *p, const char *json,
                                     const fx_perm_fix *fix)
{
    int i, j;
    for (i = 0; i < fix->argv->nelts; i++) {
        const char **argv = APR_ARRAY_IDX(fix->argv, i, const char **);
        const char *a = "";
        for (j = 0; argv[j]; j++) {
            a = apr_pstrcat(p, a, j ? "," : "",
                            fx_json_quote(p, argv[j], 0, NULL), NULL);
        }
        json = apr_pstrcat(p, json, *json ? "," : "",
                           "{\"op\":\"run\",\"argv\":[", a, "]}", NULL);
    }
    return json;
}

/* One permission blocker as an object of the "blockers" array. */
static const char *fx_perm_blocker_json(apr_pool_t *p, const fx_perm_comp *c)
{
    return apr_pstrcat(p, "{\"mechanism\":\"permission\",\"path\":",
                       fx_json_quote(p, c->path, 0, NULL),
                       ",\"missing\":",
                       fx_json_quote(p, fx_perm_bits(p, c->need & ~c->granted
                                                     ? c->need & ~c->granted
                                                     : c->need), 0, NULL),
                       ",\"mode\":", fx_json_quote(p, c->mode_oct, 0, NULL),
                       ",\"perm_class\":",
                       fx_json_quote(p, c->perm_class, 0, NULL), "}", NULL);
}

/* The hint, "fix", "blockers" and "hint_verified" for the denying
 * component c of path.  The fix is verified by evaluating c with the
 * change applied (fx_perm_verify, the walk's own model); the request as a
 * whole only when c is the last component (nothing below it is hidden from
 * the server user) and nothing but the file's reading is left to httpd
 * (later == NULL: the 403 came from the handler).  later otherwise says
 * what httpd still evaluates after this point. */
static void fx_perm_fix_entry(request_rec *r, fx_entry *e,
                              const fx_perm_comp *c, const fx_server_ids *ids,
                              const char *path, const char *later)
{
    apr_pool_t *p = r->pool;
    fx_perm_fix fix;
    const char *label, *why = NULL, *steps, *blocker;
    int model_ok;
    apr_size_t plen = strlen(path);

    if (fx_cheap(r)) {
        return;                     /* fx_repeat.c: only the cause needed */
    }
    while (plen > 1 && path[plen - 1] == '/') {
        plen--;
    }
    if (!fx_perm_plan(p, c, &ids->cred, ids->user, ids->group, &fix)) {
        return;
    }
    fx_entry_set(e, "hint", fix.hint);
    steps = fx_fix_json_steps(p, "", &fix);
    blocker = fx_perm_blocker_json(p, c);
    if (fx_fix_too_long(steps, blocker)) {
        fx_entry_set_raw(e, "hint_verified", "false");
        fx_entry_set(e, "hint_unverified", FX_FIX_TOO_LONG);
        return;
    }
    if (fix.warning) {
        fx_entry_set(e, "warning", fix.warning);
    }
    else {
        /* The requested name says sites keep it from clients: the
         * permission may be the protection. */
        const char *kind = fx_protect_classify_path(path);
        const char *what = !kind ? NULL
            : strcmp(kind, FX_PROT_VCS) == 0 ? "version-control metadata"
            : strcmp(kind, FX_PROT_SECRET) == 0 ? "a file of secrets"
            : strcmp(kind, FX_PROT_BACKUP) == 0 ? "a backup or dump"
            : strcmp(kind, FX_PROT_DOTFILES) == 0 ? "a dotfile" : NULL;
        if (what) {
            fx_entry_set(e, "warning", apr_pstrcat(p, path, " looks like ",
                         what, ", which sites keep from clients: change the "
                         "permission only if it is meant to be served.",
                         NULL));
        }
    }
    fx_entry_set_raw(e, "fix", apr_pstrcat(p, "[", steps, "]", NULL));
    fx_entry_set_raw(e, "blockers", apr_pstrcat(p, "[", blocker, "]", NULL));
    model_ok = fx_perm_verify(p, c, &fix, &ids->cred);
    label = fx_perm_process_label(p);
    if (!model_ok) {
        why = "the permission model still denies with the change applied";
    }
    else if (strlen(c->path) != plen || strncmp(c->path, path, plen) != 0) {
        why = apr_pstrcat(p, "the components below ", c->path, " were not "
                          "examined: the server user cannot search it until "
                          "the change is made", NULL);
    }
    else if (later) {
        why = later;
    }
    else if (c->acl_unreadable) {
        why = apr_pstrcat(p, "the POSIX ACL of ", c->path, " is too large "
                          "for this module to evaluate", NULL);
    }
    else if (fix.needs_acl_support && c->acl_unsupported) {
        why = apr_pstrcat(p, "the filesystem of ", c->path, " does not "
                          "support POSIX ACLs", NULL);
    }
    else if (label) {
        why = apr_pstrcat(p, "the server runs confined by a security module "
                          "(", label, "); its policy was not evaluated", NULL);
    }
    fx_entry_set_raw(e, "hint_verified", why ? "false" : "true");
    if (why) {
        fx_entry_set(e, "hint_unverified", why);
    }
    else {
        fx_entry_set(e, "hint_checked", apr_pstrcat(p, "mode bits, owner, "
                     "group and POSIX ACL of ", c->path, " evaluated for ",
                     ids->ids, " with the change applied",
                     fix.needs_acl_support ? " (setfacl needs ACL support: "
                     "the filesystem has it)" : "", "; no security module "
                     "confines the server", NULL));
    }
}

/* Walks path as the server user and puts the first denying component on
 * the entry, with its fix (later: see fx_perm_fix_entry).  Returns 1 when
 * one was found. */
static int fx_explain_walk(request_rec *r, fx_entry *e, const char *path,
                           int final_need, const char *lead,
                           const char *errtext, const char *later)
{
    fx_server_ids ids;
    fx_perm_walk_result w;
    const char *sentence;

    if (fx_creds_refused(r, e, path, lead)) {
        return 0;
    }
    fx_server_ids_get(r->pool, &ids);
    fx_perm_walk(r->pool, path, final_need, &ids.cred, &w);
    if (w.world_writable->nelts) {
        fx_set_json_list(r, e, "world_writable", w.world_writable);
    }
    if (w.denier) {
        sentence = fx_set_component(r, e, w.denier, &ids);
        if (!w.denier->mode_allows) {
            fx_perm_fix_entry(r, e, w.denier, &ids, path, later);
        }
    }
    else {
        fx_entry_set(e, "path", path);
        fx_entry_set(e, "server_user", ids.ids);
        if (w.missing && w.missing_errno == ENOENT) {
            sentence = apr_psprintf(r->pool, "%s does not exist now.",
                                    w.missing);
        }
        else if (w.missing) {
            sentence = apr_psprintf(r->pool, "%s cannot be examined: %s.",
                                    w.missing,
                                    fx_errtext(r->pool, w.missing_errno));
        }
        else {
            sentence = apr_psprintf(r->pool, "Every component of %s is "
                                    "accessible to %s now; the denial%s "
                                    "came from a condition that no longer "
                                    "holds.", path, ids.user,
                                    errtext ? apr_pstrcat(r->pool, " (",
                                                          errtext, ")", NULL)
                                            : "");
        }
    }
    if (w.world_writable->nelts) {
        int i;
        const char *list = "";
        for (i = 0; i < w.world_writable->nelts; i++) {
            list = apr_pstrcat(r->pool, list, i ? ", " : "",
                               APR_ARRAY_IDX(w.world_writable, i,
                                             const char *), NULL);
        }
        sentence = apr_pstrcat(r->pool, sentence, " World-writable on the "
                               "path (anyone can change what is served): ",
                               list, ".", NULL);
    }
    fx_entry_set(e, "detail", lead ? apr_pstrcat(r->pool, lead, " ",
                                                 sentence, NULL) : sentence);
    return w.denier != NULL;
}

/* ---------------------------------------------------------------------- */
/* Options                                                                  */

/* The last Options record in recs that touched bit, or NULL. */
static const fx_shadow_rec *fx_options_toucher(const apr_array_header_t *recs,
                                               unsigned bit, int *effect)
{
    int i;
    for (i = recs->nelts - 1; i >= 0; i--) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
        int eff = fx_options_effect(rec->args, bit);
        if (eff >= 0) {
            *effect = eff;
            return rec;
        }
    }
    *effect = -1;
    return NULL;
}

static void fx_note_ignored(request_rec *r, fx_entry *e, fx_walk_replay *w,
                            const char **sentence)
{
    const char *list = "";
    int i, shown = 0;
    for (i = 0; i < w->ignored->nelts; i++) {
        fx_ignored_htaccess *ig = &APR_ARRAY_IDX(w->ignored, i,
                                                 fx_ignored_htaccess);
        struct stat sb;
        if (stat(ig->path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            continue;
        }
        list = apr_pstrcat(r->pool, list, shown++ ? "; " : "", ig->path,
                           ig->allow_override ? " (not read: "
                           : " (not read: AllowOverride None by default",
                           ig->allow_override ? fx_rec_at(r, ig->allow_override)
                                              : "", ")", NULL);
    }
    if (*list) {
        fx_entry_set(e, "htaccess_ignored", list);
        *sentence = apr_pstrcat(r->pool, *sentence, " AllowOverride kept "
                                "these .htaccess files from applying: ", list,
                                ".", NULL);
    }
}

/* Directory of a path, with trailing slash. */
static const char *fx_dir_of(apr_pool_t *p, const char *path)
{
    return ap_make_dirstr_parent(p, path);
}

/* ---------------------------------------------------------------------- */
/* the cases                                                                */

static const char *fx_htaccess_from_message(request_rec *r, const char *msg)
{
    const char *s, *end;
    if (!msg || strncmp(msg, "AH00529: ", 9) != 0) {
        return NULL;
    }
    s = msg + 9;
    end = strstr(s, " pcfg_openfile:");
    return end && *s == '/' ? apr_pstrmemdup(r->pool, s, (apr_size_t)(end - s))
                            : NULL;
}

static void fx_symlink_fix(request_rec *r, fx_entry *e,
                           const fx_shadow_rec *rec, const char *link,
                           const char *dir, const char **sentence);
static void fx_symlink_owner_fix(request_rec *r, fx_entry *e,
                                 const fx_shadow_rec *rec, const char *link,
                                 const char *to, const char *target);

static void fx_explain_symlink(request_rec *r, request_rec *failed,
                               fx_entry *e, const char *link)
{
    apr_pool_t *p = r->pool;
    const char *dir = fx_dir_of(p, link);
    fx_walk_replay *w = fx_replay_walk(failed, dir, 0, NULL);
    /* The walk starts from the virtual host's defaults. */
    apr_array_header_t *recs = fx_shadow_find(p, fx_vector_records(
                                   failed, failed->server->lookup_defaults),
                                   "Options");
    struct stat lst, tst;
    const char *sentence, *target = NULL;
    int i;

    for (i = 0; i < w->steps->nelts; i++) {
        fx_walk_step *s = &APR_ARRAY_IDX(w->steps, i, fx_walk_step);
        apr_array_cat(recs, fx_shadow_find(p, fx_vector_records(failed, s->conf),
                                           "Options"));
    }
    fx_entry_set(e, "path", link);
    if (lstat(link, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        char buf[4096];
        ssize_t n = readlink(link, buf, sizeof(buf) - 1);
        if (n >= 0) {
            target = apr_pstrmemdup(p, buf, (apr_size_t)n);
            fx_entry_set(e, "symlink_target", target);
        }
    }
    else {
        fx_entry_set(e, "detail", apr_psprintf(p, "httpd refused the symbolic "
                     "link %s, which is no longer a link.", link));
        return;
    }

    if (!(w->opts & (OPT_SYM_LINKS | OPT_SYM_OWNER))) {
        int eff_l, eff_o;
        const fx_shadow_rec *rl = fx_options_toucher(recs, OPT_SYM_LINKS, &eff_l);
        const fx_shadow_rec *ro = fx_options_toucher(recs, OPT_SYM_OWNER, &eff_o);
        const fx_shadow_rec *rec = NULL;
        int il = -1, io = -1;
        for (i = 0; i < recs->nelts; i++) {
            const fx_shadow_rec *x = APR_ARRAY_IDX(recs, i, const fx_shadow_rec *);
            if (x == rl) il = i;
            if (x == ro) io = i;
        }
        /* The later of the two lines that switched a link option off. */
        if (rl && eff_l == 0 && (il >= io || !ro || eff_o != 0)) {
            rec = rl;
        }
        else if (ro && eff_o == 0) {
            rec = ro;
        }
        fx_entry_set(e, "symlink_cause", "options");
        if (rec) {
            fx_set_rec(r, e, rec);
            sentence = apr_psprintf(p, "Symbolic links are not followed in "
                                    "%s: FollowSymLinks and "
                                    "SymLinksIfOwnerMatch are both off; %s "
                                    "turned them off.", dir, fx_rec_at(r, rec));
            fx_entry_set(e, "hint", apr_psprintf(p, "Add Options "
                         "+SymLinksIfOwnerMatch (or +FollowSymLinks) for %s, "
                         "next to %s:%d", dir, rec->file ? rec->file : "?",
                         rec->line));
            fx_symlink_fix(r, e, rec, link, dir, &sentence);
        }
        else {
            sentence = apr_psprintf(p, "Symbolic links are not followed in "
                                    "%s: FollowSymLinks and "
                                    "SymLinksIfOwnerMatch were never on for "
                                    "it (no recorded Options line enables "
                                    "them).", dir);
            fx_entry_set(e, "hint", apr_psprintf(p, "Add Options "
                         "+SymLinksIfOwnerMatch (or +FollowSymLinks) in "
                         "<Directory %s>", dir));
        }
        fx_note_ignored(r, e, w, &sentence);
        fx_entry_set(e, "detail", sentence);
        return;
    }
    if (stat(link, &tst) != 0) {
        int err = errno;
        fx_entry_set(e, "symlink_cause", "target");
        const char *errtext = fx_errtext(p, err);
        fx_entry_set(e, "target_error", errtext);
        sentence = apr_psprintf(p, "The symbolic link %s points to %s, which "
                                "the server cannot reach: %s.", link,
                                target ? target : "?", errtext);
        if (err == EACCES && target) {
            /* Which component of the target denies. */
            const char *abs = target[0] == '/' ? target
                              : apr_pstrcat(p, dir, target, NULL);
            /* The walk describes the denying component of the target's
             * path (mode, owner, hint); path stays the link. */
            if (fx_explain_walk(r, e, abs, 0, sentence, NULL,
                                FX_LATER_WALK)) {
                fx_entry_set(e, "target_denied_at", fx_entry_get(e, "path"));
            }
            fx_entry_set(e, "path", link);
            fx_entry_set(e, "symlink_target", target);
            return;
        }
        fx_entry_set(e, "hint", apr_psprintf(p, "Point %s at an existing "
                     "file (ln -sfn TARGET %s) or remove it", link,
                     fx_shell_quote(p, link)));
        fx_entry_set(e, "detail", sentence);
        return;
    }
    if ((w->opts & OPT_SYM_OWNER) && !(w->opts & OPT_SYM_LINKS)
        && lst.st_uid != tst.st_uid) {
        const char *lo = fx_user_name(p, lst.st_uid);
        const char *to = fx_user_name(p, tst.st_uid);
        int eff;
        const fx_shadow_rec *ro = fx_options_toucher(recs, OPT_SYM_OWNER, &eff);
        lo = lo ? lo : apr_psprintf(p, "%ld", (long)lst.st_uid);
        to = to ? to : apr_psprintf(p, "%ld", (long)tst.st_uid);
        fx_entry_set(e, "symlink_cause", "owner");
        fx_entry_set(e, "link_owner", lo);
        fx_entry_set(e, "target_owner", to);
        if (ro && eff == 1) {
            fx_set_rec(r, e, ro);
        }
        sentence = apr_psprintf(p, "SymLinksIfOwnerMatch is in effect for %s%s "
                                "and the link %s is owned by %s while its "
                                "target %s is owned by %s.", dir,
                                ro && eff == 1 ? apr_pstrcat(p, " (",
                                    fx_rec_at(r, ro), ")", NULL) : "",
                                link, lo, target ? target : "?", to);
        fx_entry_set(e, "hint", apr_psprintf(p, "chown -h %s %s (make the link "
                     "owner match the target's), or use FollowSymLinks for %s",
                     to, fx_shell_quote(p, link), dir));
        fx_symlink_owner_fix(r, e, ro && eff == 1 ? ro : NULL, link, to,
                             target);
        fx_note_ignored(r, e, w, &sentence);
        fx_entry_set(e, "detail", sentence);
        return;
    }
    fx_entry_set(e, "detail", apr_psprintf(p, "httpd refused the symbolic "
                 "link %s, but it is acceptable now (options, target and "
                 "owners check out); the link or its target changed since.",
                 link));
}

static void fx_explain_no_index(request_rec *r, request_rec *failed,
                                fx_entry *e)
{
    apr_pool_t *p = r->pool;
    const char *names = apr_table_get(failed->notes, "dir-index-names");
    apr_array_header_t *recs = fx_records_find(p, failed, "Options");
    const char *dir = failed->filename;
    const char *sentence;
    fx_walk_replay *w;
    int eff;
    const fx_shadow_rec *rec = fx_options_toucher(recs, OPT_INDEXES, &eff);

    if (!dir) {
        return;
    }
    fx_entry_set(e, "path", dir);
    if (names) {
        fx_entry_set(e, "index_names", names);
    }
    sentence = apr_psprintf(p, "%s has no file named in DirectoryIndex (%s)",
                            dir, names ? names : "none configured");
    if (rec && eff == 0) {
        fx_set_rec(r, e, rec);
        sentence = apr_psprintf(p, "%s and %s removed Indexes, so no listing "
                                "is generated.", sentence, fx_rec_at(r, rec));
        fx_entry_set(e, "hint", apr_psprintf(p, "Add an index file (%s) to "
                     "%s, or allow listings with Options +Indexes (%s:%d "
                     "turned them off)", names ? names : "index.html",
                     fx_shell_quote(p, dir), rec->file ? rec->file : "?",
                     rec->line));
    }
    else if (!rec) {
        sentence = apr_pstrcat(p, sentence, " and Indexes was never enabled "
                               "for this directory (no Options line in "
                               "effect turns it on).", NULL);
        fx_entry_set(e, "hint", apr_psprintf(p, "Add an index file (%s) to "
                     "%s, or add Options +Indexes for it",
                     names ? names : "index.html", fx_shell_quote(p, dir)));
    }
    else {
        sentence = apr_pstrcat(p, sentence, " and Indexes is off, though the "
                               "last recorded Options line (",
                               fx_rec_at(r, rec), ") enables it: the line "
                               "that removed it is not known.", NULL);
    }
    w = fx_replay_walk(failed, dir[strlen(dir) - 1] == '/' ? dir
                       : apr_pstrcat(p, dir, "/", NULL), 0, NULL);
    fx_note_ignored(r, e, w, &sentence);
    fx_entry_set(e, "detail", sentence);
}

/* The mapping that made r a CGI: the SetHandler in effect, else the last
 * AddHandler cgi-script whose extension the file name carries. */
static const fx_shadow_rec *fx_cgi_mapping(request_rec *r)
{
    apr_array_header_t *set = fx_records_find(r->pool, r,
                                             "SetHandler");
    apr_array_header_t *add;
    const char *base;
    int i;

    if (set->nelts) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(set, set->nelts - 1,
                                                 const fx_shadow_rec *);
        const char *args = rec->args;
        const char *h = ap_getword_conf(r->pool, &args);
        if (r->handler && strcasecmp(h, r->handler) == 0) {
            return rec;
        }
    }
    if (!r->filename) {
        return NULL;
    }
    base = strrchr(r->filename, '/');
    base = base ? base + 1 : r->filename;
    add = fx_records_find(r->pool, r, "AddHandler");
    for (i = add->nelts - 1; i >= 0; i--) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(add, i, const fx_shadow_rec *);
        const char *args = rec->args;
        const char *h = ap_getword_conf(r->pool, &args);
        if (!r->handler || strcasecmp(h, r->handler) != 0) {
            continue;
        }
        while (*args) {
            const char *ext = ap_getword_conf(r->pool, &args);
            const char *dot;
            if (*ext == '.') {
                ext++;
            }
            /* mod_mime looks at every extension after the first dot. */
            for (dot = strchr(base, '.'); dot; dot = strchr(dot + 1, '.')) {
                apr_size_t n = strlen(ext);
                if (n && strncasecmp(dot + 1, ext, n) == 0
                    && (dot[1 + n] == '.' || dot[1 + n] == '\0')) {
                    return rec;
                }
            }
        }
    }
    return NULL;
}

/* Every extension of r's file name that an AddHandler in effect maps to
 * r's handler, as ".php .cgi" (mod_mime: any extension after the first
 * dot), or "" when none does. */
static const char *fx_cgi_exts(request_rec *r)
{
    apr_array_header_t *add = fx_records_find(r->pool, r,
                                             "AddHandler");
    const char *base, *out = "";
    int i;

    if (!r->filename || !r->handler) {
        return out;
    }
    base = strrchr(r->filename, '/');
    base = base ? base + 1 : r->filename;
    for (i = 0; i < add->nelts; i++) {
        const fx_shadow_rec *rec = APR_ARRAY_IDX(add, i, const fx_shadow_rec *);
        const char *args = rec->args;
        const char *h = ap_getword_conf(r->pool, &args);
        if (strcasecmp(h, r->handler) != 0) {
            continue;
        }
        while (*args) {
            const char *ext = ap_getword_conf(r->pool, &args);
            const char *dot, *dotted;
            apr_size_t n;
            if (*ext == '.') {
                ext++;
            }
            n = strlen(ext);
            dotted = apr_pstrcat(r->pool, ".", ext, NULL);
            for (dot = strchr(base, '.'); n && dot; dot = strchr(dot + 1, '.')) {
                if (strncasecmp(dot + 1, ext, n) == 0
                    && (dot[1 + n] == '.' || dot[1 + n] == '\0')
                    && !ap_strcasestr(apr_pstrcat(r->pool, out, " ", NULL),
                                      apr_pstrcat(r->pool, dotted, " ",
                                                  NULL))) {
                    out = apr_pstrcat(r->pool, out, *out ? " " : "", dotted,
                                      NULL);
                    break;
                }
            }
        }
    }
    return out;
}

/* The innermost section a record sits in, conditionals (<IfModule>, <If>)
 * skipped; NULL at the top level of a file. */
static const char *fx_rec_container(const fx_shadow_rec *rec)
{
    const ap_directive_t *d = rec->where ? rec->where->parent : NULL;
    while (d && d->directive && (strncasecmp(d->directive, "<If", 3) == 0
                                 || strncasecmp(d->directive, "<Else", 5) == 0)) {
        d = d->parent;
    }
    return d ? d->directive : NULL;
}

/* May a <Files> section be written next to rec (httpd refuses it inside
 * <Location> and inside another <Files>)? */
static int fx_files_nestable(const fx_shadow_rec *rec)
{
    const char *c = fx_rec_container(rec);
    return rec->file && rec->line > 0
           && (!c || strcasecmp(c, "<Directory") == 0
               || strcasecmp(c, "<DirectoryMatch") == 0
               || strcasecmp(c, "<VirtualHost") == 0);
}

/* Configuration text on one line, for a hint sentence (the fix keeps the
 * lines). */
static const char *fx_one_line(apr_pool_t *p, const char *text)
{
    char *out = apr_pstrdup(p, text), *o = out;
    const char *s;
    for (s = text; *s; s++) {
        if (*s == '\n') {
            while (s[1] == ' ') {
                s++;
            }
            *o++ = ' ';
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* A <Files> section for exactly this name, or NULL when the name cannot
 * be written as a literal (wildcard characters, quotes, backslashes). */
static const char *fx_files_section(apr_pool_t *p, const char *base,
                                    const char *body)
{
    if (!*base || strpbrk(base, "*?[]\"\\\n\r")) {
        return NULL;
    }
    return apr_pstrcat(p, "<Files \"", base, "\">\n    ", body, "\n</Files>",
                       NULL);
}

static const char *fx_fix_insert_json(apr_pool_t *p, const char *file,
                                      int after_line, const char *text)
{
    return apr_pstrcat(p, "{\"op\":\"insert\",\"file\":",
                       fx_json_quote(p, file, 0, NULL), ",\"after_line\":",
                       apr_itoa(p, after_line), ",\"text\":",
                       fx_json_quote(p, text, 0, NULL), "}", NULL);
}

static const char *fx_rec_blocker_json(request_rec *r, const fx_shadow_rec *rec,
                                       const char *mechanism)
{
    apr_pool_t *p = r->pool;
    const char *section = rec->in_htaccess
        ? apr_pstrcat(p, ".htaccess of ", rec->dir_path, NULL)
        : fx_section_chain(p, rec->where);
    return apr_pstrcat(p, "{\"directive\":",
                       fx_json_quote(p, apr_pstrcat(p, rec->name, " ",
                                                    rec->args, NULL), 512,
                                     NULL),
                       ",\"file\":", fx_json_quote(p, rec->file ? rec->file
                                                   : "", 0, NULL),
                       ",\"line\":", apr_itoa(p, rec->line),
                       ",\"section\":", fx_json_quote(p, section ? section
                                                      : "server config", 1024,
                                                      NULL),
                       ",\"mechanism\":", fx_json_quote(p, mechanism, 0, NULL),
                       "}", NULL);
}

/* The pieces of a fix put together: "fix", "blockers", "hint_verified" and
 * its reason or what was checked. */
typedef struct {
    const char *steps;              /* JSON objects, comma-separated */
    const char *blockers;           /* JSON objects, comma-separated */
    const char *unverified;         /* why not verified, NULL = verified */
    const char *checked;            /* what the verification covered */
} fx_fix_acc;

static void fx_fix_add(apr_pool_t *p, const char **list, const char *json)
{
    *list = apr_pstrcat(p, *list ? *list : "", *list && **list ? "," : "",
                        json, NULL);
}

static void fx_fix_set(fx_entry *e, apr_pool_t *p, const fx_fix_acc *acc)
{
    if (fx_fix_too_long(acc->steps, acc->blockers)) {
        fx_entry_set_raw(e, "hint_verified", "false");
        fx_entry_set(e, "hint_unverified", FX_FIX_TOO_LONG);
        return;
    }
    if (acc->steps && *acc->steps) {
        fx_entry_set_raw(e, "fix", apr_pstrcat(p, "[", acc->steps, "]", NULL));
    }
    if (acc->blockers && *acc->blockers) {
        fx_entry_set_raw(e, "blockers", apr_pstrcat(p, "[", acc->blockers,
                                                    "]", NULL));
    }
    fx_entry_set_raw(e, "hint_verified", acc->unverified ? "false" : "true");
    if (acc->unverified) {
        fx_entry_set(e, "hint_unverified", acc->unverified);
    }
    else if (acc->checked) {
        fx_entry_set(e, "hint_checked", acc->checked);
    }
}

/* Once the handler is changed or ExecCGI is on, can the server user open
 * (need: r, or r and x to execute) the script?  A denier becomes a second
 * blocker, its change a step of the same fix. */
static void fx_fix_script_perm(request_rec *r, fx_fix_acc *acc,
                               const char *path, int need,
                               const char **sentence)
{
    apr_pool_t *p = r->pool;
    fx_server_ids ids;
    fx_perm_walk_result w;
    fx_perm_fix fix;

    fx_server_ids_get(p, &ids);
    fx_perm_walk(p, path, need, &ids.cred, &w);
    if (!w.denier) {
        if (w.missing) {
            acc->unverified = apr_pstrcat(p, w.missing, " cannot be examined",
                                          NULL);
        }
        return;
    }
    fx_fix_add(p, &acc->blockers, fx_perm_blocker_json(p, w.denier));
    if (w.denier->mode_allows
        || !fx_perm_plan(p, w.denier, &ids.cred, ids.user, ids.group, &fix)) {
        acc->unverified = apr_pstrcat(p, "the kernel denies ", ids.user, " ",
                                      fx_perm_bits(p, need), " on ",
                                      w.denier->path, " for a reason the mode "
                                      "bits do not show", NULL);
        return;
    }
    fx_fix_add(p, &acc->steps, fx_fix_json_steps(p, "", &fix));
    *sentence = apr_pstrcat(p, *sentence, " Then ", ids.user, " would still "
                            "lack ", fx_perm_bits(p, w.denier->need
                                                  & ~w.denier->granted),
                            " on ", w.denier->path, " (", w.denier->mode_oct,
                            "): ", fix.hint, ".", NULL);
    if (!fx_perm_verify(p, w.denier, &fix, &ids.cred)) {
        acc->unverified = "the permission model still denies with the change "
                          "applied";
    }
    else if (strcmp(w.denier->path, path) != 0) {
        acc->unverified = apr_pstrcat(p, "the components below ",
                                      w.denier->path, " were not examined",
                                      NULL);
    }
}

/* Is rec written inside a <VirtualHost> (a section appended at the end of
 * its file would land outside it)? */
static int fx_rec_in_vhost(const fx_shadow_rec *rec)
{
    const ap_directive_t *d;
    for (d = rec->where ? rec->where->parent : NULL; d; d = d->parent) {
        if (d->directive && strcasecmp(d->directive, "<VirtualHost") == 0) {
            return 1;
        }
    }
    return 0;
}

/* A directory path as a section writes it: no quotes, no trailing slash. */
static const char *fx_section_dir(apr_pool_t *p, const char *path)
{
    char *s = apr_pstrdup(p, path ? path : "");
    apr_size_t n;
    if (*s == '"' || *s == '\'') {
        s++;
    }
    n = strlen(s);
    if (n && (s[n - 1] == '"' || s[n - 1] == '\'')) {
        s[--n] = '\0';
    }
    while (n > 1 && s[n - 1] == '/') {
        s[--n] = '\0';
    }
    return s;
}

/* The fix for a link refused because FollowSymLinks and
 * SymLinksIfOwnerMatch are off for its directory: SymLinksIfOwnerMatch
 * (links whose owner owns the target, not every link) for exactly that
 * directory — next to the line that turned them off when that line's
 * section or .htaccess is for the directory itself, else a new <Directory>
 * section for it at the end of the line's file.  A link owned by someone
 * else than its target's owner gets `chown -h`, a target the server user
 * cannot reach its permission fix: every blocker is in the fix. */
static void fx_symlink_fix(request_rec *r, fx_entry *e,
                           const fx_shadow_rec *rec, const char *link,
                           const char *dir, const char **sentence)
{
    apr_pool_t *p = r->pool;
    const char *linkdir = fx_section_dir(p, dir);
    const char *recdir = fx_section_dir(p, rec->dir_path);
    const char *c = fx_rec_container(rec);
    fx_fix_acc acc = { NULL, NULL, FX_LATER_WALK, NULL };
    struct stat lst, tst;
    const char *opt = "Options +SymLinksIfOwnerMatch";

    fx_fix_add(p, &acc.blockers, fx_rec_blocker_json(r, rec, "options"));
    if (!rec->file || rec->line <= 0) {
        acc.unverified = "the line that turned the options off has no file";
        fx_fix_set(e, p, &acc);
        return;
    }
    if (strcmp(recdir, linkdir) == 0
        && (rec->in_htaccess || (c && strcasecmp(c, "<Directory") == 0))) {
        fx_fix_add(p, &acc.steps, fx_fix_insert_json(p, rec->file, rec->line,
                                                     opt));
    }
    else if (!rec->in_htaccess && !fx_rec_in_vhost(rec)
             && !strpbrk(linkdir, "*?[\"\\\n")) {
        fx_fix_add(p, &acc.steps, apr_pstrcat(p, "{\"op\":\"append\","
                   "\"file\":", fx_json_quote(p, rec->file, 0, NULL),
                   ",\"text\":", fx_json_quote(p, fx_protect_dir_section(p,
                   linkdir, opt), 0, NULL), "}", NULL));
    }
    else {
        acc.unverified = apr_pstrcat(p, "no place found for ", opt, " that "
                                     "applies to ", linkdir, " alone", NULL);
        fx_fix_set(e, p, &acc);
        return;
    }
    if (lstat(link, &lst) == 0 && stat(link, &tst) == 0) {
        if (lst.st_uid != tst.st_uid) {
            const char *to = fx_user_name(p, tst.st_uid);
            to = to ? to : apr_psprintf(p, "%ld", (long)tst.st_uid);
            fx_fix_add(p, &acc.blockers, apr_pstrcat(p, "{\"mechanism\":"
                       "\"symlink-owner\",\"path\":",
                       fx_json_quote(p, link, 0, NULL), "}", NULL));
            fx_fix_add(p, &acc.steps, apr_pstrcat(p, "{\"op\":\"run\","
                       "\"argv\":[\"chown\",\"-h\",",
                       fx_json_quote(p, to, 0, NULL), ",",
                       fx_json_quote(p, link, 0, NULL), "]}", NULL));
            *sentence = apr_pstrcat(p, *sentence, " With SymLinksIfOwnerMatch "
                                    "the link must also be owned by ", to,
                                    ", its target's owner (chown -h ", to, " ",
                                    fx_shell_quote(p, link), ").", NULL);
        }
        {
            fx_fix_acc perm = { NULL, NULL, NULL, NULL };
            char buf[4096];
            ssize_t n = readlink(link, buf, sizeof(buf) - 1);
            if (n > 0) {
                const char *t = apr_pstrmemdup(p, buf, (apr_size_t)n);
                const char *abs = t[0] == '/' ? t : apr_pstrcat(p, dir, t,
                                                                NULL);
                fx_fix_script_perm(r, &perm, abs, S_ISDIR(tst.st_mode) ? 0
                                   : FX_PERM_R, sentence);
                if (perm.steps) {
                    fx_fix_add(p, &acc.steps, perm.steps);
                }
                if (perm.blockers) {
                    fx_fix_add(p, &acc.blockers, perm.blockers);
                }
            }
        }
    }
    fx_fix_set(e, p, &acc);
}

/* SymLinksIfOwnerMatch refused a link owned by someone else than its
 * target's owner: the link handed to the target's owner (chown -h), never
 * FollowSymLinks for the directory.  The option exists so that one user
 * cannot publish another's files through a link: the warning says so. */
static void fx_symlink_owner_fix(request_rec *r, fx_entry *e,
                                 const fx_shadow_rec *rec, const char *link,
                                 const char *to, const char *target)
{
    apr_pool_t *p = r->pool;
    fx_fix_acc acc = { NULL, NULL, FX_LATER_WALK, NULL };

    if (rec) {
        fx_fix_add(p, &acc.blockers, fx_rec_blocker_json(r, rec, "options"));
    }
    fx_fix_add(p, &acc.blockers, apr_pstrcat(p, "{\"mechanism\":"
               "\"symlink-owner\",\"path\":",
               fx_json_quote(p, link, 0, NULL), "}", NULL));
    fx_fix_add(p, &acc.steps, apr_pstrcat(p, "{\"op\":\"run\",\"argv\":"
               "[\"chown\",\"-h\",", fx_json_quote(p, to, 0, NULL), ",",
               fx_json_quote(p, link, 0, NULL), "]}", NULL));
    fx_entry_set(e, "warning", apr_pstrcat(p, "SymLinksIfOwnerMatch keeps a "
                 "user from publishing another user's files through a link: "
                 "hand the link to ", to, " only if ", target ? target
                 : "its target", " is meant to be served.", NULL));
    fx_fix_set(e, p, &acc);
}

/* Where a <Files> section `files` goes so that it applies to the file's
 * own directory `dir` (no trailing slash) and nothing wider, given the
 * line `rec` it must merge after (the mapping or the Options line):
 *   rec's section or .htaccess is for dir itself: right after rec;
 *   rec is in an ancestor's .htaccess: dir's own .htaccess (appended,
 *     created if missing) when AllowOverride there permits `need`
 *     (OR_FILEINFO for RemoveHandler, OR_OPTIONS for Options);
 *   rec is in the main configuration, outside <VirtualHost>: a new
 *     <Directory dir> holding the section, appended to rec's file.
 * Returns the step as JSON (*where: the place in words), or NULL when no
 * such place exists. */
static const char *fx_files_step(request_rec *r, request_rec *failed,
                                 const fx_shadow_rec *rec, const char *dir,
                                 const char *files, int need,
                                 const char **where)
{
    apr_pool_t *p = r->pool;
    const char *recdir = fx_section_dir(p, rec->dir_path);
    const char *c = fx_rec_container(rec);

    if (!rec->file || rec->line <= 0) {
        return NULL;
    }
    if (strcmp(recdir, dir) == 0 && fx_files_nestable(rec)
        && (rec->in_htaccess || (c && strcasecmp(c, "<Directory") == 0))) {
        *where = apr_psprintf(p, "after %s:%d", rec->file, rec->line);
        return fx_fix_insert_json(p, rec->file, rec->line, files);
    }
    if (rec->in_htaccess) {
        const char *ht;
        core_server_config *sconf = ap_get_core_module_config(
                                        failed->server->module_config);
        fx_walk_replay *w = fx_replay_walk(failed, apr_pstrcat(p, dir, "/",
                                                               NULL), 0, NULL);
        if (!(w->override & need)) {
            return NULL;
        }
        ht = apr_pstrcat(p, dir, "/", fx_first_access_name(p, sconf), NULL);
        *where = apr_pstrcat(p, "in ", ht, " (the directory's own)", NULL);
        return apr_pstrcat(p, "{\"op\":\"append\",\"file\":",
                           fx_json_quote(p, ht, 0, NULL),
                           ",\"text\":", fx_json_quote(p, files, 0, NULL), "}",
                           NULL);
    }
    /* <Location> merges after every <Directory> and <Files>: a line there
     * would override the new section */
    if (fx_rec_in_vhost(rec) || strpbrk(dir, "*?[\"\\\n")
        || (c && strncasecmp(c, "<Location", 9) == 0)) {
        return NULL;
    }
    *where = apr_pstrcat(p, "in a <Directory ", dir, "> section at the end "
                         "of ", rec->file, NULL);
    return apr_pstrcat(p, "{\"op\":\"append\",\"file\":",
                       fx_json_quote(p, rec->file, 0, NULL), ",\"text\":",
                       fx_json_quote(p, fx_protect_dir_section(p, dir, files),
                                     0, NULL), "}", NULL);
}

/* The upload-directory protection: -ExecCGI together with a cgi-script
 * mapping of script languages, or in an upload directory, keeps uploaded
 * code from running.  Working as intended: the narrow alternative serves
 * this one file as a static file (its handler mapping removed for it
 * alone); execution is never enabled. */
static void fx_exec_cgi_protection(request_rec *r, request_rec *failed,
                                   fx_entry *e, const fx_shadow_rec *rec,
                                   const fx_shadow_rec *map,
                                   const char **sentence)
{
    apr_pool_t *p = r->pool;
    const char *base = strrchr(failed->filename, '/');
    const char *exts = fx_cgi_exts(failed);
    apr_array_header_t *set = fx_records_find(p, failed,
                                             "SetHandler");
    fx_fix_acc acc = { NULL, NULL, NULL, NULL };
    const char *files = NULL, *alt = fx_protect_alternative(FX_PROT_NOEXEC);
    const char *step = NULL, *where = NULL;
    const char *dir = fx_section_dir(p, fx_dir_of(p, failed->filename));

    base = base ? base + 1 : failed->filename;
    fx_entry_set(e, "protection", FX_PROT_NOEXEC);
    fx_fix_add(p, &acc.blockers, fx_rec_blocker_json(r, rec, "options"));
    if (map) {
        fx_fix_add(p, &acc.blockers, fx_rec_blocker_json(r, map,
                                                         "handler-mapping"));
    }
    *sentence = apr_pstrcat(p, *sentence, " This is an upload directory kept "
                            "from executing code: ", alt, NULL);
    if (map && strcasecmp(map->name, "AddHandler") == 0 && *exts) {
        files = fx_files_section(p, base, apr_pstrcat(p, "RemoveHandler ",
                                                      exts, NULL));
    }
    if (files) {
        step = fx_files_step(r, failed, map, dir, files, OR_FILEINFO, &where);
    }
    if (!step) {
        fx_entry_set(e, "hint", apr_pstrcat(p, "This works as intended: ",
                     "uploaded scripts must not run. If ", base, " should be "
                     "served as a static file, remove it from the cgi-script "
                     "mapping for this file only; never enable ExecCGI in an "
                     "upload directory.", NULL));
        acc.unverified = map ? "the handler mapping cannot be narrowed to "
                               "this file where it is written"
                             : "the mapping that made the file a CGI script "
                               "is not known";
        fx_fix_set(e, p, &acc);
        return;
    }
    fx_entry_set(e, "hint", apr_pstrcat(p, "This works as intended: uploaded "
                 "scripts must not run here. If ", base, " should be served "
                 "as a static file (its source sent as is, never run), remove "
                 "its extension from the cgi-script mapping for this one file "
                 "in ", dir, " only, ", where, ": ", fx_one_line(p, files),
                 " (every other script stays refused); never enable ExecCGI "
                 "in an upload directory.", NULL));
    fx_fix_add(p, &acc.steps, step);
    /* Verified: the handler then comes from no recorded mapping (no
     * SetHandler is in effect, every AddHandler extension of the name is
     * removed), so the default handler serves the file: it must be
     * readable for the server user.  Authorization already granted (the
     * 403 came from the handler). */
    if (set->nelts) {
        acc.unverified = "a SetHandler is in effect and may set another "
                         "handler";
    }
    else {
        fx_fix_script_perm(r, &acc, failed->filename, FX_PERM_R, sentence);
        acc.checked = apr_pstrcat(p, "with RemoveHandler ", exts, " for ",
                                  base, " no recorded AddHandler or "
                                  "SetHandler maps it to a handler and the "
                                  "server user can read it; AddType-based "
                                  "handlers are not recorded", NULL);
    }
    fx_fix_set(e, p, &acc);
}

static void fx_explain_exec_cgi(request_rec *r, request_rec *failed,
                                fx_entry *e)
{
    apr_pool_t *p = r->pool;
    apr_array_header_t *recs = fx_records_find(p, failed, "Options");
    const char *dir = failed->filename ? fx_dir_of(p, failed->filename) : "?";
    const fx_shadow_rec *map = fx_cgi_mapping(failed);
    const char *sentence;
    fx_walk_replay *w;
    int eff;
    const fx_shadow_rec *rec = fx_options_toucher(recs, OPT_EXECCGI, &eff);

    if (failed->filename) {
        fx_entry_set(e, "path", failed->filename);
    }
    if (failed->handler) {
        fx_entry_set(e, "handler", failed->handler);
    }
    sentence = apr_psprintf(p, "%s is handled as a CGI script (handler %s%s)",
                            failed->filename ? failed->filename : "?",
                            failed->handler ? failed->handler : "?",
                            map ? apr_pstrcat(p, ", set by ",
                                              fx_rec_at(r, map), NULL)
                                : ", by a mapping this module does not "
                                  "record");
    if (map) {
        fx_entry_set(e, "handler_directive", apr_pstrcat(p, map->name, " ",
                                                         map->args, NULL));
        fx_entry_set(e, "handler_at", apr_psprintf(p, "%s:%d", map->file
                                                   ? map->file : "?",
                                                   map->line));
    }
    if (rec && eff == 0) {
        fx_set_rec(r, e, rec);
        sentence = apr_psprintf(p, "%s, but ExecCGI is off for %s: %s "
                                "turned it off.", sentence, dir,
                                fx_rec_at(r, rec));
        if (failed->filename
            && fx_protect_noexec_directive(rec->name, rec->args)
            && (fx_protect_upload_dir(dir)
                || (map && strcasecmp(map->name, "AddHandler") == 0
                    && fx_protect_trap_mapping(map->args)))) {
            fx_exec_cgi_protection(r, failed, e, rec, map, &sentence);
        }
        else {
            const char *base = failed->filename
                               ? strrchr(failed->filename, '/') : NULL;
            const char *files = base
                ? fx_files_section(p, base + 1, "Options +ExecCGI") : NULL;
            const char *where = NULL;
            const char *step = files
                ? fx_files_step(r, failed, rec, fx_section_dir(p, dir), files,
                                OR_OPTIONS, &where) : NULL;
            fx_fix_acc acc = { NULL, NULL, NULL, NULL };
            fx_fix_add(p, &acc.blockers, fx_rec_blocker_json(r, rec,
                                                             "options"));
            if (step) {
                fx_entry_set(e, "hint", apr_psprintf(p, "Enable ExecCGI for "
                             "this script only, %s (%s:%d turned it off for "
                             "%s): %s; or stop mapping the file to a CGI "
                             "handler", where, rec->file, rec->line, dir,
                             fx_one_line(p, files)));
                fx_fix_add(p, &acc.steps, step);
                /* rec is the last Options line touching ExecCGI in merge
                 * order, and no <Files> or <Location> holds it, so a
                 * <Files> section next to it merges after it: ExecCGI is
                 * then on for this file.  The script must be readable and
                 * executable for the server user. */
                fx_fix_script_perm(r, &acc, failed->filename,
                                   FX_PERM_R | FX_PERM_X, &sentence);
                acc.checked = "ExecCGI on for this file by the last Options "
                              "line in merge order, and the script readable "
                              "and executable for the server user; what the "
                              "script itself outputs was not evaluated";
            }
            else {
                fx_entry_set(e, "hint", apr_psprintf(p, "Add Options +ExecCGI "
                             "for %s (%s:%d turned it off), or stop mapping "
                             "the file to a CGI handler", dir,
                             rec->file ? rec->file : "?", rec->line));
                acc.unverified = "no narrower place for Options +ExecCGI "
                                 "than the section that turned it off";
            }
            fx_fix_set(e, p, &acc);
        }
    }
    else if (!rec) {
        sentence = apr_psprintf(p, "%s, but ExecCGI was never enabled for %s "
                                "(no Options line in effect turns it on).",
                                sentence, dir);
        fx_entry_set(e, "hint", apr_psprintf(p, "Add Options +ExecCGI for "
                     "%s, or use ScriptAlias for its URL", dir));
    }
    else {
        sentence = apr_pstrcat(p, sentence, ", but ExecCGI is off, though the "
                               "last recorded Options line (",
                               fx_rec_at(r, rec), ") enables it.", NULL);
    }
    w = fx_replay_walk(failed, dir, 0, NULL);
    fx_note_ignored(r, e, w, &sentence);
    fx_entry_set(e, "detail", sentence);
}

void fx_fs_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                   fx_entry *e)
{
    const char *reason = fx_entry_get(e, "reason");
    const fx_origin *cause = fx_state_cause(st, NULL);
    const fx_logged *l;
    const char *path;

    if (!reason || !cause) {
        return;
    }
    path = cause->filename;

    if (strcmp(reason, "symlink") == 0) {
        if (path && path[0] == '/') {
            fx_explain_symlink(r, failed, e, path);
        }
        return;
    }
    if (strcmp(reason, "no-index") == 0) {
        fx_explain_no_index(r, failed, e);
        return;
    }
    if (strcmp(reason, "exec-cgi") == 0) {
        if (fx_logged_find(st, 1262) || fx_logged_find(st, 2809)) {
            fx_explain_exec_cgi(r, failed, e);
        }
        return;
    }
    if (strcmp(reason, "htaccess") == 0) {
        const char *ht;
        l = fx_logged_find(st, 529);
        ht = l ? fx_htaccess_from_message(r, l->message) : NULL;
        if (!ht && path && *path) {
            ht = apr_pstrcat(r->pool, path[strlen(path) - 1] == '/' ? path
                             : fx_dir_of(r->pool, path),
                             fx_first_access_name(r->pool,
                                 ap_get_core_module_config(
                                     r->server->module_config)), NULL);
        }
        if (ht) {
            fx_entry_set(e, "htaccess", ht);
            fx_explain_walk(r, e, ht, FX_PERM_R,
                            apr_pstrcat(r->pool, "httpd could not read ", ht,
                                        " and denied access to be safe.",
                                        NULL), NULL,
                            "httpd then reads the directives of this "
                            ".htaccess and the authorization rules, which "
                            "were not evaluated");
        }
        return;
    }
    if (strcmp(reason, "fs-permission") != 0 || !path || path[0] != '/') {
        return;
    }
    if ((l = fx_logged_find(st, 38))) {
        struct stat sb;
        const char *type = "neither a file nor a directory";
        if (lstat(path, &sb) == 0) {
            fx_perm_comp *c = apr_palloc(r->pool, sizeof(*c));
            fx_server_ids ids;
            fx_server_ids_get(r->pool, &ids);
            if (fx_perm_examine(r->pool, path, 0, &ids.cred, c) == 0) {
                fx_entry_set(e, "path_type", c->type);
                fx_entry_set(e, "mode", c->mode_str);
                fx_entry_set(e, "mode_octal", c->mode_oct);
                fx_entry_set(e, "owner", c->owner);
                fx_entry_set_int(e, "owner_uid", (apr_int64_t)c->uid);
                type = apr_pstrcat(r->pool, "a ", c->type, NULL);
            }
        }
        fx_entry_set(e, "path", path);
        fx_entry_set(e, "detail", apr_psprintf(r->pool, "%s is %s; httpd "
                     "serves only regular files and directories.", path,
                     type));
        fx_entry_set(e, "hint", apr_psprintf(r->pool, "Replace %s with a "
                     "regular file, or keep the URL from mapping to it",
                     fx_shell_quote(r->pool, path)));
        return;
    }
    if ((l = fx_logged_find(st, 35))) {
        /* path is the component whose stat failed: a directory above it
         * lacks search permission. */
        fx_explain_walk(r, e, path, 0, NULL, NULL, FX_LATER_WALK);
        return;
    }
    if ((l = fx_logged_find(st, 36)) || (l = fx_logged_find(st, 31))) {
        const char *err = fx_errtext(r->pool, l->apr_status);
        fx_entry_set(e, "os_error", err);
        if (!fx_explain_walk(r, e, path, 0, NULL, err, FX_LATER_WALK)) {
            fx_entry_set(e, "detail", apr_psprintf(r->pool, "httpd could not "
                         "stat %s: %s.", path, err));
        }
        return;
    }
    if ((l = fx_logged_find(st, 1275))) {
        /* mod_autoindex could not open the directory for a listing */
        fx_explain_walk(r, e, failed->filename ? failed->filename : path,
                        FX_PERM_R | FX_PERM_X, NULL, NULL, NULL);
        return;
    }
    /* A file httpd found but could not open: AH00132 (core), AH01234
     * (asis), AH00683 (type map), AH01562 (meta file), an unreadable index
     * file behind a directory URL. */
    l = fx_logged_find(st, 132);
    if (l && l->apr_status) {
        fx_entry_set(e, "os_error", fx_errtext(r->pool, l->apr_status));
    }
    fx_explain_walk(r, e, path, FX_PERM_R, NULL, NULL, NULL);
}

void fx_fs_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_child_init(fx_fs_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}

/* After a fix to an earlier phase (issue 13: every blocker): would the
 * server user still be refused the plain file r maps to?  The directory
 * walk already reached it (it runs before authorization), so the core
 * handler's open() is what is left: read on the file, search on every
 * directory above.  1: refused, *json the blocker ({"mechanism":
 * "permission","path","missing","mode","owner","group","perm_class"}) and
 * *text a sentence; 0: readable, or not a plain file; -1: the credentials
 * switch per request (mpm-itk, mod_ruid2), *text why. */
int fx_fs_read_would_deny(request_rec *r, const char **json,
                          const char **text)
{
    fx_server_ids ids;
    fx_perm_walk_result w;
    const fx_perm_comp *c;
    apr_pool_t *p = r->pool;

    *json = *text = NULL;
    if (!r->filename || r->finfo.filetype != APR_REG) {
        return 0;
    }
    if (fx_server_creds_mode() != FX_CREDS_PER_CHILD) {
        *text = "the server's credentials switch per request, so whether it "
                "can read the file was not checked";
        return -1;
    }
    fx_server_ids_get(p, &ids);
    fx_perm_walk(p, r->filename, FX_PERM_R, &ids.cred, &w);
    c = w.denier;
    if (!c || c->mode_allows) {
        return 0;       /* readable by the mode bits (the kernel may differ) */
    }
    fx_perm_name_comp(p, (fx_perm_comp *)c);
    *json = apr_pstrcat(p, "{\"mechanism\":\"permission\",\"path\":",
                        fx_json_quote(p, c->path, 512, NULL),
                        ",\"missing\":", fx_json_quote(p, fx_perm_bits(p,
                        c->need & ~c->granted), 8, NULL),
                        ",\"mode\":", fx_json_quote(p, c->mode_oct, 8, NULL),
                        ",\"owner\":", fx_json_quote(p, c->owner ? c->owner
                                                     : "?", 64, NULL),
                        ",\"group\":", fx_json_quote(p, c->group ? c->group
                                                     : "?", 64, NULL),
                        ",\"perm_class\":", fx_json_quote(p, c->perm_class
                                                          ? c->perm_class : "",
                                                          64, NULL), "}", NULL);
    *text = apr_psprintf(p, "the server user %s cannot %s %s (%s %s, owner "
                         "%s, group %s)", ids.user,
                         c->need & FX_PERM_R && !(c->granted & FX_PERM_R)
                         ? "read" : "search", c->path, c->mode_str,
                         c->mode_oct, c->owner ? c->owner : "?",
                         c->group ? c->group : "?");
    return 1;
}

/* mod_dir relayed the 403 of its index sub-request for the directory r
 * maps to: once that 403 is gone, does the directory still get refused?
 * With no DirectoryIndex file there, mod_dir declines and mod_autoindex
 * refuses the listing where Indexes is off (AH01276).  1 (with the Options
 * line as a blocker object and a sentence), 0, or -1 (cannot tell). */
int fx_fs_listing_would_deny(request_rec *r, int has_index_file,
                             const char **json, const char **text)
{
    apr_pool_t *p = r->pool;
    const fx_shadow_rec *rec;
    int eff;

    *json = *text = NULL;
    if (!r->filename || r->finfo.filetype != APR_DIR || has_index_file
        || !ap_find_linked_module("mod_autoindex.c")) {
        return 0;
    }
    rec = fx_options_toucher(fx_records_find(p, r, "Options"), OPT_INDEXES,
                             &eff);
    if (rec && eff == 1) {
        return 0;                   /* a listing would be generated */
    }
    if (!rec) {
        /* Indexes never enabled: no line to name */
        *json = apr_pstrcat(p, "{\"mechanism\":\"options\",\"path\":",
                            fx_json_quote(p, r->filename, 512, NULL),
                            ",\"detail\":\"no Options line in effect enables "
                            "Indexes\"}", NULL);
        *text = apr_pstrcat(p, "mod_autoindex, which refuses a listing of ",
                            r->filename, " (no index file, Indexes never "
                            "enabled)", NULL);
        return 1;
    }
    *json = fx_rec_blocker_json(r, rec, "options");
    *text = apr_pstrcat(p, "`", rec->name, " ", rec->args, "` (",
                        rec->file ? rec->file : "?", ":",
                        apr_itoa(p, rec->line), "), under which mod_autoindex "
                        "refuses a listing of ", r->filename, " (it has no "
                        "index file)", NULL);
    return 1;
}
