/* fx_auditrule.c — pure judgements and rendering for the configuration
 * audit (fx_audit.c gathers the facts from the running configuration and
 * the filesystem).  See fx_auditrule.h. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "fx_auditrule.h"
#include "fx_perm.h"

int fx_audit_directive_verdict(int req_override, int override, int in_list)
{
    if ((req_override & override & FX_OR_ALL) || in_list) {
        return FX_HT_ALLOWED;
    }
    /* config.c invoke_cmd: NONFATAL_OVERRIDE turns the error into a
     * warning and the directive is skipped */
    return (override & FX_NONFATAL_OVERRIDE) ? FX_HT_IGNORED : FX_HT_500;
}


const char *fx_audit_options_refused(apr_pool_t *p, const char *args,
                                     unsigned override_opts)
{
    const char *a = args ? args : "";
    while (*a) {
        char *w;
        const char *name;
        unsigned bits;
        while (*a && apr_isspace(*a)) {
            a++;
        }
        if (!*a) {
            break;
        }
        {
            const char *start = a;
            while (*a && !apr_isspace(*a)) {
                a++;
            }
            w = apr_pstrmemdup(p, start, (apr_size_t)(a - start));
        }
        name = (*w == '+' || *w == '-') ? w + 1 : w;
        if (fx_option_word(name, strlen(name), &bits) && (override_opts & bits) != bits) {
            return w;
        }
    }
    return NULL;
}

int fx_audit_symlink_refused(unsigned opts, int owner_match)
{
    if (!(opts & (FX_OPT_SYM_LINKS | FX_OPT_SYM_OWNER))) {
        return 1;
    }
    /* SymLinksIfOwnerMatch is the stricter test and wins when both are on */
    if (opts & FX_OPT_SYM_OWNER) {
        return !owner_match;
    }
    return 0;
}

const char *fx_audit_override_names(apr_pool_t *p, int bits)
{
    static const struct { int bit; const char *name; } names[] = {
        { FX_OR_AUTHCFG, "AuthConfig" }, { FX_OR_FILEINFO, "FileInfo" },
        { FX_OR_INDEXES, "Indexes" }, { FX_OR_LIMIT, "Limit" },
        { FX_OR_OPTIONS, "Options" }, { 0, NULL }
    };
    const char *out = NULL;
    int i;
    for (i = 0; names[i].name; i++) {
        if (bits & names[i].bit) {
            out = out ? apr_pstrcat(p, out, " ", names[i].name, NULL)
                      : names[i].name;
        }
    }
    return out;
}

int fx_audit_plain_target(const char *t)
{
    if (!t || *t != '/') {
        return 0;
    }
    for (; *t; t++) {
        if (*t == '$' || (*t == '\\' && apr_isdigit(t[1]))) {
            return 0;
        }
    }
    return 1;
}

int fx_audit_severity_rank(const char *s)
{
    static const char *const order[] = { "high", "medium", "low", "info" };
    int i;
    for (i = 0; s && i < 4; i++) {
        if (!strcmp(s, order[i])) {
            return i;
        }
    }
    return 4;
}

static int fx_audit_cmp(const void *a_, const void *b_)
{
    const fx_audit_finding *a = *(const fx_audit_finding *const *)a_;
    const fx_audit_finding *b = *(const fx_audit_finding *const *)b_;
    int d = fx_audit_severity_rank(a->severity)
            - fx_audit_severity_rank(b->severity);
    return d ? d : a->order - b->order;
}

void fx_audit_sort(apr_array_header_t *findings)
{
    if (findings && findings->nelts > 1) {
        qsort(findings->elts, (size_t)findings->nelts,
              sizeof(fx_audit_finding *), fx_audit_cmp);
    }
}

#define FX_AUDIT_VALUE_MAX 1024

static const char *fx_kv(apr_pool_t *p, const char *json, const char *key,
                         const char *value, fx_audit_quote_fn *quote)
{
    if (!value) {
        return json;
    }
    return apr_pstrcat(p, json, *json == '{' && !json[1] ? "" : ",", "\"", key,
                       "\":", quote(p, value, FX_AUDIT_VALUE_MAX, NULL), NULL);
}

static const char *fx_step_json(apr_pool_t *p, const fx_audit_step *s,
                                fx_audit_quote_fn *quote)
{
    const char *j = fx_kv(p, "{", "op", s->op, quote);
    if (!strcmp(s->op, "run")) {
        const char *a = "";
        int i;
        for (i = 0; s->argv && s->argv[i]; i++) {
            a = apr_pstrcat(p, a, i ? "," : "",
                            quote(p, s->argv[i], FX_AUDIT_VALUE_MAX, NULL), NULL);
        }
        return apr_pstrcat(p, j, ",\"argv\":[", a, "]}", NULL);
    }
    j = fx_kv(p, j, "file", s->file, quote);
    if (!strcmp(s->op, "insert")) {
        j = apr_psprintf(p, "%s,\"after_line\":%d", j, s->line);
        j = fx_kv(p, j, "text", s->text, quote);
    }
    else {
        j = apr_psprintf(p, "%s,\"line\":%d", j, s->line);
        j = fx_kv(p, j, "old", s->old, quote);
        if (!strcmp(s->op, "replace")) {
            j = fx_kv(p, j, "new", s->text, quote);
        }
    }
    return apr_pstrcat(p, j, "}", NULL);
}

const char *fx_audit_finding_json(apr_pool_t *p, const fx_audit_finding *f,
                                  fx_audit_quote_fn *quote)
{
    const char *j = "{";
    int i;
    j = fx_kv(p, j, "severity", f->severity, quote);
    j = fx_kv(p, j, "kind", f->kind, quote);
    j = fx_kv(p, j, "vhost", f->vhost, quote);
    j = fx_kv(p, j, "path", f->path, quote);
    if (f->path_line > 0) {
        j = apr_psprintf(p, "%s,\"path_line\":%d", j, f->path_line);
    }
    j = fx_kv(p, j, "directive", f->directive, quote);
    j = fx_kv(p, j, "file", f->file, quote);
    if (f->file) {
        j = apr_psprintf(p, "%s,\"line\":%d", j, f->line);
    }
    j = fx_kv(p, j, "section", f->section, quote);
    j = fx_kv(p, j, "detail", f->detail, quote);
    if (f->fix && f->fix->nelts) {
        j = apr_pstrcat(p, j, ",\"fix\":[", NULL);
        for (i = 0; i < f->fix->nelts; i++) {
            j = apr_pstrcat(p, j, i ? "," : "",
                            fx_step_json(p, &APR_ARRAY_IDX(f->fix, i,
                                                           fx_audit_step),
                                         quote), NULL);
        }
        j = apr_pstrcat(p, j, "]", NULL);
    }
    return apr_pstrcat(p, j, "}", NULL);
}
