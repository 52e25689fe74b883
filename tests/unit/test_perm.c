/* test_perm.c — unit tests for fx_perm.c on real temporary files: mode
 * strings, Options effects, POSIX ACL parsing (real ACLs set with setfacl),
 * the component walk as an unprivileged user (modes, classes, world-writable
 * components), the kernel cross-check in a child that really drops to that
 * user, and the hints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "fx_perm.h"
#include "unit.h"

#define NOBODY 65534

static void test_mode_string(void)
{
    char m[11];
    fx_perm_mode_string(S_IFDIR | 0700, m);
    CHECK_STR(m, "drwx------");
    fx_perm_mode_string(S_IFREG | 0600, m);
    CHECK_STR(m, "-rw-------");
    fx_perm_mode_string(S_IFDIR | 01777, m);
    CHECK_STR(m, "drwxrwxrwt");
    fx_perm_mode_string(S_IFREG | 04755, m);
    CHECK_STR(m, "-rwsr-xr-x");
    fx_perm_mode_string(S_IFIFO | 0644, m);
    CHECK_STR(m, "prw-r--r--");
}

static void test_options(void)
{
    CHECK(fx_options_effect("Indexes FollowSymLinks", FX_OPT_INDEXES) == 1);
    CHECK(fx_options_effect("Indexes FollowSymLinks", FX_OPT_EXECCGI) == 0);
    CHECK(fx_options_effect("-Indexes", FX_OPT_INDEXES) == 0);
    CHECK(fx_options_effect("-Indexes", FX_OPT_SYM_LINKS) == -1);
    CHECK(fx_options_effect("+ExecCGI -Indexes", FX_OPT_EXECCGI) == 1);
    CHECK(fx_options_effect("None", FX_OPT_SYM_LINKS) == 0);
    CHECK(fx_options_effect("All", FX_OPT_INDEXES) == 1);
    CHECK(fx_options_effect("All", FX_OPT_MULTI) == 0);
    CHECK(fx_options_effect("None +Indexes", FX_OPT_INDEXES) == 1);
    CHECK(fx_options_effect("indexes", FX_OPT_INDEXES) == 1);
    CHECK(fx_options_effect("+FollowSymLinks -SymLinksIfOwnerMatch",
                            FX_OPT_SYM_OWNER) == 0);
    CHECK(fx_options_effect("+IndexesX", FX_OPT_INDEXES) == -1);
}

static void test_acl_parse(apr_pool_t *p)
{
    /* version 2; user_obj rwx; user 65534 ---; group_obj r-x; mask r-x;
     * other r-- */
    static const unsigned char bin[] = {
        2, 0, 0, 0,
        0x01, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,
        0x02, 0, 0, 0, 0xfe, 0xff, 0, 0,
        0x04, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
        0x10, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
        0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
    };
    fx_acl acl;
    const char *name = fx_user_name(p, NOBODY);
    CHECK(fx_acl_parse(bin, sizeof(bin), &acl) == 0);
    CHECK(acl.n == 5);
    CHECK(acl.e[1].tag == FX_ACL_USER && acl.e[1].id == NOBODY
          && acl.e[1].perm == 0);
    CHECK_STR(fx_acl_text(p, &acl),
              apr_psprintf(p, "user::rwx,user:%s:---,group::r-x,mask::r-x,"
                           "other::r--", name ? name : "65534"));
    CHECK(fx_acl_parse(bin, sizeof(bin) - 1, &acl) == -1);     /* torn */
    {
        unsigned char bad[sizeof(bin)];
        memcpy(bad, bin, sizeof(bin));
        bad[0] = 1;                                             /* version */
        CHECK(fx_acl_parse(bad, sizeof(bad), &acl) == -1);
        memcpy(bad, bin, sizeof(bin));
        bad[4] = 0x40;                                          /* tag */
        CHECK(fx_acl_parse(bad, sizeof(bad), &acl) == -1);
    }
}

static char base[256];

static const char *mk(apr_pool_t *p, const char *rel, int dir, int mode,
                      int uid, int gid)
{
    const char *path = apr_pstrcat(p, base, "/", rel, NULL);
    if (dir) {
        CHECK(mkdir(path, 0700) == 0);
    }
    else {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f) {
            fputs("x\n", f);
            fclose(f);
        }
    }
    CHECK(chown(path, (uid_t)uid, (gid_t)gid) == 0);
    CHECK(chmod(path, (mode_t)mode) == 0);
    return path;
}

static void test_walk(apr_pool_t *p)
{
    fx_perm_cred nobody = { NOBODY, NOBODY, NULL, 0, 0 };
    gid_t extra[1] = { 4242 };
    fx_perm_cred with_group = { NOBODY, NOBODY, extra, 1, 0 };
    fx_perm_walk_result w;
    const char *d700, *f600, *ww, *g, *gf, *ok, *okf;
    char cmd[600];

    d700 = mk(p, "d700", 1, 0700, 0, 0);
    mk(p, "d700/inner", 1, 0755, 0, 0);
    fx_perm_walk(p, apr_pstrcat(p, d700, "/inner/index.html", NULL),
                 FX_PERM_R, &nobody, &w);
    CHECK(w.denier != NULL);
    if (w.denier) {
        CHECK_STR(w.denier->path, d700);
        CHECK_STR(w.denier->type, "directory");
        CHECK_STR(w.denier->mode_str, "drwx------");
        CHECK_STR(w.denier->mode_oct, "0700");
        CHECK_STR(w.denier->perm_class, "other");
        CHECK_STR(w.denier->owner, "root");
        CHECK(w.denier->uid == 0 && w.denier->gid == 0);
        CHECK(w.denier->need == FX_PERM_X && w.denier->granted == 0);
        CHECK_STR(fx_perm_hint(p, w.denier, "www-data", "www-data"),
                  apr_psprintf(p, "chgrp www-data %s && chmod g+x %s (for "
                               "the server only; chmod o+x %s would open it "
                               "to every local user)", d700, d700, d700));
    }

    ok = mk(p, "ok", 1, 0755, 0, 0);
    f600 = mk(p, "ok/secret.txt", 0, 0600, 0, 0);
    fx_perm_walk(p, f600, FX_PERM_R, &nobody, &w);
    CHECK(w.denier && strcmp(w.denier->path, f600) == 0);
    if (w.denier) {
        CHECK_STR(w.denier->type, "file");
        CHECK_STR(w.denier->mode_str, "-rw-------");
        CHECK_STR(w.denier->mode_oct, "0600");
        CHECK(w.denier->need == FX_PERM_R);
    }
    okf = mk(p, "ok/public.txt", 0, 0644, 0, 0);
    fx_perm_walk(p, okf, FX_PERM_R, &nobody, &w);
    CHECK(w.denier == NULL && w.missing == NULL);
    CHECK(w.world_writable->nelts == 0);
    fx_perm_walk(p, apr_pstrcat(p, ok, "/nothere/x", NULL), FX_PERM_R,
                 &nobody, &w);
    CHECK(w.denier == NULL);
    CHECK_STR(w.missing, apr_pstrcat(p, ok, "/nothere", NULL));

    /* world-writable directory (not sticky) on the path */
    ww = mk(p, "ww", 1, 0777, 0, 0);
    mk(p, "ww/f.txt", 0, 0644, 0, 0);
    fx_perm_walk(p, apr_pstrcat(p, ww, "/f.txt", NULL), FX_PERM_R, &nobody,
                 &w);
    CHECK(w.denier == NULL);
    CHECK(w.world_writable->nelts == 1
          && strcmp(APR_ARRAY_IDX(w.world_writable, 0, const char *), ww) == 0);

    /* group class: the server is in the directory's group */
    g = mk(p, "g", 1, 0700, 0, 4242);
    gf = mk(p, "g/f.txt", 0, 0644, 0, 0);
    fx_perm_walk(p, gf, FX_PERM_R, &with_group, &w);
    CHECK(w.denier && strcmp(w.denier->perm_class, "group") == 0);
    if (w.denier) {
        CHECK_STR(fx_perm_hint(p, w.denier, "nobody", "nogroup"),
                  apr_psprintf(p, "chmod g+x %s", g));
    }
    chmod(g, 0710);
    fx_perm_walk(p, gf, FX_PERM_R, &with_group, &w);
    CHECK(w.denier == NULL);
    /* owner class */
    chown(g, NOBODY, 0);
    chmod(g, 0070);
    fx_perm_walk(p, gf, FX_PERM_R, &with_group, &w);
    CHECK(w.denier && strcmp(w.denier->perm_class, "owner") == 0);
    if (w.denier) {
        CHECK_STR(fx_perm_hint(p, w.denier, "nobody", "nogroup"),
                  apr_psprintf(p, "chmod u+x %s", g));
    }

    /* a real POSIX ACL that denies where the mode bits allow */
    mk(p, "acl", 1, 0755, 0, 0);
    mk(p, "acl/f.txt", 0, 0644, 0, 0);
    snprintf(cmd, sizeof(cmd), "setfacl -m u:%d:--- %s/acl", NOBODY, base);
    if (system(cmd) != 0) {
        fprintf(stderr, "SKIP acl: setfacl failed\n");
        return;
    }
    fx_perm_walk(p, apr_pstrcat(p, base, "/acl/f.txt", NULL), FX_PERM_R,
                 &nobody, &w);
    CHECK(w.denier && w.denier->has_acl);
    if (w.denier) {
        const char *n = fx_user_name(p, NOBODY);
        CHECK_STR(w.denier->path, apr_pstrcat(p, base, "/acl", NULL));
        CHECK_STR(w.denier->perm_class, apr_pstrcat(p, "acl user:", n, NULL));
        CHECK_STR(fx_acl_text(p, &w.denier->acl),
                  apr_psprintf(p, "user::rwx,user:%s:---,group::r-x,"
                               "mask::r-x,other::r-x", n));
        CHECK_STR(fx_perm_hint(p, w.denier, n, "nogroup"),
                  apr_psprintf(p, "setfacl -m u:%s:x %s/acl", n, base));
        /* the mode alone would allow: 0755 */
        CHECK_STR(w.denier->mode_oct, "0755");
        /* the planned named entry, evaluated with the recomputed mask,
         * grants; the ACL as it is does not */
        {
            fx_perm_fix f;
            CHECK(fx_perm_plan(p, w.denier, &nobody, n, "nogroup", &f));
            CHECK(f.needs_acl_support && f.has_acl);
            CHECK(fx_perm_verify(p, w.denier, &f, &nobody));
            f.acl = w.denier->acl;
            CHECK(!fx_perm_verify(p, w.denier, &f, &nobody));
        }
    }

    /* a named group entry grants, but the mask takes it away */
    mk(p, "aclg", 1, 0700, 0, 0);
    snprintf(cmd, sizeof(cmd), "setfacl -m g:4242:rx,m::r %s/aclg", base);
    CHECK(system(cmd) == 0);
    fx_perm_walk(p, apr_pstrcat(p, base, "/aclg/x", NULL), FX_PERM_R,
                 &with_group, &w);
    CHECK(w.denier && w.denier->has_acl);
    if (w.denier) {
        CHECK_STR(w.denier->perm_class, "acl group:4242");
        CHECK(w.denier->granted == FX_PERM_R && w.denier->need == FX_PERM_X);
    }
    snprintf(cmd, sizeof(cmd), "setfacl -m m::rx %s/aclg", base);
    CHECK(system(cmd) == 0);
    fx_perm_walk(p, apr_pstrcat(p, base, "/aclg", NULL), FX_PERM_X,
                 &with_group, &w);
    CHECK(w.denier == NULL);
}

/* The planned fix for the denier of path, which must exist. */
static int plan_for(apr_pool_t *p, const char *path, const fx_perm_cred *cred,
                    fx_perm_walk_result *w, fx_perm_fix *f)
{
    fx_perm_walk(p, path, FX_PERM_R, cred, w);
    CHECK(w->denier != NULL);
    if (!w->denier) {
        return 0;
    }
    return fx_perm_plan(p, w->denier, cred, "nobody", "nogroup", f);
}

static const char *argv_text(apr_pool_t *p, const fx_perm_fix *f)
{
    const char *s = "";
    int i, j;
    for (i = 0; i < f->argv->nelts; i++) {
        const char **a = APR_ARRAY_IDX(f->argv, i, const char **);
        for (j = 0; a[j]; j++) {
            s = apr_pstrcat(p, s, j ? " " : (i ? "; " : ""), a[j], NULL);
        }
    }
    return s;
}

/* Secrets get the server's group (or an ACL entry) first, never o+r; the
 * plan's simulated state is verified by the walk's own model, and the same
 * change applied for real makes the walk pass. */
static void test_plan(apr_pool_t *p)
{
    fx_perm_cred nobody = { NOBODY, NOBODY, NULL, 0, 0 };
    fx_perm_walk_result w;
    fx_perm_fix f;
    const char *wp, *f640, *f660, *dir, *u, *t;
    char cmd[600];

    mk(p, "plan", 1, 0755, 0, 0);
    /* WordPress's wp-config.php, 0600 root: group first, with a warning */
    wp = mk(p, "plan/wp-config.php", 0, 0600, 0, 0);
    CHECK(plan_for(p, wp, &nobody, &w, &f));
    CHECK(f.warning != NULL && strstr(f.warning, "secrets") != NULL);
    CHECK_STR(f.secret_why, "name wp-config.php");
    CHECK_STR(argv_text(p, &f), apr_psprintf(p, "chgrp nogroup %s; chmod g+r "
                                             "%s", wp, wp));
    t = apr_psprintf(p, "chgrp nogroup %s && chmod g+r %s (", wp, wp);
    CHECK(strncmp(f.hint, t, strlen(t)) == 0);
    CHECK(strstr(f.hint, "never chmod o+r") != NULL);
    CHECK(strstr(f.hint, "; chmod o+") == NULL && strstr(f.hint, "or chmod o+") == NULL);
    CHECK(f.gid == NOBODY && (f.mode & 0777) == 0640);
    CHECK(!fx_perm_verify(p, w.denier, &(fx_perm_fix){ .mode = w.denier->mode,
                          .gid = w.denier->gid }, &nobody));
    CHECK(fx_perm_verify(p, w.denier, &f, &nobody));
    /* applied for real, the walk agrees with the simulation */
    CHECK(chown(wp, 0, NOBODY) == 0 && chmod(wp, 0640) == 0);
    fx_perm_walk(p, wp, FX_PERM_R, &nobody, &w);
    CHECK(w.denier == NULL);

    /* a plain 0600 name is a secret by its mode */
    t = mk(p, "plan/notes.txt", 0, 0600, 0, 0);
    CHECK(plan_for(p, t, &nobody, &w, &f));
    CHECK_STR(f.secret_why, "mode 0600");
    CHECK(strstr(f.hint, "; chmod o+") == NULL && strstr(f.hint, "or chmod o+") == NULL);

    /* 0640 owned by someone else's group that can read it: chgrp would
     * take that group's access away; an ACL entry for the server only */
    f640 = mk(p, "plan/settings.php", 0, 0640, 1, 4242);
    CHECK(plan_for(p, f640, &nobody, &w, &f));
    CHECK_STR(argv_text(p, &f), apr_psprintf(p, "setfacl -m u:nobody:r %s",
                                             f640));
    CHECK(f.needs_acl_support);
    CHECK(strstr(f.hint, "group 4242 keeps its own") != NULL);
    CHECK(strstr(f.hint, "; chmod o+") == NULL && strstr(f.hint, "or chmod o+") == NULL);
    CHECK(fx_perm_verify(p, w.denier, &f, &nobody));
    snprintf(cmd, sizeof(cmd), "setfacl -m u:%d:r %s", NOBODY, f640);
    if (system(cmd) == 0) {
        fx_perm_walk(p, f640, FX_PERM_R, &nobody, &w);
        CHECK(w.denier == NULL);
    }

    /* 0660 in the owner's private group: the group may change, but the
     * server's group must not inherit its write bit: g=r, not g+r */
    u = fx_user_name(p, 1);
    f660 = mk(p, "plan/data.csv", 0, 0660, 1, 1);
    CHECK(plan_for(p, f660, &nobody, &w, &f));
    if (u && fx_group_name(p, 1) && strcmp(u, fx_group_name(p, 1)) == 0) {
        CHECK_STR(argv_text(p, &f), apr_psprintf(p, "chgrp nogroup %s; chmod "
                                                 "g=r %s", f660, f660));
        CHECK((f.mode & 070) == 040);
    }
    else {
        CHECK(strncmp(argv_text(p, &f), "setfacl -m u:nobody:r ", 22) == 0);
    }
    CHECK(fx_perm_verify(p, w.denier, &f, &nobody));

    /* a public file and a directory: the group first, o+ as the wider
     * alternative; never w */
    dir = mk(p, "plan/d", 1, 0700, 0, 0);
    mk(p, "plan/d/x.html", 0, 0644, 0, 0);
    fx_perm_walk(p, apr_pstrcat(p, dir, "/x.html", NULL), FX_PERM_R, &nobody,
                 &w);
    CHECK(w.denier && fx_perm_plan(p, w.denier, &nobody, "nobody", "nogroup",
                                   &f));
    if (w.denier) {
        CHECK(f.warning == NULL);
        CHECK_STR(argv_text(p, &f), apr_psprintf(p, "chgrp nogroup %s; chmod "
                                                 "g+x %s", dir, dir));
        CHECK(strstr(f.hint, apr_psprintf(p, "chmod o+x %s would open", dir)));
        CHECK(fx_perm_verify(p, w.denier, &f, &nobody));
    }
    CHECK(strstr(argv_text(p, &f), "+w") == NULL);
    CHECK(strstr(argv_text(p, &f), "o+") == NULL);
    /* the server owns a file that has an ACL: chmod u+, not a named entry
     * (which would never apply to the owner) */
    t = mk(p, "plan/own.txt", 0, 0070, NOBODY, 0);
    snprintf(cmd, sizeof(cmd), "setfacl -m g:4242:r %s", t);
    if (system(cmd) == 0) {
        CHECK(plan_for(p, t, &nobody, &w, &f));
        CHECK(w.denier && w.denier->has_acl);
        CHECK_STR(argv_text(p, &f), apr_psprintf(p, "chmod u+r %s", t));
        CHECK(fx_perm_verify(p, w.denier, &f, &nobody));
    }
    /* nothing to plan where the bits allow */
    fx_perm_walk(p, apr_pstrcat(p, dir, "/x.html", NULL), FX_PERM_R,
                 &(fx_perm_cred){ 0, 0, NULL, 0, 0 }, &w);
    CHECK(w.denier == NULL);
}

/* In a child that really is nobody: the kernel's verdict agrees. */
static void test_kernel_check(apr_pool_t *p)
{
    pid_t pid;
    int status;

    if (geteuid() != 0) {
        fprintf(stderr, "SKIP kernel check: not root\n");
        return;
    }
    pid = fork();
    if (pid == 0) {
        fx_perm_cred me = { NOBODY, NOBODY, NULL, 0, 1 };
        fx_perm_walk_result w;
        int bad = 0;
        if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
            _exit(99);
        }
        fx_perm_walk(p, apr_pstrcat(p, base, "/d700/inner", NULL), 0, &me, &w);
        bad += !(w.denier && w.denier->kernel_allows == 0
                 && !w.denier->mode_allows);
        fx_perm_walk(p, apr_pstrcat(p, base, "/acl/f.txt", NULL), FX_PERM_R,
                     &me, &w);
        bad += !(w.denier && w.denier->kernel_allows == 0
                 && !w.denier->mode_allows);
        fx_perm_walk(p, apr_pstrcat(p, base, "/ok/public.txt", NULL),
                     FX_PERM_R, &me, &w);
        bad += !(w.denier == NULL);
        _exit(bad);
    }
    CHECK(pid > 0);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_quote(apr_pool_t *p)
{
    CHECK_STR(fx_shell_quote(p, "/srv/www/a-b_c.d"), "/srv/www/a-b_c.d");
    CHECK_STR(fx_shell_quote(p, "/srv/my dir"), "'/srv/my dir'");
    CHECK_STR(fx_shell_quote(p, "/srv/it's"), "'/srv/it'\\''s'");
    CHECK_STR(fx_perm_bits(p, FX_PERM_R | FX_PERM_X), "rx");
}

int main(void)
{
    apr_pool_t *p;
    char cmd[300];

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_mode_string();
    test_options();
    test_acl_parse(p);
    test_quote(p);
    if (geteuid() == 0) {
        strcpy(base, "/tmp/fx-perm-XXXXXX");
        if (!mkdtemp(base)) {
            perror("mkdtemp");
            return 1;
        }
        chmod(base, 0755);
        test_walk(p);
        test_plan(p);
        test_kernel_check(p);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", base);
        }
    }
    else {
        fprintf(stderr, "SKIP walk tests: need root to chown\n");
    }
    apr_pool_destroy(p);
    apr_terminate();
    return unit_done();
}
