/* fx_perm.h — filesystem permission analysis without a running server:
 * given a path and a set of credentials (uid, gid, supplementary groups),
 * walk the path component by component and find the first one that denies
 * search (directories) or read (the final file), which permission class
 * applied (owner, group, other, or a POSIX ACL entry), the missing bit, the
 * mode in both forms, owner and group, world-writable components, the POSIX
 * ACL (parsed from the system.posix_acl_access xattr's binary form) and the
 * mount flags.  Also: how `Options` arguments affect one option bit.
 *
 * Pure: APR and libc only, no request_rec; unit tested by
 * tests/unit/test_perm.c on real temporary files. */
#ifndef FX_PERM_H
#define FX_PERM_H

#include <sys/types.h>
#include <apr_pools.h>
#include <apr_tables.h>

#define FX_PERM_R 4
#define FX_PERM_W 2
#define FX_PERM_X 1

typedef struct {
    uid_t uid;
    gid_t gid;
    const gid_t *groups;        /* supplementary groups */
    int ngroups;
    /* Cross-check each verdict with faccessat(AT_EACCESS).  Only meaningful
     * when these are the calling process's effective credentials. */
    int kernel_check;
} fx_perm_cred;

/* POSIX ACL entry tags, as in the xattr's binary form. */
#define FX_ACL_USER_OBJ  0x01
#define FX_ACL_USER      0x02
#define FX_ACL_GROUP_OBJ 0x04
#define FX_ACL_GROUP     0x08
#define FX_ACL_MASK      0x10
#define FX_ACL_OTHER     0x20

typedef struct {
    unsigned tag;
    unsigned perm;              /* FX_PERM_* bits */
    unsigned id;                /* uid/gid for USER/GROUP entries */
} fx_acl_entry;

typedef struct {
    int n;
    fx_acl_entry e[32];
} fx_acl;

/* Parse the binary system.posix_acl_access value (version 2, little
 * endian).  Returns 0 on success, -1 when the data is malformed. */
int fx_acl_parse(const void *buf, apr_size_t len, fx_acl *out);
/* "user::rwx,user:www-data:---,group::r-x,mask::r-x,other::---"
 * (ids are shown by name when they resolve, else as numbers). */
const char *fx_acl_text(apr_pool_t *p, const fx_acl *acl);

/* One examined path component. */
typedef struct {
    const char *path;
    const char *type;           /* "directory", "file", "symlink", "fifo",
                                   "socket", "char-device", "block-device" */
    unsigned mode;              /* st_mode, of the link target for links */
    char mode_str[11];          /* "drwx------" */
    char mode_oct[6];           /* "0700" */
    uid_t uid;
    gid_t gid;
    const char *owner;          /* user name or NULL */
    const char *group;          /* group name or NULL */
    const char *link_target;    /* readlink() text for symlinks */
    int need;                   /* FX_PERM_* bits required here */
    int granted;                /* FX_PERM_* bits the applying class grants */
    const char *perm_class;     /* "owner", "group", "other", "acl user:NAME",
                                   "acl group:NAME", "root" */
    int mode_allows;            /* mode bits and ACL grant `need` */
    int kernel_allows;          /* faccessat verdict, -1 when not checked */
    int has_acl;
    fx_acl acl;
    int acl_unsupported;        /* getxattr said ENOTSUP (when read) */
    int acl_unreadable;         /* an ACL larger than fx_acl holds: not
                                 * evaluated, and the entry says so */
    int mount_rdonly;
    int mount_noexec;
    int mount_known;
} fx_perm_comp;

typedef struct {
    fx_perm_comp *denier;       /* first component that denies, or NULL */
    apr_array_header_t *world_writable;   /* const char *: o+w, not sticky */
    const char *missing;        /* first component that does not exist */
    int missing_errno;          /* its lstat errno (ENOENT, ENOTDIR, ...) */
    int n_examined;
} fx_perm_walk_result;

/* Examine one path (no walk).  need: FX_PERM_* bits.  Returns 0, or the
 * errno of lstat. */
int fx_perm_examine(apr_pool_t *p, const char *path, int need,
                    const fx_perm_cred *cred, fx_perm_comp *out);

/* Walk an absolute path from "/".  Every directory above the last
 * component needs search (x); the last one needs final_need (0 = only
 * reaching it).  Stops at the first component that denies or does not
 * exist. */
void fx_perm_walk(apr_pool_t *p, const char *path, int final_need,
                  const fx_perm_cred *cred, fx_perm_walk_result *out);

/* "x", "r", "rx" */
const char *fx_perm_bits(apr_pool_t *p, int bits);
void fx_perm_mode_string(unsigned mode, char out[11]);

/* The smallest change that lets `user` (primary group `group`) through
 * the denying component c, as shell commands; never chmod 777.  The text
 * of fx_perm_plan()'s fix (NULL when the bits already allow). */
const char *fx_perm_hint(apr_pool_t *p, const fx_perm_comp *c,
                         const char *user, const char *group);

/* A planned permission change for one denying component, the steps as
 * argv vectors and the state the component has once they ran, so that
 * fx_perm_verify() can evaluate it with the same model as the walk.
 * Order of preference, narrowest for the server user first:
 *   the server owns it:        chmod u+BITS
 *   it is in the group:        chmod g+BITS
 *   an ACL decides:            setfacl -m u:USER:BITS
 *   'other' applies and nobody loses access by a group change (the
 *   group grants no more than 'other', or it is the owner's private
 *   group, or root's):         chgrp GROUP && chmod g+BITS (g=BITS when the
 *                              old group could write: never hand the
 *                              server write access)
 *   else:                      setfacl -m u:USER:BITS (needs ACL support)
 * Files that look like secrets (fx_perm_looks_secret) never get o+r, not
 * even as the alternative, and carry a warning; other components mention
 * chmod o+BITS as the wider alternative.  Never o+w, never w at all. */
typedef struct {
    const char *hint;               /* the sentence for "hint" */
    const char *warning;            /* secrets warning, or NULL */
    const char *secret_why;         /* "name wp-config.php", "mode 0600" */
    apr_array_header_t *argv;       /* const char ** (NULL-terminated) */
    /* the component after the steps */
    unsigned mode;
    gid_t gid;
    int has_acl;
    fx_acl acl;
    int needs_acl_support;          /* a setfacl step */
} fx_perm_fix;

/* 1 when c is a regular file that looks like it holds secrets: a name
 * fx_protect_secret_name() knows, or mode 0600/0640.  *why (if non-NULL)
 * gets "name NAME" or "mode 0600". */
int fx_perm_looks_secret(apr_pool_t *p, const fx_perm_comp *c,
                         const char **why);

/* Plans the fix for c as seen by cred (user, group: the names of cred's
 * uid and primary gid).  Returns 0 when there is nothing to change (the
 * bits allow; the kernel's reason is elsewhere). */
int fx_perm_plan(apr_pool_t *p, const fx_perm_comp *c,
                 const fx_perm_cred *cred, const char *user,
                 const char *group, fx_perm_fix *out);

/* Re-evaluates c with the fix applied (mode, group, ACL), by the same
 * access-check model as the walk.  1 when cred then gets c->need. */
int fx_perm_verify(apr_pool_t *p, const fx_perm_comp *c,
                   const fx_perm_fix *fix, const fx_perm_cred *cred);

/* A path quoted for a shell when it needs quoting. */
const char *fx_shell_quote(apr_pool_t *p, const char *s);

/* User and group names (thread-safe lookups), NULL when unknown. */
/* Fill in c->owner and c->group (names of c->uid, c->gid) if missing. */
void fx_perm_name_comp(apr_pool_t *p, fx_perm_comp *c);
/* Names of user and group ids.  By default every call asks NSS (a read of
 * /etc/passwd or /etc/group without nscd); the server installs a cached
 * lookup once per child (fx_fs.c), before any request thread exists. */
typedef const char *fx_perm_namer_fn(apr_pool_t *p, unsigned long id,
                                     int group);
void fx_perm_set_namer(fx_perm_namer_fn *fn);
const char *fx_perm_nss_name(apr_pool_t *p, unsigned long id, int group);
const char *fx_user_name(apr_pool_t *p, uid_t uid);
const char *fx_group_name(apr_pool_t *p, gid_t gid);

/* The LSM label of the calling process (/proc/self/attr/current), NULL
 * when none is readable or it is "unconfined". */
const char *fx_perm_process_label(apr_pool_t *p);

/* Option bits, same values as httpd's OPT_* (http_core.h). */
#define FX_OPT_INDEXES   1
#define FX_OPT_INCLUDES  2
#define FX_OPT_SYM_LINKS 4
#define FX_OPT_EXECCGI   8
#define FX_OPT_INC_WITH_EXEC 32
#define FX_OPT_SYM_OWNER 64
#define FX_OPT_MULTI     128

/* core.c set_options' word w[0..len) (case-insensitive): 1 and its bits
 * (the FX_OPT_* it sets, also what AllowOverride Options= must allow), or
 * 0 when it is no Options word. */
int fx_option_word(const char *w, apr_size_t len, unsigned *bits);

/* What one `Options` line (its arguments) does to option bit `bit`:
 * 1 turns it on, 0 turns it off, -1 leaves it alone.  A line without +/-
 * replaces every option, so it always touches the bit. */
int fx_options_effect(const char *args, unsigned bit);

#endif
