/* fx_perm.c — which path component denies which permission to which
 * credentials, and why (mode class, POSIX ACL entry), plus the facts around
 * it (world-writable components, mount flags, LSM label).  Also the effect
 * of an `Options` line on one option bit.  Pure: no request_rec; the caller
 * passes the credentials (in the server, the child's own: httpd's User and
 * Group).  See fx_perm.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <apr_strings.h>
#include "fx_perm.h"
#include "fx_protect.h"

#define FX_NAME_BUF 4096

static const char *fx_user_name_nss(apr_pool_t *p, uid_t uid);
static const char *fx_group_name_nss(apr_pool_t *p, gid_t gid);
static fx_perm_namer_fn *fx_namer;

void fx_perm_set_namer(fx_perm_namer_fn *fn)
{
    fx_namer = fn;
}

const char *fx_perm_nss_name(apr_pool_t *p, unsigned long id, int group)
{
    return group ? fx_group_name_nss(p, (gid_t)id) : fx_user_name_nss(p, (uid_t)id);
}

const char *fx_user_name(apr_pool_t *p, uid_t uid)
{
    return fx_namer ? fx_namer(p, (unsigned long)uid, 0)
                    : fx_user_name_nss(p, uid);
}

const char *fx_group_name(apr_pool_t *p, gid_t gid)
{
    return fx_namer ? fx_namer(p, (unsigned long)gid, 1)
                    : fx_group_name_nss(p, gid);
}

static const char *fx_user_name_nss(apr_pool_t *p, uid_t uid)
{
    struct passwd pw, *res = NULL;
    char buf[FX_NAME_BUF];
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res) {
        return NULL;
    }
    return apr_pstrdup(p, res->pw_name);
}

static const char *fx_group_name_nss(apr_pool_t *p, gid_t gid)
{
    struct group gr, *res = NULL;
    char buf[FX_NAME_BUF];
    if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) != 0 || !res) {
        return NULL;
    }
    return apr_pstrdup(p, res->gr_name);
}

/* ---------------------------------------------------------------------- */
/* POSIX ACL (the kernel's xattr layout: u32 version 2, then entries of    */
/* u16 tag, u16 perm, u32 id, all little endian)                           */

static unsigned fx_le16(const unsigned char *b)
{
    return (unsigned)b[0] | ((unsigned)b[1] << 8);
}

static unsigned fx_le32(const unsigned char *b)
{
    return (unsigned)b[0] | ((unsigned)b[1] << 8) | ((unsigned)b[2] << 16)
           | ((unsigned)b[3] << 24);
}

int fx_acl_parse(const void *buf, apr_size_t len, fx_acl *out)
{
    const unsigned char *b = buf;
    apr_size_t off;

    out->n = 0;
    if (len < 4 || (len - 4) % 8 != 0 || fx_le32(b) != 2) {
        return -1;
    }
    for (off = 4; off + 8 <= len; off += 8) {
        fx_acl_entry *e;
        unsigned tag = fx_le16(b + off);
        if (tag != FX_ACL_USER_OBJ && tag != FX_ACL_USER
            && tag != FX_ACL_GROUP_OBJ && tag != FX_ACL_GROUP
            && tag != FX_ACL_MASK && tag != FX_ACL_OTHER) {
            return -1;
        }
        if (out->n >= (int)(sizeof(out->e) / sizeof(out->e[0]))) {
            return -1;
        }
        e = &out->e[out->n++];
        e->tag = tag;
        e->perm = fx_le16(b + off + 2) & 7;
        e->id = fx_le32(b + off + 4);
    }
    return 0;
}

static void fx_rwx(unsigned perm, char out[4])
{
    out[0] = (perm & FX_PERM_R) ? 'r' : '-';
    out[1] = (perm & FX_PERM_W) ? 'w' : '-';
    out[2] = (perm & FX_PERM_X) ? 'x' : '-';
    out[3] = '\0';
}

static const char *fx_acl_entry_text(apr_pool_t *p, const fx_acl_entry *e)
{
    char rwx[4];
    const char *name = NULL;
    fx_rwx(e->perm, rwx);
    switch (e->tag) {
    case FX_ACL_USER_OBJ:  return apr_pstrcat(p, "user::", rwx, NULL);
    case FX_ACL_GROUP_OBJ: return apr_pstrcat(p, "group::", rwx, NULL);
    case FX_ACL_MASK:      return apr_pstrcat(p, "mask::", rwx, NULL);
    case FX_ACL_OTHER:     return apr_pstrcat(p, "other::", rwx, NULL);
    case FX_ACL_USER:
        name = fx_user_name(p, (uid_t)e->id);
        return apr_psprintf(p, "user:%s:%s", name ? name
                            : apr_psprintf(p, "%u", e->id), rwx);
    default:
        name = fx_group_name(p, (gid_t)e->id);
        return apr_psprintf(p, "group:%s:%s", name ? name
                            : apr_psprintf(p, "%u", e->id), rwx);
    }
}

const char *fx_acl_text(apr_pool_t *p, const fx_acl *acl)
{
    const char *s = "";
    int i;
    for (i = 0; i < acl->n; i++) {
        s = apr_pstrcat(p, s, i ? "," : "", fx_acl_entry_text(p, &acl->e[i]),
                        NULL);
    }
    return s;
}

/* ---------------------------------------------------------------------- */
/* modes and verdicts                                                      */

void fx_perm_mode_string(unsigned mode, char out[11])
{
    char t = '?';
    switch (mode & S_IFMT) {
    case S_IFDIR:  t = 'd'; break;
    case S_IFREG:  t = '-'; break;
    case S_IFLNK:  t = 'l'; break;
    case S_IFIFO:  t = 'p'; break;
    case S_IFSOCK: t = 's'; break;
    case S_IFCHR:  t = 'c'; break;
    case S_IFBLK:  t = 'b'; break;
    }
    out[0] = t;
    fx_rwx((mode >> 6) & 7, out + 1);
    fx_rwx((mode >> 3) & 7, out + 4);
    fx_rwx(mode & 7, out + 7);
    if (mode & S_ISUID) out[3] = (mode & S_IXUSR) ? 's' : 'S';
    if (mode & S_ISGID) out[6] = (mode & S_IXGRP) ? 's' : 'S';
    if (mode & S_ISVTX) out[9] = (mode & S_IXOTH) ? 't' : 'T';
    out[10] = '\0';
}

static const char *fx_type_name(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR:  return "directory";
    case S_IFREG:  return "file";
    case S_IFLNK:  return "symlink";
    case S_IFIFO:  return "fifo";
    case S_IFSOCK: return "socket";
    case S_IFCHR:  return "char-device";
    case S_IFBLK:  return "block-device";
    }
    return "unknown";
}

const char *fx_perm_bits(apr_pool_t *p, int bits)
{
    return apr_pstrcat(p, (bits & FX_PERM_R) ? "r" : "",
                       (bits & FX_PERM_W) ? "w" : "",
                       (bits & FX_PERM_X) ? "x" : "", NULL);
}

static int fx_in_groups(const fx_perm_cred *cred, gid_t gid)
{
    int i;
    if (cred->gid == gid) {
        return 1;
    }
    for (i = 0; i < cred->ngroups; i++) {
        if (cred->groups[i] == gid) {
            return 1;
        }
    }
    return 0;
}

/* The class that applies to cred and what it grants, as the kernel decides
 * (POSIX.1e access check algorithm when an ACL is present). */
static void fx_verdict(apr_pool_t *p, fx_perm_comp *c, const fx_perm_cred *cred)
{
    const fx_acl *acl = c->has_acl ? &c->acl : NULL;
    unsigned mask = 7;
    int i, matched = -1;

    if (cred->uid == 0) {
        /* CAP_DAC_OVERRIDE: read and search always pass. */
        c->perm_class = "root";
        c->granted = 7;
    }
    else if (cred->uid == c->uid) {
        c->perm_class = "owner";
        c->granted = (c->mode >> 6) & 7;
    }
    else if (!acl) {
        if (fx_in_groups(cred, c->gid)) {
            c->perm_class = "group";
            c->granted = (c->mode >> 3) & 7;
        }
        else {
            c->perm_class = "other";
            c->granted = c->mode & 7;
        }
    }
    else {
        for (i = 0; i < acl->n; i++) {
            if (acl->e[i].tag == FX_ACL_MASK) {
                mask = acl->e[i].perm;
            }
        }
        for (i = 0; i < acl->n; i++) {
            if (acl->e[i].tag == FX_ACL_USER && acl->e[i].id == cred->uid) {
                const char *n = fx_user_name(p, cred->uid);
                c->perm_class = apr_psprintf(p, "acl user:%s", n ? n
                                             : apr_psprintf(p, "%u",
                                                            acl->e[i].id));
                c->granted = acl->e[i].perm & mask;
                goto done;
            }
        }
        /* Every matching group entry is considered; access is granted
         * when one of them grants all of it. */
        for (i = 0; i < acl->n; i++) {
            const fx_acl_entry *e = &acl->e[i];
            int hit = (e->tag == FX_ACL_GROUP_OBJ && fx_in_groups(cred, c->gid))
                      || (e->tag == FX_ACL_GROUP
                          && fx_in_groups(cred, (gid_t)e->id));
            if (!hit) {
                continue;
            }
            if (matched < 0 || ((e->perm & mask & c->need) == (unsigned)c->need)) {
                matched = i;
                if ((e->perm & mask & c->need) == (unsigned)c->need) {
                    break;
                }
            }
        }
        if (matched >= 0) {
            const fx_acl_entry *e = &acl->e[matched];
            if (e->tag == FX_ACL_GROUP_OBJ) {
                c->perm_class = "group";
            }
            else {
                const char *n = fx_group_name(p, (gid_t)e->id);
                c->perm_class = apr_psprintf(p, "acl group:%s", n ? n
                                             : apr_psprintf(p, "%u", e->id));
            }
            c->granted = e->perm & mask;
        }
        else {
            c->perm_class = "other";
            c->granted = 0;
            for (i = 0; i < acl->n; i++) {
                if (acl->e[i].tag == FX_ACL_OTHER) {
                    c->granted = acl->e[i].perm;
                }
            }
        }
    }
done:
    c->mode_allows = (c->granted & c->need) == c->need;
}

/* What the kernel, the ACL and the mount say of c, after the mode bits. */
static void fx_perm_check_kernel(apr_pool_t *p, fx_perm_comp *c,
                                 const fx_perm_cred *cred)
{
    struct statvfs vfs;
    unsigned char acl_buf[4 + 8 * 32];
    ssize_t n;

    /* Where bits and kernel both allow there is nothing to explain, so the
     * ACL and the mount are read only for a component that denies (or
     * where bits and kernel disagree). */
    if (cred->kernel_check && c->need) {
        int amode = ((c->need & FX_PERM_R) ? R_OK : 0)
                    | ((c->need & FX_PERM_W) ? W_OK : 0)
                    | ((c->need & FX_PERM_X) ? X_OK : 0);
        c->kernel_allows = faccessat(AT_FDCWD, c->path, amode, AT_EACCESS) == 0;
        if (c->kernel_allows && c->mode_allows) {
            return;
        }
    }
    n = getxattr(c->path, "system.posix_acl_access", acl_buf, sizeof(acl_buf));
    if (n < 0 && errno == ENOTSUP) {
        c->acl_unsupported = 1;
    }
    if (n > 0 && fx_acl_parse(acl_buf, (apr_size_t)n, &c->acl) == 0) {
        c->has_acl = 1;
        fx_verdict(p, c, cred);
    }
    else if ((n < 0 && errno == ERANGE) || n > 0) {
        /* more entries than fx_acl holds (or none it understands): say so
         * rather than judge by the mode bits alone */
        c->acl_unreadable = 1;
    }
    if (statvfs(c->path, &vfs) == 0) {
        c->mount_known = 1;
        c->mount_rdonly = (vfs.f_flag & ST_RDONLY) != 0;
        c->mount_noexec = (vfs.f_flag & ST_NOEXEC) != 0;
    }
}

/* lstat (and stat through a link) and the mode-bit verdict.  With
 * can_defer, a directory whose bits grant search is left for the walk to
 * settle (*deferred = 1): the next component's lstat proves or refutes the
 * search permission at no extra system call. */
static int fx_perm_examine_ids(apr_pool_t *p, const char *path, int need,
                               const fx_perm_cred *cred, fx_perm_comp *c,
                               int can_defer, int *deferred)
{
    struct stat lst, st;

    memset(c, 0, sizeof(*c));
    *deferred = 0;
    c->path = path;
    c->need = need;
    c->kernel_allows = -1;
    if (lstat(path, &lst) != 0) {
        return errno;
    }
    st = lst;
    c->type = fx_type_name(lst.st_mode);
    if (S_ISLNK(lst.st_mode)) {
        char target[4096];
        ssize_t len = readlink(path, target, sizeof(target) - 1);
        if (len >= 0) {
            c->link_target = apr_pstrmemdup(p, target, (apr_size_t)len);
        }
        if (stat(path, &st) != 0) {
            return errno;
        }
    }
    c->mode = (unsigned)st.st_mode;
    fx_perm_mode_string(c->mode, c->mode_str);
    apr_snprintf(c->mode_oct, sizeof(c->mode_oct), "%04o",
                 (unsigned)(st.st_mode & 07777));
    c->uid = st.st_uid;
    c->gid = st.st_gid;
    c->owner = c->group = NULL;     /* names: fx_perm_name_comp() */

    fx_verdict(p, c, cred);
    if (can_defer && need == FX_PERM_X && c->mode_allows && S_ISDIR(lst.st_mode)
        && cred->kernel_check) {
        *deferred = 1;
        return 0;
    }
    fx_perm_check_kernel(p, c, cred);
    return 0;
}

/* Owner and group names cost an NSS lookup each (a read of /etc/passwd
 * or /etc/group without nscd): only the components that are reported get
 * them. */
void fx_perm_name_comp(apr_pool_t *p, fx_perm_comp *c)
{
    if (!c->owner) {
        c->owner = fx_user_name(p, c->uid);
    }
    if (!c->group) {
        c->group = fx_group_name(p, c->gid);
    }
}

int fx_perm_examine(apr_pool_t *p, const char *path, int need,
                    const fx_perm_cred *cred, fx_perm_comp *c)
{
    int deferred;
    int rv = fx_perm_examine_ids(p, path, need, cred, c, 0, &deferred);
    if (rv == 0) {
        fx_perm_name_comp(p, c);
    }
    return rv;
}

static int fx_denies(const fx_perm_comp *c)
{
    return !c->mode_allows || c->kernel_allows == 0;
}

/* A held directory without its proof: ask the kernel; 1 when it denies. */
static int fx_settle_held(apr_pool_t *p, fx_perm_comp *held,
                          const fx_perm_cred *cred, fx_perm_walk_result *out)
{
    fx_perm_check_kernel(p, held, cred);
    if (fx_denies(held)) {
        fx_perm_name_comp(p, held);
        out->denier = held;
        return 1;
    }
    return 0;
}

void fx_perm_walk(apr_pool_t *p, const char *path, int final_need,
                  const fx_perm_cred *cred, fx_perm_walk_result *out)
{
    const char *s = path;
    char *prefix = apr_palloc(p, strlen(path) + 2);
    apr_size_t plen = 0;
    fx_perm_comp *held = NULL;      /* a directory awaiting its proof */

    memset(out, 0, sizeof(*out));
    out->world_writable = apr_array_make(p, 2, sizeof(const char *));
    if (!path || path[0] != '/') {
        return;
    }
    prefix[plen++] = '/';
    prefix[plen] = '\0';
    for (;;) {
        fx_perm_comp *c = apr_palloc(p, sizeof(*c));
        const char *seg, *next;
        int last, rv, deferred;

        while (*s == '/') {
            s++;
        }
        /* Is this the last component? (prefix is the one being examined) */
        next = s;
        last = (*next == '\0');
        rv = fx_perm_examine_ids(p, apr_pstrmemdup(p, prefix, plen),
                                 last ? final_need : FX_PERM_X, cred, c,
                                 !last, &deferred);
        out->n_examined++;
        if (held) {
            /* The kernel looked inside the held directory to answer this
             * lstat (ENOENT too: the name was searched for): that is its
             * search permission.  Anything else is settled the long way. */
            if (rv == 0 || rv == ENOENT) {
                held->kernel_allows = 1;
            }
            else if (fx_settle_held(p, held, cred, out)) {
                return;
            }
            held = NULL;
        }
        if (rv != 0) {
            out->missing = c->path;
            out->missing_errno = rv;
            return;
        }
        if ((c->mode & 0002) && !((c->mode & S_IFMT) == S_IFDIR
                                  && (c->mode & S_ISVTX))) {
            APR_ARRAY_PUSH(out->world_writable, const char *) = c->path;
        }
        if (deferred) {
            held = c;
        }
        else if (!out->denier && fx_denies(c)) {
            fx_perm_name_comp(p, c);
            out->denier = c;
            /* Stop: nothing below is reachable for the server either. */
            return;
        }
        if (last) {
            return;
        }
        if ((c->mode & S_IFMT) != S_IFDIR) {
            out->missing = c->path;
            out->missing_errno = ENOTDIR;
            return;
        }
        seg = s;
        while (*s && *s != '/') {
            s++;
        }
        if (s - seg == 1 && seg[0] == '.') {
            /* the same directory comes again: no proof from a child */
            if (held && fx_settle_held(p, held, cred, out)) {
                return;
            }
            held = NULL;
            continue;
        }
        if (plen > 1) {
            prefix[plen++] = '/';
        }
        memcpy(prefix + plen, seg, (apr_size_t)(s - seg));
        plen += (apr_size_t)(s - seg);
        prefix[plen] = '\0';
        while (*s == '/') {
            s++;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* hints                                                                   */

const char *fx_shell_quote(apr_pool_t *p, const char *s)
{
    const char *c;
    char *out, *o;
    for (c = s; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
              || (*c >= '0' && *c <= '9') || strchr("/._-+:@,", *c))) {
            break;
        }
    }
    if (!*c && *s) {
        return s;
    }
    out = o = apr_palloc(p, strlen(s) * 4 + 3);
    *o++ = '\'';
    for (c = s; *c; c++) {
        if (*c == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        }
        else {
            *o++ = *c;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

int fx_perm_looks_secret(apr_pool_t *p, const fx_perm_comp *c,
                         const char **why)
{
    const char *base;
    unsigned m = c->mode & 07777;

    if (why) {
        *why = NULL;
    }
    if (!c->type || strcmp(c->type, "file") != 0 || !c->path) {
        return 0;
    }
    base = strrchr(c->path, '/');
    base = base ? base + 1 : c->path;
    if (fx_protect_secret_name(c->path)) {
        if (why) {
            *why = apr_pstrcat(p, "name ", base, NULL);
        }
        return 1;
    }
    if (m == 0600 || m == 0640) {
        if (why) {
            *why = apr_pstrcat(p, "mode ", c->mode_oct, NULL);
        }
        return 1;
    }
    return 0;
}

/* Can the component's group be changed to the server's without anyone
 * losing access?  Yes when its group grants nothing 'other' lacks, when
 * the group is the owner's private group (same name: only the owner, who
 * keeps the owner class), or root's group (only root, whom no mode bit
 * stops). */
static int fx_group_change_safe(const fx_perm_comp *c)
{
    unsigned g = (c->mode >> 3) & 7, o = c->mode & 7;
    if ((g & ~o) == 0 || c->gid == 0) {
        return 1;
    }
    return c->owner && c->group && strcmp(c->owner, c->group) == 0;
}

static void fx_fix_step(apr_pool_t *p, fx_perm_fix *f, const char *a0,
                        const char *a1, const char *a2, const char *a3)
{
    const char **argv = apr_pcalloc(p, 5 * sizeof(*argv));
    argv[0] = a0;
    argv[1] = a1;
    argv[2] = a2;
    argv[3] = a3;
    APR_ARRAY_PUSH(f->argv, const char **) = argv;
}

/* What `setfacl -m u:UID:BITS` leaves: the entry set to exactly bits (an
 * ACL made from the mode bits first when there is none) and the mask
 * recomputed as the union of the group class, as setfacl does. */
static void fx_acl_set_user(fx_perm_fix *f, unsigned uid, unsigned bits)
{
    fx_acl *a = &f->acl;
    unsigned mask = 0;
    int i, found = 0, has_mask = 0;

    if (!f->has_acl) {
        a->n = 0;
        a->e[a->n].tag = FX_ACL_USER_OBJ;
        a->e[a->n].perm = (f->mode >> 6) & 7;
        a->e[a->n++].id = 0;
        a->e[a->n].tag = FX_ACL_GROUP_OBJ;
        a->e[a->n].perm = (f->mode >> 3) & 7;
        a->e[a->n++].id = 0;
        a->e[a->n].tag = FX_ACL_OTHER;
        a->e[a->n].perm = f->mode & 7;
        a->e[a->n++].id = 0;
        f->has_acl = 1;
    }
    for (i = 0; i < a->n; i++) {
        if (a->e[i].tag == FX_ACL_USER && a->e[i].id == uid) {
            a->e[i].perm = bits;
            found = 1;
        }
    }
    if (!found && a->n < (int)(sizeof(a->e) / sizeof(a->e[0])) - 1) {
        a->e[a->n].tag = FX_ACL_USER;
        a->e[a->n].perm = bits;
        a->e[a->n++].id = uid;
    }
    for (i = 0; i < a->n; i++) {
        if (a->e[i].tag == FX_ACL_GROUP_OBJ || a->e[i].tag == FX_ACL_USER
            || a->e[i].tag == FX_ACL_GROUP) {
            mask |= a->e[i].perm;
        }
    }
    for (i = 0; i < a->n; i++) {
        if (a->e[i].tag == FX_ACL_MASK) {
            a->e[i].perm = mask;
            has_mask = 1;
        }
    }
    if (!has_mask) {
        a->e[a->n].tag = FX_ACL_MASK;
        a->e[a->n].perm = mask;
        a->e[a->n++].id = 0;
    }
    /* with an ACL, the mode's group bits show the mask */
    f->mode = (f->mode & ~(unsigned)070) | (mask << 3);
}

int fx_perm_plan(apr_pool_t *p, const fx_perm_comp *c,
                 const fx_perm_cred *cred, const char *user,
                 const char *group, fx_perm_fix *f)
{
    const char *q = fx_shell_quote(p, c->path);
    int missing = c->need & ~c->granted;
    const char *bits, *all = fx_perm_bits(p, c->need);
    const char *gname = c->group ? c->group
                                 : apr_psprintf(p, "%ld", (long)c->gid);
    int secret;

    memset(f, 0, sizeof(*f));
    f->argv = apr_array_make(p, 2, sizeof(const char **));
    f->mode = c->mode;
    f->gid = c->gid;
    f->has_acl = c->has_acl;
    f->acl = c->acl;
    /* Serving needs r and x only: a plan never hands out write access. */
    if (c->mode_allows || !c->need || (c->need & FX_PERM_W)) {
        return 0;
    }
    if (!missing) {
        missing = c->need;
    }
    bits = fx_perm_bits(p, missing);
    secret = fx_perm_looks_secret(p, c, &f->secret_why);
    if (secret) {
        f->warning = apr_pstrcat(p, c->path, " looks like a file of secrets (",
                                 f->secret_why, "): give only the server "
                                 "access to it, never every local user "
                                 "(no chmod o+r)",
                                 strncmp(f->secret_why, "name ", 5) == 0
                                 ? "; the application reads it from disk, "
                                   "so keep its URL denied to clients."
                                 : ".", NULL);
    }
    if (strcmp(c->perm_class, "owner") == 0) {
        fx_fix_step(p, f, "chmod", apr_pstrcat(p, "u+", bits, NULL), c->path,
                    NULL);
        f->mode |= (unsigned)missing << 6;
        f->hint = apr_pstrcat(p, "chmod u+", bits, " ", q, NULL);
        return 1;
    }
    /* With an ACL the mode's group bits are the mask (chmod g+ would
     * widen every named entry): the owner's bits stay chmod u+, the rest
     * is a named entry. */
    if (c->has_acl) {
        /* setfacl recomputes the mask, so a named entry is enough. */
        const char *spec = apr_pstrcat(p, "u:", user, ":", all, NULL);
        fx_fix_step(p, f, "setfacl", "-m", spec, c->path);
        fx_acl_set_user(f, (unsigned)cred->uid, (unsigned)c->need);
        f->needs_acl_support = 1;
        f->hint = apr_pstrcat(p, "setfacl -m ", spec, " ", q, NULL);
        return 1;
    }
    if (strcmp(c->perm_class, "group") == 0) {
        fx_fix_step(p, f, "chmod", apr_pstrcat(p, "g+", bits, NULL), c->path,
                    NULL);
        f->mode |= (unsigned)missing << 3;
        f->hint = apr_pstrcat(p, "chmod g+", bits, " ", q, NULL);
        return 1;
    }
    if (fx_group_change_safe(c)) {
        unsigned old_g = (c->mode >> 3) & 7;
        unsigned new_g = (old_g & ~(unsigned)FX_PERM_W) | (unsigned)c->need;
        /* g+ keeps the old group's bits for the server's group: never
         * hand it the old group's write permission */
        const char *mode_arg = (old_g & FX_PERM_W)
            ? apr_pstrcat(p, "g=", fx_perm_bits(p, (int)new_g), NULL)
            : apr_pstrcat(p, "g+", fx_perm_bits(p, c->need & ~(int)old_g
                                                ? c->need & ~(int)old_g
                                                : c->need), NULL);
        const char *cmds = apr_pstrcat(p, "chgrp ", group, " ", q,
                                       " && chmod ", mode_arg, " ", q, NULL);
        fx_fix_step(p, f, "chgrp", group, c->path, NULL);
        fx_fix_step(p, f, "chmod", mode_arg, c->path, NULL);
        f->gid = cred->gid;
        f->mode = (f->mode & ~(unsigned)070) | (new_g << 3);
        f->hint = secret
            ? apr_pstrcat(p, cmds, " (", c->path, " looks like a file of "
                          "secrets, ", f->secret_why, ": only the server's "
                          "group ", group, " gets read access; never chmod "
                          "o+r it)", NULL)
            : apr_pstrcat(p, cmds, " (for the server only; chmod o+", bits,
                          " ", q, " would open it to every local user)", NULL);
        return 1;
    }
    /* The group has access a chgrp would take away: a named ACL entry for
     * the server user changes nothing for anyone else. */
    {
        const char *spec = apr_pstrcat(p, "u:", user, ":", all, NULL);
        const char *cmd = apr_pstrcat(p, "setfacl -m ", spec, " ", q, NULL);
        fx_fix_step(p, f, "setfacl", "-m", spec, c->path);
        fx_acl_set_user(f, (unsigned)cred->uid, (unsigned)c->need);
        f->needs_acl_support = 1;
        f->hint = secret
            ? apr_pstrcat(p, cmd, " (", c->path, " looks like a file of "
                          "secrets, ", f->secret_why, ": only the server user "
                          "gets read access, and group ", gname, " keeps its "
                          "own; needs a filesystem with POSIX ACLs; never "
                          "chmod o+r it)", NULL)
            : apr_pstrcat(p, cmd, " (for the server user only: chgrp would "
                          "take group ", gname, "'s access away; or chmod o+",
                          bits, " ", q, " to open it to every local user)",
                          NULL);
        return 1;
    }
}

int fx_perm_verify(apr_pool_t *p, const fx_perm_comp *c,
                   const fx_perm_fix *fix, const fx_perm_cred *cred)
{
    fx_perm_comp after = *c;
    after.mode = (c->mode & ~(unsigned)07777) | (fix->mode & 07777);
    after.gid = fix->gid;
    after.has_acl = fix->has_acl;
    after.acl = fix->acl;
    fx_verdict(p, &after, cred);
    return after.mode_allows;
}

const char *fx_perm_hint(apr_pool_t *p, const fx_perm_comp *c,
                         const char *user, const char *group)
{
    fx_perm_fix f;
    /* the hint text does not depend on the server's own ids beyond the
     * class c records, except for the simulated state */
    fx_perm_cred none = { (uid_t)-1, (gid_t)-1, NULL, 0, 0 };
    return fx_perm_plan(p, c, &none, user, group, &f) ? f.hint : NULL;
}

const char *fx_perm_process_label(apr_pool_t *p)
{
    static const char *const files[] = {
        "/proc/self/attr/apparmor/current", "/proc/self/attr/current", NULL
    };
    int i;
    for (i = 0; files[i]; i++) {
        char buf[256];
        ssize_t n;
        int fd = open(files[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0')) {
            n--;
        }
        if (n <= 0) {
            continue;
        }
        buf[n] = '\0';
        if (strcmp(buf, "unconfined") == 0) {
            return NULL;
        }
        return apr_pstrdup(p, buf);
    }
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Options                                                                 */

int fx_option_word(const char *w, apr_size_t len, unsigned *bits)
{
    static const struct { const char *name; unsigned bits; } names[] = {
        { "Indexes", FX_OPT_INDEXES },
        { "Includes", FX_OPT_INCLUDES | FX_OPT_INC_WITH_EXEC },
        { "IncludesNOEXEC", FX_OPT_INCLUDES },
        { "FollowSymLinks", FX_OPT_SYM_LINKS },
        { "SymLinksIfOwnerMatch", FX_OPT_SYM_OWNER },
        { "ExecCGI", FX_OPT_EXECCGI },
        { "MultiViews", FX_OPT_MULTI },
        { "RunScripts", FX_OPT_MULTI | FX_OPT_EXECCGI },
        { "All", FX_OPT_INDEXES | FX_OPT_INCLUDES | FX_OPT_INC_WITH_EXEC
                 | FX_OPT_SYM_LINKS | FX_OPT_EXECCGI },
        { "None", 0 },
    };
    apr_size_t i;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) == len
            && strncasecmp(names[i].name, w, len) == 0) {
            *bits = names[i].bits;
            return 1;
        }
    }
    *bits = 0;
    return 0;
}

static unsigned fx_option_bits(const char *w, apr_size_t len)
{
    unsigned bits;
    fx_option_word(w, len, &bits);
    return bits;
}

int fx_options_effect(const char *args, unsigned bit)
{
    const char *s = args;
    int effect = -1, first = 1;

    while (s && *s) {
        const char *w;
        char action = 0;
        apr_size_t len;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (!*s) {
            break;
        }
        if (*s == '"' || *s == '\'') {
            s++;
        }
        if (*s == '+' || *s == '-') {
            action = *s++;
        }
        else if (first) {
            effect = 0;             /* absolute: everything starts off */
        }
        w = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '"' && *s != '\'') {
            s++;
        }
        len = (apr_size_t)(s - w);
        if (*s == '"' || *s == '\'') {
            s++;
        }
        first = 0;
        if (fx_option_bits(w, len) & bit) {
            effect = (action == '-') ? 0 : 1;
        }
    }
    return effect;
}
