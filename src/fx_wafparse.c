/* fx_wafparse.c — parses ModSecurity's error-log messages (see
 * fx_wafparse.h).
 *
 * What the error_log hook sees went through two escapers:
 *  1. ModSecurity (msc_util.c log_escape*): in tag values '"' and '\' are
 *     backslash-escaped and other bytes written as \xHH ([data] writes '"'
 *     and '\' as \x22 and \x5c too); [file] is written raw, and so are the
 *     variable names in the match description ("... at ARGS:<name>."), in
 *     which a client may put '"' and ']'.
 *  2. httpd (ap_escape_errorlog_item): '\' doubled, control and 8-bit
 *     bytes as \xHH, '"' left alone.
 * So the line is first httpd-unescaped; then the metadata tags are read
 * backwards from the end of the line (after the last ModSecurity-escaped
 * value there is only ModSecurity's own text), stopping at [file], the
 * first tag ModSecurity writes.  ModSecurity formats the rule part of a
 * message into 1 KB and appends [hostname] [uri] [unique_id] after it, so a
 * long message may end in a cut tag before [hostname]: then the tags are
 * read forwards from the first [file] from which they run, one after the
 * other, up to the cut. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "fx_wafparse.h"

/* ModSecurity's order of metadata tags; -1 for a name it does not write. */
static int fx_waf_rank(const char *name, apr_size_t n)
{
    static const char *const order[] = {
        "file", "line", "id", "rev", "msg", "data", "severity", "ver",
        "maturity", "accuracy", "tag", "hostname", "uri", "unique_id"
    };
    int i;
    for (i = 0; i < (int)(sizeof(order) / sizeof(order[0])); i++) {
        if (strlen(order[i]) == n && memcmp(order[i], name, n) == 0) {
            return i;
        }
    }
    return -1;
}

static int fx_waf_hex(int c)
{
    return apr_isdigit(c) ? c - '0' : apr_tolower(c) - 'a' + 10;
}

/* Undo one level of backslash escaping of s[0..n): \\ \" \xHH \n \r \t \b
 * \v; an unknown escape is kept as written. */
static char *fx_waf_unescape(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *out = apr_palloc(p, n + 1), *o = out;
    apr_size_t i;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < n) {
            char e = s[i + 1];
            if (e == 'x' && i + 3 < n && apr_isxdigit(s[i + 2])
                && apr_isxdigit(s[i + 3])) {
                *o++ = (char)(fx_waf_hex(s[i + 2]) * 16 + fx_waf_hex(s[i + 3]));
                i += 3;
                continue;
            }
            switch (e) {
            case '\\': c = '\\'; break;
            case '"': c = '"'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'v': c = '\v'; break;
            default: e = 0; break;
            }
            if (e) {
                *o++ = c;
                i++;
                continue;
            }
        }
        *o++ = c;
    }
    *o = '\0';
    return out;
}

/* httpd's error-log escaping undone: only \\ and \xHH (and the control
 * escapes); '"' was never escaped by httpd, so \" stays for ModSecurity's
 * own unescaping. */
static char *fx_waf_unescape_httpd(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s), i;
    char *out = apr_palloc(p, n + 1), *o = out;
    for (i = 0; i < n; i++) {
        if (s[i] == '\\' && s[i + 1] == '\\') {
            *o++ = '\\';
            i++;
        }
        else if (s[i] == '\\' && s[i + 1] == 'x' && apr_isxdigit(s[i + 2])
                 && apr_isxdigit(s[i + 3])) {
            *o++ = (char)(fx_waf_hex(s[i + 2]) * 16 + fx_waf_hex(s[i + 3]));
            i += 3;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

typedef struct {
    const char *name;
    apr_size_t name_len;
    const char *val;        /* escaped, in the line */
    apr_size_t val_len;
} fx_waf_rawtag;

/* Backwards: the tag " [name "value"]" that ends right before end (trailing
 * blanks allowed), its start in *start.  0 when none ends there. */
static int fx_waf_tag_before(const char *base, const char *end,
                             fx_waf_rawtag *t, const char **start)
{
    const char *q, *n;
    while (end > base && (end[-1] == ' ' || end[-1] == '\n')) {
        end--;
    }
    if (end - base < 6 || end[-1] != ']' || end[-2] != '"') {
        return 0;
    }
    /* the opening quote: the first '"' not escaped by a backslash */
    for (q = end - 3; q > base; q--) {
        if (*q == '"' && q[-1] != '\\') {
            break;
        }
    }
    if (q - base < 3 || *q != '"' || q[-1] != ' ') {
        return 0;
    }
    for (n = q - 1; n > base && (apr_islower(n[-1]) || n[-1] == '_'); n--)
        ;
    if (n == q - 1 || n == base || n[-1] != '[' || n - 1 == base
        || n[-2] != ' ') {
        return 0;
    }
    t->name = n;
    t->name_len = (apr_size_t)(q - 1 - n);
    t->val = q + 1;
    t->val_len = (apr_size_t)(end - 2 - (q + 1));
    *start = n - 2;
    return 1;
}

/* Forwards: the tag starting at s (" [name "value"]"), its end in *end.
 * 0 when s holds none, -1 when the line ends inside it (cut). */
static int fx_waf_tag_after(const char *s, const char *limit,
                            fx_waf_rawtag *t, const char **end)
{
    const char *n, *v;
    if (s + 2 > limit || s[0] != ' ' || s[1] != '[') {
        return s >= limit ? 0 : (limit - s < 3 ? -1 : 0);
    }
    for (n = s + 2; n < limit && (apr_islower(*n) || *n == '_'); n++)
        ;
    if (n == limit) {
        return -1;
    }
    if (n == s + 2 || *n != ' ') {
        return 0;
    }
    if (n + 1 == limit) {
        return -1;
    }
    if (n[1] != '"') {
        return 0;
    }
    for (v = n + 2; v < limit && *v != '"'; v++) {
        if (*v == '\\' && v + 1 < limit) {
            v++;
        }
    }
    if (v >= limit || v + 1 >= limit) {
        return -1;
    }
    if (v[1] != ']') {
        return 0;
    }
    t->name = s + 2;
    t->name_len = (apr_size_t)(n - (s + 2));
    t->val = n + 2;
    t->val_len = (apr_size_t)(v - (n + 2));
    *end = v + 2;
    return 1;
}

static void fx_waf_store(apr_pool_t *p, fx_waf_info *out,
                         const fx_waf_rawtag *t)
{
    int rank = fx_waf_rank(t->name, t->name_len);
    const char *v = rank == 0
                    ? apr_pstrmemdup(p, t->val, t->val_len)  /* raw */
                    : fx_waf_unescape(p, t->val, t->val_len);
    switch (rank) {
    case 0: out->file = v; break;
    case 1: out->line = (int)apr_atoi64(v) > 0 && strlen(v) <= 9
                        ? (int)apr_atoi64(v) : 0; break;
    case 2: out->id = v; break;
    case 4: out->msg = v; break;
    case 5: out->data = v; break;
    case 6: out->severity = v; break;
    case 10: APR_ARRAY_PUSH(out->tags, const char *) = v; break;
    case 12: out->uri = v; break;
    case 13: out->unique_id = v; break;
    default: break;
    }
}

/* A decimal number of at most 9 digits, else 0 (unknown). */
static int fx_waf_int(const char *s)
{
    int n = 0, k;
    for (k = 0; k < 9 && apr_isdigit(s[k]); k++) {
        n = n * 10 + (s[k] - '0');
    }
    return (k == 0 || apr_isdigit(s[k])) ? 0 : n;
}

#define FX_WAF_MAX_TAGS 64

/* Reads the metadata of body (httpd-unescaped, from the text after the
 * head) into out; returns where the metadata starts. */
static const char *fx_waf_metadata(apr_pool_t *p, const char *body,
                                   fx_waf_info *out)
{
    fx_waf_rawtag tags[FX_WAF_MAX_TAGS];
    const char *end = body + strlen(body), *start, *meta = end;
    int n = 0, i, last_rank = 99, reached_file = 0;

    /* backwards, from the end of the line */
    while (n < FX_WAF_MAX_TAGS && fx_waf_tag_before(body, end, &tags[n],
                                                    &start)) {
        int rank = fx_waf_rank(tags[n].name, tags[n].name_len);
        if (rank < 0 || rank > last_rank) {
            break;
        }
        last_rank = rank;
        end = meta = start;
        n++;
        if (rank == 0) {
            reached_file = 1;
            break;
        }
    }
    if (!reached_file && last_rank >= 11) {
        /* Ended before [hostname] without reaching [file]: ModSecurity cut
         * the rule part.  Forwards from the first [file] whose tags run
         * without a gap up to the cut. */
        const char *cand = body;
        while ((cand = strstr(cand, " [file \"")) != NULL && cand < end) {
            fx_waf_rawtag fw[FX_WAF_MAX_TAGS];
            const char *s = cand, *e;
            int m = 0, rc = 0, rk = -1;
            while (m < FX_WAF_MAX_TAGS
                   && (rc = fx_waf_tag_after(s, end, &fw[m], &e)) == 1) {
                int r = fx_waf_rank(fw[m].name, fw[m].name_len);
                if (r < rk || r < 0 || r > 10) {
                    rc = 0;
                    break;
                }
                rk = r;
                m++;
                s = e;
            }
            if (m > 0 && (rc == -1 || (rc == 0 && s == end))) {
                for (i = 0; i < m; i++) {
                    fx_waf_store(p, out, &fw[i]);
                }
                out->cut = 1;
                meta = cand;
                break;
            }
            cand++;
        }
    }
    for (i = n - 1; i >= 0; i--) {
        fx_waf_store(p, out, &tags[i]);
    }
    return meta;
}

int fx_waf_parse(apr_pool_t *p, const char *msg, fx_waf_info *out)
{
    static const char head[] = "ModSecurity: ";
    static const char denied[] = "Access denied with code ";
    static const char warning[] = "Warning. ";
    const char *s, *body, *meta, *from;
    char *text;

    memset(out, 0, sizeof(*out));
    s = msg ? strstr(msg, head) : NULL;
    if (!s) {
        return FX_WAF_NONE;
    }
    s += sizeof(head) - 1;
    if (strncmp(s, denied, sizeof(denied) - 1) == 0
        && apr_isdigit(s[sizeof(denied) - 1])) {
        const char *d = s + sizeof(denied) - 1;
        out->kind = FX_WAF_DENIED;
        out->status = fx_waf_int(d);
        while (apr_isdigit(*d)) {
            d++;
        }
        /* "(phase N). " follows the code at once; a "(phase" later in the
         * line may be a client's */
        if (strncmp(d, " (phase ", 8) == 0) {
            out->phase = fx_waf_int(d + 8);
        }
    }
    else if (strncmp(s, warning, sizeof(warning) - 1) == 0) {
        out->kind = FX_WAF_WARNING;
    }
    else {
        return FX_WAF_NONE;
    }
    out->tags = apr_array_make(p, 8, sizeof(const char *));
    text = fx_waf_unescape_httpd(p, s);
    body = text;
    meta = fx_waf_metadata(p, body, out);

    /* the match description: after "(phase N). " or "Warning. " */
    from = body;
    if (out->kind == FX_WAF_DENIED) {
        /* after "Access denied with code N (phase N)." (or "N.") */
        const char *d = body + sizeof(denied) - 1;
        while (apr_isdigit(*d)) {
            d++;
        }
        if (out->phase && (d = strchr(d, ')')) != NULL && d[1] == '.') {
            from = d + 2;
        }
        else if (!out->phase && *d == '.') {
            from = d + 1;
        }
        else {
            from = meta;
        }
        if (from > meta) {
            from = meta;
        }
    }
    else {
        from = body + sizeof(warning) - 1;
    }
    while (from < meta && *from == ' ') {
        from++;
    }
    out->match = from < meta ? apr_pstrmemdup(p, from, meta - from) : NULL;
    return out->kind;
}

const char *fx_waf_tag(apr_pool_t *p, const char *msg, const char *name)
{
    fx_waf_info w;
    if (!name || fx_waf_parse(p, msg, &w) == FX_WAF_NONE) {
        return NULL;
    }
    if (strcmp(name, "file") == 0) return w.file;
    if (strcmp(name, "line") == 0) {
        return w.line ? apr_itoa(p, w.line) : NULL;
    }
    if (strcmp(name, "id") == 0) return w.id;
    if (strcmp(name, "msg") == 0) return w.msg;
    if (strcmp(name, "data") == 0) return w.data;
    if (strcmp(name, "severity") == 0) return w.severity;
    if (strcmp(name, "uri") == 0) return w.uri;
    if (strcmp(name, "unique_id") == 0) return w.unique_id;
    if (strcmp(name, "tag") == 0) {
        return w.tags->nelts ? APR_ARRAY_IDX(w.tags, 0, const char *) : NULL;
    }
    return NULL;
}

int fx_waf_split_data(apr_pool_t *p, const char *data, int k,
                      const char **matched, const char **var,
                      const char **value)
{
    static const char lead[] = "Matched Data: ";
    static const char within[] = " found within ";
    const char *s, *w, *colon;

    *matched = *var = *value = NULL;
    if (!data || strncmp(data, lead, sizeof(lead) - 1) != 0 || k < 0) {
        return 0;
    }
    s = data + sizeof(lead) - 1;
    for (w = strstr(s, within); w; w = strstr(w + 1, within)) {
        colon = strstr(w + sizeof(within) - 1, ": ");
        if (!colon) {
            /* CRS writes "VAR: VALUE"; a cut [data] may end in VAR */
            colon = w + strlen(w);
        }
        if (colon == w + sizeof(within) - 1) {
            continue;
        }
        if (k-- == 0) {
            *matched = apr_pstrmemdup(p, s, w - s);
            *var = apr_pstrmemdup(p, w + sizeof(within) - 1,
                                  colon - (w + sizeof(within) - 1));
            *value = *colon ? apr_pstrdup(p, colon + 2) : NULL;
            return 1;
        }
    }
    return 0;
}

const char *fx_waf_match_var(apr_pool_t *p, const char *match)
{
    apr_size_t n;
    const char *at, *q;
    if (!match) {
        return NULL;
    }
    n = strlen(match);
    if (n < 6 || match[n - 1] != '.') {
        return NULL;
    }
    /* The variable follows " at " after the operator's quoted (escaped)
     * argument, when there is one: the first " at " after its closing
     * quote.  A client's variable name may itself hold " at ". */
    q = strchr(match, '"');
    if (q) {
        for (q++; *q && *q != '"'; q++) {
            if (*q == '\\' && q[1]) {
                q++;
            }
        }
        if (!*q) {
            return NULL;
        }
        at = strstr(q, " at ");
    }
    else {
        at = strstr(match, " at ");
    }
    if (!at || at + 4 >= match + n - 1) {
        return NULL;
    }
    at += 4;
    /* ModSecurity's variable names are COLLECTION or COLLECTION:key with
     * an upper-case collection */
    for (q = at; apr_isupper(*q) || *q == '_'; q++)
        ;
    if (q == at || (*q != ':' && q != match + n - 1)) {
        return NULL;
    }
    return apr_pstrmemdup(p, at, (match + n - 1) - at);
}

int fx_waf_total_score(const char *msg)
{
    const char *s = msg ? strstr(msg, "Anomaly Score Exceeded (Total ") : NULL;
    if (!s) {
        return -1;
    }
    s = strstr(s, "Score: ");
    return s && apr_isdigit(s[7]) ? fx_waf_int(s + 7) : -1;
}

int fx_waf_threshold(const char *match)
{
    static const char ge[] = "Operator GE matched ";
    const char *s = match ? strstr(match, ge) : NULL;
    if (!s || !apr_isdigit(s[sizeof(ge) - 1])) {
        return -1;
    }
    s += sizeof(ge) - 1;
    if (!strstr(s, " at TX:")) {
        return -1;
    }
    return fx_waf_int(s);
}

int fx_waf_severity_score(const char *severity)
{
    if (!severity) return 0;
    if (strcmp(severity, "CRITICAL") == 0) return 5;
    if (strcmp(severity, "ERROR") == 0) return 4;
    if (strcmp(severity, "WARNING") == 0) return 3;
    if (strcmp(severity, "NOTICE") == 0) return 2;
    return 0;
}

int fx_waf_is_evaluation_rule(const char *id)
{
    int n;
    if (!id || strlen(id) != 6) {
        return 0;
    }
    n = fx_waf_int(id);
    return (n >= 949000 && n <= 949999) || (n >= 959000 && n <= 959999)
           || (n >= 980000 && n <= 980999);
}

int fx_waf_config_safe(const char *s)
{
    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("_-.:/~%+", *s)) {
            return 0;
        }
    }
    return 1;
}

int fx_waf_choose(apr_pool_t *p, int n, const char *const *vars,
                  const int *scores, int total, int threshold, int accounted,
                  int *chosen)
{
    /* group[i]: the first hit with hit i's variable; sum[g]: its group's
     * score (at its first hit) */
    int *group = apr_palloc(p, sizeof(int) * (n > 0 ? n : 1) * 2);
    int *sum = group + (n > 0 ? n : 1);
    int i, j, left = total;

    for (i = 0; i < n; i++) {
        chosen[i] = 0;
        sum[i] = 0;
        group[i] = i;
        for (j = 0; vars[i] && j < i; j++) {
            if (group[j] == j && vars[j] && strcmp(vars[j], vars[i]) == 0) {
                group[i] = j;
                break;
            }
        }
        sum[group[i]] += scores[i];
    }
    for (;;) {
        int best = -1;
        if (accounted && threshold >= 0 && left < threshold) {
            break;
        }
        for (i = 0; i < n; i++) {
            if (group[i] == i && !chosen[i]
                && (best < 0 || sum[i] > sum[best])) {
                best = i;
            }
        }
        if (best < 0) {
            break;
        }
        for (i = best; i < n; i++) {
            if (group[i] == best) {
                chosen[i] = 1;
            }
        }
        left -= sum[best];
    }
    return left;
}
