/* fx_exprlit.c — finds the literals of an expression that a request value
 * is compared with, and replaces them (see fx_exprlit.h).  Pure: APR
 * only. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "fx_exprlit.h"

#define FX_EL_REDACTED "[redacted]"

enum { FX_EL_GROUP, FX_EL_CALL, FX_EL_LOOKUP };

typedef struct {
    apr_pool_t *p;
    const char *text;
    apr_array_header_t *out;        /* fx_exprlit: compared literals */
    apr_array_header_t *pending;    /* fx_exprlit: this clause's literals */
    apr_array_header_t *stack;      /* int: open parentheses, FX_EL_* */
    int lookups;                    /* FX_EL_LOOKUP entries on the stack */
    int reads_request;              /* this clause reads a request value */
} fx_el_scan;

static void fx_el_end_clause(fx_el_scan *s)
{
    if (s->reads_request) {
        apr_array_cat(s->out, s->pending);
    }
    apr_array_clear(s->pending);
    s->reads_request = 0;
}

/* %{NAME} or %{NAME:arg}: does NAME hold what the client sent? */
static int fx_el_request_var(const char *name, apr_size_t n)
{
    if (n >= 5 && strncasecmp(name, "HTTP:", 5) == 0) {
        return 1;
    }
    if (n > 5 && strncasecmp(name, "HTTP_", 5) == 0) {
        return 1;                   /* HTTP_COOKIE, HTTP_X_API_KEY, ... */
    }
    return (n == 12 && strncasecmp(name, "QUERY_STRING", 12) == 0)
           || (n == 11 && strncasecmp(name, "THE_REQUEST", 11) == 0);
}

static int fx_el_word_is(const char *w, apr_size_t n, const char *const *set)
{
    for (; *set; set++) {
        if (strlen(*set) == n && strncasecmp(w, *set, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Functions whose argument is the name of what they look up. */
static const char *const fx_el_lookup_fns[] = {
    "req", "http", "req_novary", "resp", "reqenv", "osenv", "note", "env",
    NULL
};
/* ... of those, the ones that read request headers. */
static const char *const fx_el_request_fns[] = {
    "req", "http", "req_novary", NULL
};

/* The end of a literal opened at text[k] by open, scanning no further than
 * limit; 0 when it is not closed. */
static apr_size_t fx_el_literal_end(const char *text, apr_size_t limit,
                                    apr_size_t k, const char *open,
                                    const char *close)
{
    apr_size_t olen = strlen(open), clen = strlen(close);
    for (k += olen; k < limit; k++) {
        if (clen == 1 && text[k] == '\\' && k + 1 < limit) {
            k++;
            continue;
        }
        if (k + clen <= limit && strncmp(text + k, close, clen) == 0) {
            return k + clen;
        }
    }
    return 0;
}

/* A literal text[k..end) opened by open and closed by close: compared if
 * its clause turns out to read a request value, unless it names what a
 * look-up function reads. */
static void fx_el_literal(fx_el_scan *s, apr_size_t k, apr_size_t end,
                          const char *open, const char *close)
{
    fx_exprlit *l;
    if (s->lookups || end - k <= strlen(open) + strlen(close)) {
        return;
    }
    l = apr_array_push(s->pending);
    l->written = apr_pstrndup(s->p, s->text + k, end - k);
    l->redacted = apr_pstrcat(s->p, open, FX_EL_REDACTED, close, NULL);
}

/* After =~ or !~ at text[k]: a regex /.../ or m<punct>...<punct>.
 * Returns where scanning goes on. */
static apr_size_t fx_el_regex(fx_el_scan *s, apr_size_t k, apr_size_t limit)
{
    char open[3] = { 0, 0, 0 }, close[2] = { 0, 0 };
    apr_size_t end;

    while (k < limit && apr_isspace(s->text[k])) {
        k++;
    }
    if (k < limit && s->text[k] == '/') {
        open[0] = close[0] = '/';
    }
    else if (k + 1 < limit && s->text[k] == 'm'
             && apr_ispunct(s->text[k + 1])) {
        open[0] = 'm';
        open[1] = close[0] = s->text[k + 1];
    }
    else {
        return k;
    }
    end = fx_el_literal_end(s->text, limit, k, open, close);
    if (!end) {
        return limit;
    }
    fx_el_literal(s, k, end, open, close);
    return end;
}

/* An identifier at text[k]: a function call when '(' follows. */
static apr_size_t fx_el_word(fx_el_scan *s, apr_size_t k, apr_size_t limit)
{
    const char *t = s->text;
    apr_size_t w = k, j;

    while (k < limit && (apr_isalnum(t[k]) || t[k] == '_')) {
        k++;
    }
    for (j = k; j < limit && apr_isspace(t[j]); j++)
        ;
    if (j < limit && t[j] == '(') {
        int kind = fx_el_word_is(t + w, k - w, fx_el_lookup_fns)
                   ? FX_EL_LOOKUP : FX_EL_CALL;
        if (fx_el_word_is(t + w, k - w, fx_el_request_fns)) {
            s->reads_request = 1;
        }
        APR_ARRAY_PUSH(s->stack, int) = kind;
        s->lookups += kind == FX_EL_LOOKUP;
        return j + 1;
    }
    return k;
}

static void fx_el_close_paren(fx_el_scan *s)
{
    int kind;
    if (!s->stack->nelts) {
        return;
    }
    kind = APR_ARRAY_IDX(s->stack, s->stack->nelts - 1, int);
    s->stack->nelts--;
    if (kind == FX_EL_LOOKUP) {
        s->lookups--;
    }
    else if (kind == FX_EL_GROUP) {
        fx_el_end_clause(s);
    }
}

/* Returns the index just past a quoted literal at text[k], or 0 when
 * text[k] opens none (then nothing is consumed). */
static apr_size_t fx_el_quoted(fx_el_scan *s, apr_size_t k, apr_size_t limit)
{
    const char *t = s->text;
    const char *open = NULL;
    apr_size_t end;

    if (t[k] == '\\' && k + 1 < limit && (t[k + 1] == '"' || t[k + 1] == '\'')) {
        open = t[k + 1] == '"' ? "\\\"" : "\\'";
    }
    else if (t[k] == '\'' || t[k] == '"') {
        open = t[k] == '"' ? "\"" : "'";
    }
    if (!open) {
        return 0;
    }
    end = fx_el_literal_end(t, limit, k, open, open);
    if (!end) {
        return limit;
    }
    fx_el_literal(s, k, end, open, open);
    return end;
}

/* The expression text[k..limit). */
static void fx_el_scan_expr(fx_el_scan *s, apr_size_t k, apr_size_t limit)
{
    const char *t = s->text;

    while (k < limit) {
        apr_size_t next = fx_el_quoted(s, k, limit);
        char c = t[k];

        if (next) {
            k = next;
        }
        else if ((c == '=' || c == '!') && k + 1 < limit && t[k + 1] == '~') {
            k = fx_el_regex(s, k + 2, limit);
        }
        else if ((c == '&' || c == '|') && k + 1 < limit && t[k + 1] == c) {
            fx_el_end_clause(s);
            k += 2;
        }
        else if (c == '%' && k + 1 < limit && t[k + 1] == '{') {
            apr_size_t j = k + 2;
            while (j < limit && t[j] != '}') {
                j++;
            }
            if (fx_el_request_var(t + k + 2, j - k - 2)) {
                s->reads_request = 1;
            }
            k = j < limit ? j + 1 : limit;
        }
        else if (apr_isalpha(c) || c == '_') {
            k = fx_el_word(s, k, limit);
        }
        else if (c == '(') {
            fx_el_end_clause(s);
            APR_ARRAY_PUSH(s->stack, int) = FX_EL_GROUP;
            k++;
        }
        else if (c == ')') {
            fx_el_close_paren(s);
            k++;
        }
        else {
            k++;
        }
    }
    fx_el_end_clause(s);
    apr_array_clear(s->stack);
    s->lookups = 0;
}

/* The expression starting at text[k]: a wrapping pair of double quotes
 * (`Require expr "..."`) only delimits it. */
static void fx_el_scan_from(fx_el_scan *s, apr_size_t k, apr_size_t limit)
{
    if (k < limit && s->text[k] == '"') {
        apr_size_t end = fx_el_literal_end(s->text, limit, k, "\"", "\"");
        fx_el_scan_expr(s, k + 1, end ? end - 1 : limit);
        return;
    }
    fx_el_scan_expr(s, k, limit);
}

/* Where the expression of a `Require [not] expr` or `SSLRequire` at
 * text[i] starts, or 0 when text[i] starts neither. */
apr_size_t fx_exprlit_expr_start(const char *text, apr_size_t i)
{
    apr_size_t j;
    int ssl = strncasecmp(text + i, "sslrequire", 10) == 0;

    if (i > 0 && (apr_isalnum(text[i - 1]) || text[i - 1] == '_')) {
        return 0;
    }
    if (!ssl && strncasecmp(text + i, "require", 7) != 0) {
        return 0;
    }
    j = i + (ssl ? 10 : 7);
    if (!apr_isspace(text[j])) {
        return 0;
    }
    while (apr_isspace(text[j])) {
        j++;
    }
    if (ssl) {
        return j;
    }
    if (strncasecmp(text + j, "not", 3) == 0 && apr_isspace(text[j + 3])) {
        j += 3;
        while (apr_isspace(text[j])) {
            j++;
        }
    }
    if (strncasecmp(text + j, "expr", 4) != 0 || !apr_isspace(text[j + 4])) {
        return 0;
    }
    j += 4;
    while (apr_isspace(text[j])) {
        j++;
    }
    return j;
}

static void fx_el_collect_from(fx_el_scan *s, apr_size_t start,
                               apr_size_t len)
{
    s->pending = apr_array_make(s->p, 4, sizeof(fx_exprlit));
    s->stack = apr_array_make(s->p, 4, sizeof(int));
    fx_el_scan_from(s, start, len);
}

void fx_exprlit_collect(apr_pool_t *p, const char *text, int is_expr,
                        apr_array_header_t *out)
{
    fx_el_scan s;
    apr_size_t len, i, start;

    if (!text) {
        return;
    }
    memset(&s, 0, sizeof(s));
    s.p = p;
    s.text = text;
    s.out = out;
    len = strlen(text);
    if (is_expr) {
        fx_el_collect_from(&s, 0, len);
        return;
    }
    for (i = 0; i < len; i++) {
        /* every 403's entry passes its directive here (the log's default
         * redaction): only "Require" and "SSLRequire" can start one */
        int c = text[i] | 0x20;
        if (c != 'r' && c != 's') {
            continue;
        }
        if ((start = fx_exprlit_expr_start(text, i)) && start < len) {
            fx_el_collect_from(&s, start, len);
            return;
        }
    }
}

const char *fx_exprlit_scrub(apr_pool_t *p, const char *text,
                             const apr_array_header_t *lits)
{
    apr_array_header_t *parts;
    apr_size_t n, i = 0, copied = 0;
    int j, changed = 0;

    if (!text || !lits || !lits->nelts) {
        return text;
    }
    n = strlen(text);
    parts = apr_array_make(p, 8, sizeof(const char *));
    while (i < n) {
        const fx_exprlit *best = NULL;
        apr_size_t best_len = 0;
        for (j = 0; j < lits->nelts; j++) {
            const fx_exprlit *l = &APR_ARRAY_IDX(lits, j, fx_exprlit);
            apr_size_t ln = strlen(l->written);
            if (ln > best_len && ln <= n - i
                && memcmp(text + i, l->written, ln) == 0) {
                best = l;
                best_len = ln;
            }
        }
        if (best) {
            APR_ARRAY_PUSH(parts, const char *) = apr_pstrndup(p, text + copied,
                                                               i - copied);
            APR_ARRAY_PUSH(parts, const char *) = best->redacted;
            i += best_len;
            copied = i;
            changed = 1;
        }
        else {
            i++;
        }
    }
    if (!changed) {
        return text;
    }
    APR_ARRAY_PUSH(parts, const char *) = text + copied;
    return apr_array_pstrcat(p, parts, 0);
}
