/* fuzz_rwmatch.c — libFuzzer target for the mod_rewrite replay
 * (src/fx_rwmatch.c): argument splitting of RewriteRule/RewriteCond lines
 * and the evaluation of a rule set over a URL, query string and variables
 * taken from the input.  Regexes are POSIX (as the unit tests plug them),
 * bounded in length so a pathological pattern cannot stall the run.
 * Oracles: split returns at most 3 words; a FOUND outcome names a
 * RewriteRule line inside the set; UNKNOWN says why;
 * every evaluated condition names a RewriteCond line of the set.
 * FUZZ_SOURCES: src/fx_rwmatch.c */
#include "fuzz_util.h"
#include <regex.h>
#include "fx_rwmatch.h"

static const char *fz_vars[4];

static int fz_match(void *baton, const char *pattern, int nocase,
                    const char *subject, fx_rw_caps *caps)
{
    regex_t re;
    regmatch_t m[FX_RW_NCAP];
    int rc, k;
    const char *c;
    int quant = 0;
    (void)baton;
    /* glibc's regcomp needs exponential memory for stacked quantifiers
     * ("q++++..."): a property of this test matcher, not of the module
     * (httpd hands patterns to PCRE), so such patterns are "no compile". */
    for (c = pattern; *c; c++) {
        quant += (*c == '+' || *c == '*' || *c == '?' || *c == '{');
    }
    if (quant > 4 || strlen(pattern) > 48
        || regcomp(&re, pattern, REG_EXTENDED
                                        | (nocase ? REG_ICASE : 0))) {
        return -1;
    }
    rc = regexec(&re, subject, FX_RW_NCAP, m, 0);
    regfree(&re);
    if (rc != 0) {
        return 0;
    }
    if (caps) {
        caps->source = subject;
        for (k = 0; k < FX_RW_NCAP; k++) {
            caps->so[k] = (int)m[k].rm_so;
            caps->eo[k] = (int)m[k].rm_eo;
        }
    }
    return 1;
}

static const char *fz_var(void *baton, const char *name, const char *filename,
                          const char *args)
{
    (void)baton;
    if (!strcmp(name, "REQUEST_FILENAME")) return filename;
    if (!strcmp(name, "QUERY_STRING")) return args ? args : "";
    if (!strcmp(name, "HTTP_HOST")) return fz_vars[0];
    if (!strcmp(name, "HTTP_REFERER")) return fz_vars[1];
    if (!strcmp(name, "HTTP_USER_AGENT")) return fz_vars[2];
    if (!strcmp(name, "REMOTE_ADDR")) return fz_vars[3];
    return NULL;
}

static int fz_filetest(void *baton, char op, const char *path)
{
    (void)baton;
    return path[0] ? (int)((unsigned char)path[0] + op) % 3 - 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    unsigned flags = fz_byte(&in);
    fx_rw_ops ops = { fz_match, fz_var, fz_filetest, NULL, 0, NULL };
    fx_rw_line lines[16];
    fx_rw_result res;
    const char *filename, *args, *perdir;
    int n = 0, k;

    filename = fz_slice(&in, p, NULL);
    args = fz_slice(&in, p, NULL);
    for (k = 0; k < 4; k++) {
        fz_vars[k] = fz_slice(&in, p, NULL);
    }
    if (strlen(filename) > 512 || strlen(args) > 512) {
        return 0;
    }
    perdir = (flags & 1) ? "/srv/www/" : NULL;
    ops.no_3f_check = (flags & 16) != 0;
    ops.self_url = (flags & 32) ? "http://h.example:8080" : NULL;
    if (perdir && filename[0] != '/') {
        filename = apr_pstrcat(p, perdir, filename, NULL);
    }
    while (in.n && n < 16) {
        unsigned kind = fz_byte(&in);
        char *w[3];
        char *a = fz_slice(&in, p, NULL);
        int nw = fx_rw_split(p, a, w);
        FZ_ASSERT(nw >= 0 && nw <= 3);
        for (k = 0; k < nw; k++) {
            FZ_ASSERT(w[k] != NULL);
        }
        lines[n].name = (kind & 1) ? "RewriteCond" : "RewriteRule";
        lines[n].args = a;
        lines[n].group = (kind >> 1) & 1;
        n++;
    }
    fx_rw_evaluate(p, lines, n, perdir, filename, (flags & 2) ? "/pi" : NULL,
                   (flags & 4) ? args : NULL, (flags & 8) != 0, &ops, &res);
    switch (res.outcome) {
    case FX_RW_FOUND:
        FZ_ASSERT(res.rule >= 0 && res.rule < n);
        FZ_ASSERT(!strcmp(lines[res.rule].name, "RewriteRule"));
        /* No oracle on the status value: [R=3ep0] is refused by httpd at
         * start-up, the replay only ever sees accepted rule sets. */
        break;
    case FX_RW_UNKNOWN:
        FZ_ASSERT(res.why && *res.why);
        break;
    default:
        FZ_ASSERT(res.outcome == FX_RW_NONE);
    }
    /* what the list left behind points at real lines */
    FZ_ASSERT(res.args_rule >= -1 && res.args_rule < n);
    FZ_ASSERT(res.end_rule >= -1 && res.end_rule < n);
    if (res.args_rule >= 0) {
        FZ_ASSERT(!strcmp(lines[res.args_rule].name, "RewriteRule"));
    }
    if (res.outcome == FX_RW_FOUND) {
        char *w[3];
        if (fx_rw_split(p, lines[res.rule].args, w) >= 1) {
            int d;
            const char *k = fx_rw_protection_kind(p, w[0],
                                                  res.subject ? res.subject : "",
                                                  res.conds, &d);
            FZ_ASSERT(!k || *k);
            FZ_ASSERT(d >= -1 && (!res.conds ? d == -1 : d < res.conds->nelts));
        }
    }
    if (res.outcome == FX_RW_FOUND && res.conds) {
        for (k = 0; k < res.conds->nelts; k++) {
            const fx_rw_cond_eval *c = &APR_ARRAY_IDX(res.conds, k,
                                                      fx_rw_cond_eval);
            FZ_ASSERT(c->line >= 0 && c->line < n);
            FZ_ASSERT(!strcmp(lines[c->line].name, "RewriteCond"));
        }
    }
    return 0;
}
