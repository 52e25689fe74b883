/* fx_wire_render.c — the header value, the problem document and literal
 * redaction for the wire (see fx_wire_render.h).  Pure: APR only. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "fx_wire_render.h"
#include "fx_exprlit.h"
#include "fx_sf.h"
#include "fx_json.h"

/* -------------------------------------------------------------------- */
/* Forbidden-Explain header                                              */

typedef struct {
    fx_sf_dict *d;
} fx_hdr_baton;

static int fx_is_int(const char *s)
{
    if (*s == '-') {
        s++;
    }
    if (!*s || strlen(s) > 15) {
        return 0;
    }
    if (s[0] == '0' && s[1]) {
        return 0;   /* "007" is no JSON number: it stays a string */
    }
    return strspn(s, "0123456789") == strlen(s);
}

/* A kept value never gives way to the budget: only those that cannot
 * crowd the 4 KB header out (%HH triples a byte at most). */
static int fx_hdr_keep(const char *v)
{
    return strlen(v) <= 256;
}

/* Facts the header writes itself, in front or at the end. */
static int fx_hdr_placed(const char *key)
{
    static const char *const placed[] = {
        "status", "reason", "module", "phase", "file", "line", "request_id",
        "directive", "detail", "hint", "truncated", NULL
    };
    int i;
    for (i = 0; placed[i]; i++) {
        if (strcmp(placed[i], key) == 0) {
            return 1;
        }
    }
    return 0;
}

static void fx_hdr_visit(void *baton, const char *key, const char *value,
                         int is_raw)
{
    fx_hdr_baton *b = baton;
    if (is_raw || !value || fx_hdr_placed(key)) {
        return;
    }
    /* Keys that are not sf keys (none today) are skipped by fx_sf_dict_*. */
    fx_sf_dict_string(b->d, key, value,
                      !strcmp(key, "client_ip") && fx_hdr_keep(value));
}

char *fx_wire_header_value(apr_pool_t *p, const fx_entry *e,
                           apr_size_t budget)
{
    fx_hdr_baton b;
    const char *file = fx_entry_get(e, "file");
    const char *line = fx_entry_get(e, "line");
    const char *v;

    b.d = fx_sf_dict_make(p);
    if ((v = fx_entry_get(e, "reason"))) {
        fx_sf_dict_token(b.d, "reason", v, 1);
    }
    /* What identifies the entry is kept whole, as in every document the
     * builder writes (fx_entry.h), unless it alone could not fit. */
    if ((v = fx_entry_get(e, "module"))) {
        fx_sf_dict_string(b.d, "module", v, fx_hdr_keep(v));
    }
    if ((v = fx_entry_get(e, "phase"))) {
        fx_sf_dict_string(b.d, "phase", v, fx_hdr_keep(v));
    }
    if (file) {
        v = line ? apr_pstrcat(p, file, ":", line, NULL) : file;
        fx_sf_dict_string(b.d, "at", v, fx_hdr_keep(v));
    }
    if ((v = fx_entry_get(e, "directive"))) {
        fx_sf_dict_string(b.d, "directive", v, fx_hdr_keep(v));
    }
    fx_entry_visit(e, fx_hdr_visit, &b);
    if ((v = fx_entry_get(e, "detail"))) {
        fx_sf_dict_string(b.d, "detail", v, 0);
    }
    if ((v = fx_entry_get(e, "hint"))) {
        fx_sf_dict_string(b.d, "hint", v, 0);
    }
    if ((v = fx_entry_get(e, "request_id"))) {
        fx_sf_dict_string(b.d, "id", v, 1);
    }
    return fx_sf_dict_serialize(b.d, p, budget);
}

/* -------------------------------------------------------------------- */
/* problem+json                                                          */

/* The request id as a URN NSS: unreserved characters and '@' stay, every
 * other byte is percent-encoded. */
static const char *fx_prob_instance(apr_pool_t *p, const char *id)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t i, n = id ? strlen(id) : 0, o = 0;
    char *out = apr_palloc(p, n * 3 + 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c < 0x80 && (apr_isalnum(c) || strchr("-._~@", c))) {
            out[o++] = (char)c;
        }
        else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return apr_pstrcat(p, "urn:forbidden-explain:", out, NULL);
}

/* The problem document is the entry rendered by the entry builder
 * (fx_entry.c) in the standard encoding: the RFC 9457 members first, the
 * facts as extension members under their log keys, the same size policy
 * and "truncated" as every other document the module writes. */
char *fx_wire_problem_json(apr_pool_t *p, const fx_entry *e,
                           apr_size_t budget)
{
    static const char *const front[] = {
        "type", "title", "status", "detail", "instance", NULL
    };
    static const char *const pinned[] = {
        "type", "title", "instance", NULL
    };
    fx_entry_style style = { FX_ENC_JSON, front, pinned, NULL };
    fx_entry *doc = fx_entry_copy(p, e);
    const char *id = fx_entry_get(e, "request_id");
    const char *line = fx_entry_get(e, "line");

    if (budget < 1024) {
        budget = 1024;
    }
    fx_entry_set(doc, "type", "about:blank");
    fx_entry_set(doc, "title", "Forbidden");
    fx_entry_set_int(doc, "status", 403);
    if (id) {
        fx_entry_set(doc, "instance", fx_prob_instance(p, id));
    }
    /* a copy made through fx_entry_visit (redaction) has its integers as
     * strings: the line is a number in the document */
    if (line && fx_is_int(line)) {
        fx_entry_set_int(doc, "line", apr_atoi64(line));
    }
    return fx_entry_render_as(doc, p, budget, &style);
}

/* -------------------------------------------------------------------- */
/* literal redaction                                                     */

#define FX_REDACTED "[redacted]"


/* The end of a literal opened at text[k] by open (' " \' \" or a regex
 * delimiter), scanning no further than limit: *body_end gets the index of
 * the closing delimiter (limit when unterminated), the result the index
 * just past it. */
static apr_size_t fx_literal_end(const char *text, apr_size_t limit,
                                 apr_size_t k, const char *open,
                                 apr_size_t *body_end)
{
    apr_size_t olen = strlen(open);
    for (k += olen; k < limit; k++) {
        if (olen == 1 && text[k] == '\\' && k + 1 < limit) {
            k++;
            continue;
        }
        if (strncmp(text + k, open, olen) == 0) {
            *body_end = k;
            return k + olen;
        }
    }
    *body_end = limit;
    return limit;
}

static void fx_push_literal(apr_pool_t *p, apr_array_header_t *lits,
                            const char *s, apr_size_t n)
{
    if (n) {
        APR_ARRAY_PUSH(lits, const char *) = apr_pstrndup(p, s, n);
    }
}

/* Literals of the expression text[start..limit). */
static void fx_collect_expr(apr_pool_t *p, const char *text,
                            apr_size_t start, apr_size_t limit,
                            apr_array_header_t *lits)
{
    apr_size_t k = start, body_end, end;

    /* `Require expr "..."`: the outer quotes only wrap the expression;
     * whatever follows the closing one is not part of it. */
    if (k < limit && text[k] == '"') {
        fx_literal_end(text, limit, k, "\"", &body_end);
        if (body_end > k + 1) {
            fx_collect_expr(p, text, k + 1, body_end, lits);
        }
        return;
    }
    while (k < limit) {
        const char *open = NULL;
        char c = text[k];

        if (c == '\\' && k + 1 < limit && (text[k + 1] == '"'
                                           || text[k + 1] == '\'')) {
            open = text[k + 1] == '"' ? "\\\"" : "\\'";
        }
        else if (c == '\'' || c == '"') {
            open = c == '"' ? "\"" : "'";
        }
        if (open) {
            end = fx_literal_end(text, limit, k, open, &body_end);
            fx_push_literal(p, lits, text + k + strlen(open),
                            body_end - k - strlen(open));
            k = end;
            continue;
        }
        if ((c == '=' || c == '!') && k + 1 < limit && text[k + 1] == '~') {
            apr_size_t j = k + 2;
            char delim[2] = { 0, 0 };
            while (j < limit && apr_isspace(text[j])) {
                j++;
            }
            if (j < limit && text[j] == '/') {
                delim[0] = '/';
            }
            else if (j + 1 < limit && text[j] == 'm'
                     && apr_ispunct(text[j + 1])) {
                delim[0] = text[++j];
            }
            if (delim[0]) {
                end = fx_literal_end(text, limit, j, delim, &body_end);
                fx_push_literal(p, lits, text + j + 1, body_end - j - 1);
                k = end;
                continue;
            }
            k = j;
            continue;
        }
        k++;
    }
}

void fx_wire_collect_literals(apr_pool_t *p, const char *text, int is_expr,
                              apr_array_header_t *lits)
{
    apr_size_t len, i, start;

    if (!text) {
        return;
    }
    len = strlen(text);
    if (is_expr) {
        fx_collect_expr(p, text, 0, len, lits);
        return;
    }
    for (i = 0; i < len; i++) {
        if ((start = fx_exprlit_expr_start(text, i)) && start < len) {
            fx_collect_expr(p, text, start, len, lits);
            return;
        }
    }
}

/* Scrub text[0..n) into parts: every occurrence of a literal (longest
 * first at each position, one pass, so [redacted] is never re-scanned). */
static int fx_scrub_span(apr_pool_t *p, const char *text, apr_size_t n,
                         const apr_array_header_t *lits,
                         apr_array_header_t *parts)
{
    apr_size_t i = 0, copied = 0;
    int changed = 0, j;

    while (i < n) {
        apr_size_t best = 0;
        for (j = 0; j < lits->nelts; j++) {
            const char *l = APR_ARRAY_IDX(lits, j, const char *);
            apr_size_t ln = strlen(l);
            if (ln > best && ln <= n - i && memcmp(text + i, l, ln) == 0) {
                best = ln;
            }
        }
        if (best) {
            APR_ARRAY_PUSH(parts, const char *) = apr_pstrndup(p, text + copied,
                                                               i - copied);
            APR_ARRAY_PUSH(parts, const char *) = FX_REDACTED;
            i += best;
            copied = i;
            changed = 1;
        }
        else {
            i++;
        }
    }
    APR_ARRAY_PUSH(parts, const char *) = apr_pstrndup(p, text + copied,
                                                       n - copied);
    return changed;
}

const char *fx_wire_scrub(apr_pool_t *p, const char *text,
                          const apr_array_header_t *lits, int json_raw)
{
    apr_array_header_t *parts;
    int changed = 0;

    if (!text || !lits || !lits->nelts) {
        return text;
    }
    parts = apr_array_make(p, 8, sizeof(const char *));
    if (!json_raw) {
        changed = fx_scrub_span(p, text, strlen(text), lits, parts);
    }
    else {
        /* Only inside string tokens, in their encoded form; the module's
         * raw JSON has no backslashes (fx_json.h), so '"' delimits. */
        apr_array_header_t *enc = apr_array_make(p, lits->nelts,
                                                 sizeof(const char *));
        const char *s = text, *q;
        int j, in_string = 0;
        for (j = 0; j < lits->nelts; j++) {
            char *e = fx_json_quote(p, APR_ARRAY_IDX(lits, j, const char *),
                                    0, NULL);
            e[strlen(e) - 1] = '\0';
            APR_ARRAY_PUSH(enc, const char *) = e + 1;
        }
        while (*s) {
            q = strchr(s, '"');
            if (!q) {
                q = s + strlen(s);
            }
            if (in_string) {
                changed |= fx_scrub_span(p, s, q - s, enc, parts);
            }
            else {
                APR_ARRAY_PUSH(parts, const char *) = apr_pstrndup(p, s,
                                                                   q - s);
            }
            if (*q) {
                APR_ARRAY_PUSH(parts, const char *) = "\"";
                q++;
                in_string = !in_string;
            }
            s = q;
        }
    }
    return changed ? apr_array_pstrcat(p, parts, 0) : text;
}

const char *fx_wire_redact_literals(apr_pool_t *p, const char *text)
{
    apr_array_header_t *lits = apr_array_make(p, 4, sizeof(const char *));
    fx_wire_collect_literals(p, text, 0, lits);
    return fx_wire_scrub(p, text, lits, 0);
}
