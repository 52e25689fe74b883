/* fuzz_perm.c — libFuzzer target for permission analysis (src/fx_perm.c)
 * on synthetic input: the POSIX ACL xattr decoder (binary, from disk),
 * its text form, Options argument effects, shell quoting of file names,
 * mode strings, and the component walk over a real scratch tree (made once
 * per process, modes from 000 to 777, symlinks, a fifo) with paths and
 * credentials from the input.  Oracles: a parsed ACL has sane tags and
 * count, quoting is shell-safe, a walk's denier is a component it examined
 * and lacks a bit it needed; its planned fix grants what was missing in the
 * walk's own model (fx_perm_verify), never writes, never opens a file of
 * secrets to 'other'.
 * FUZZ_SOURCES: src/fx_perm.c src/fx_protect.c */
#include "fuzz_util.h"
#include <sys/stat.h>
#include <unistd.h>
#include "fx_perm.h"

static char fz_root[64];

static void fz_tree_remove(void)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s 2>/dev/null; rm -rf %s",
             fz_root, fz_root);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", fz_root);
    }
}

static void fz_tree(void)
{
    static const unsigned modes[] = { 0, 0700, 0711, 0750, 0755, 0644, 0600,
                                      0444, 0111, 01777 };
    char path[128];
    unsigned k;
    if (fz_root[0]) {
        return;
    }
    strcpy(fz_root, "/tmp/fx-fuzz-perm-XXXXXX");
    if (!mkdtemp(fz_root)) {
        abort();
    }
    chmod(fz_root, 0755);
    atexit(fz_tree_remove);
    for (k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
        snprintf(path, sizeof(path), "%s/d%u", fz_root, k);
        mkdir(path, 0700);
        snprintf(path, sizeof(path), "%s/d%u/f", fz_root, k);
        close(creat(path, 0600));
        chmod(path, modes[(k + 3) % 10]);
        snprintf(path, sizeof(path), "%s/d%u", fz_root, k);
        chmod(path, modes[k]);
        snprintf(path, sizeof(path), "%s/l%u", fz_root, k);
        symlink(k & 1 ? "d4" : "/nonexistent", path);
    }
    snprintf(path, sizeof(path), "%s/fifo", fz_root);
    mkfifo(path, 0644);
}

/* Single-quoted or plain, and in either case no raw quote can end it. */
static void fz_check_quote(const char *q, const char *s)
{
    size_t n = strlen(q);
    if (strcmp(q, s) == 0) {
        const char *c;
        for (c = s; *c; c++) {
            FZ_ASSERT(!strchr(" \t\n'\"\\$`;&|<>()*?[]{}!#~", *c));
        }
        return;
    }
    FZ_ASSERT(n >= 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    unsigned sel = fz_byte(&in);
    fx_acl acl;
    char mode[11];
    gid_t groups[4];
    fx_perm_cred cred;
    fx_perm_walk_result wr;
    char *s, *path;
    size_t len;
    int k;

    fz_tree();

    /* ACL xattr: the rest of the input as the binary value */
    if (sel % 4 == 0) {
        memset(&acl, 0, sizeof(acl));
        if (fx_acl_parse(in.d, in.n, &acl) == 0) {
            FZ_ASSERT(acl.n >= 0 && acl.n <= 32);
            for (k = 0; k < acl.n; k++) {
                FZ_ASSERT(acl.e[k].perm <= 7);
            }
            FZ_ASSERT(fx_acl_text(p, &acl) != NULL);
        }
        return 0;
    }
    s = fz_slice(&in, p, &len);
    /* Options line effect on each bit */
    for (k = 0; k < 8; k++) {
        int eff = fx_options_effect(s, 1u << k);
        FZ_ASSERT(eff >= -1 && eff <= 1);
    }
    fz_check_quote(fx_shell_quote(p, s), s);
    fx_perm_mode_string((unsigned)(sel << 8 | fz_byte(&in)) | 0100000, mode);
    FZ_ASSERT(mode[10] == '\0' && strlen(mode) == 10);
    FZ_ASSERT(strlen(fx_perm_bits(p, sel & 7))
              == (size_t)(!!(sel & 4) + !!(sel & 2) + !!(sel & 1)));

    /* a walk below the scratch tree as some uid/gid */
    cred.uid = 1000 + fz_byte(&in) % 3;
    if (sel & 0x80) {
        cred.uid = 0;
    }
    cred.gid = 1000 + fz_byte(&in) % 3;
    groups[0] = 1001;
    groups[1] = 0;
    cred.groups = groups;
    cred.ngroups = sel & 2;
    cred.kernel_check = 0;
    if (strlen(s) > 200) {
        return 0;
    }
    path = apr_pstrcat(p, fz_root, "/", s, NULL);
    memset(&wr, 0, sizeof(wr));
    fx_perm_walk(p, path, sel & 7, &cred, &wr);
    FZ_ASSERT(wr.n_examined >= 0);
    if (wr.denier) {
        FZ_ASSERT(wr.denier->path != NULL);
        FZ_ASSERT(!wr.denier->mode_allows);
        FZ_ASSERT((wr.denier->need & ~wr.denier->granted) != 0
                  || wr.denier->has_acl);
        (void)fx_perm_hint(p, wr.denier, "www-data", "www-data");
        {
            fx_perm_fix fix;
            int i, j, secret = fx_perm_looks_secret(p, wr.denier, NULL);
            if (fx_perm_plan(p, wr.denier, &cred, "www-data", "www-data",
                             &fix)) {
                FZ_ASSERT(fx_perm_verify(p, wr.denier, &fix, &cred));
                FZ_ASSERT(fix.hint != NULL && fix.argv->nelts > 0);
                for (i = 0; i < fix.argv->nelts; i++) {
                    const char **argv = APR_ARRAY_IDX(fix.argv, i,
                                                      const char **);
                    for (j = 0; argv[j]; j++) {
                        FZ_ASSERT(!(argv[j][0] == 'o' && argv[j][1] == '+')
                                  || !secret);
                        FZ_ASSERT(strcmp(argv[0], "chmod") != 0 || j != 1
                                  || !strchr(argv[j], 'w'));
                    }
                }
                FZ_ASSERT((fix.mode & 0002) == (wr.denier->mode & 0002));
            }
        }
    }
    return 0;
}
