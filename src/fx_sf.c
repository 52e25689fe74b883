/* fx_sf.c — RFC 8941 Dictionary serialization, the wire text rule and the
 * problem+json Accept test (see fx_sf.h).  Pure: APR only. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "fx_sf.h"

static const char fx_sf_hex[] = "0123456789ABCDEF";

/* sf-integer: at most 15 digits (RFC 8941 §3.3.1). */
#define FX_SF_INT_MAX APR_INT64_C(999999999999999)

int fx_sf_key_valid(const char *key)
{
    const char *s;
    if (!key || !((*key >= 'a' && *key <= 'z') || *key == '*')) {
        return 0;
    }
    for (s = key + 1; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
              || *s == '_' || *s == '-' || *s == '.' || *s == '*')) {
            return 0;
        }
    }
    return 1;
}

static int fx_sf_tchar(unsigned char c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int fx_sf_token_valid(const char *token)
{
    const unsigned char *s = (const unsigned char *)token;
    if (!s || !(apr_isalpha(*s) || *s == '*') || *s >= 0x80) {
        return 0;
    }
    for (s++; *s; s++) {
        if (*s >= 0x80 || !(fx_sf_tchar(*s) || *s == ':' || *s == '/')) {
            return 0;
        }
    }
    return 1;
}

/* Output bytes for one source byte under the wire text rule. */
static apr_size_t fx_sf_width(unsigned char c)
{
    if (c < 0x20 || c >= 0x7f || c == '%') {
        return 3;
    }
    return (c == '"' || c == '\\') ? 2 : 1;
}

char *fx_sf_escape(apr_pool_t *p, const char *src, apr_size_t len,
                   apr_size_t max_out, int *cut)
{
    apr_size_t i, need = 0, o = 0;
    char *out;

    if (!src) {
        src = "";
        len = 0;
    }
    for (i = 0; i < len; i++) {
        need += fx_sf_width((unsigned char)src[i]);
    }
    if (max_out && need > max_out) {
        need = max_out;
    }
    out = apr_palloc(p, need + 1);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        apr_size_t w = fx_sf_width(c);
        if (o + w > need) {
            break;
        }
        if (w == 3) {
            out[o++] = '%';
            out[o++] = fx_sf_hex[c >> 4];
            out[o++] = fx_sf_hex[c & 0x0f];
        }
        else {
            if (w == 2) {
                out[o++] = '\\';
            }
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    if (cut) {
        *cut = i < len;
    }
    return out;
}

char *fx_sf_json_string(apr_pool_t *p, const char *src, apr_size_t max_out,
                        int *cut)
{
    /* JSON escapes '"' and '\' exactly like sf-string does, and the wire
     * rule leaves no other byte that JSON would need escaped. */
    return apr_pstrcat(p, "\"", fx_sf_escape(p, src, src ? strlen(src) : 0,
                                             max_out, cut), "\"", NULL);
}

/* -------------------------------------------------------------------- */
/* Dictionary                                                            */

typedef enum { FX_SF_STRING, FX_SF_TOKEN, FX_SF_INTEGER } fx_sf_kind;

typedef struct {
    const char *key;
    fx_sf_kind kind;
    const char *s;
    apr_int64_t n;
    int keep;
} fx_sf_member;

struct fx_sf_dict {
    apr_pool_t *pool;
    apr_array_header_t *members;
};

fx_sf_dict *fx_sf_dict_make(apr_pool_t *p)
{
    fx_sf_dict *d = apr_palloc(p, sizeof(*d));
    d->pool = p;
    d->members = apr_array_make(p, 16, sizeof(fx_sf_member));
    return d;
}

static fx_sf_member *fx_sf_slot(fx_sf_dict *d, const char *key)
{
    int i;
    fx_sf_member *m;
    for (i = 0; i < d->members->nelts; i++) {
        m = &APR_ARRAY_IDX(d->members, i, fx_sf_member);
        if (strcmp(m->key, key) == 0) {
            return m;
        }
    }
    m = apr_array_push(d->members);
    m->key = key;
    return m;
}

int fx_sf_dict_string(fx_sf_dict *d, const char *key, const char *value,
                      int keep)
{
    fx_sf_member *m;
    if (!fx_sf_key_valid(key)) {
        return 0;
    }
    m = fx_sf_slot(d, key);
    m->kind = FX_SF_STRING;
    m->s = value ? value : "";
    m->keep = keep;
    return 1;
}

int fx_sf_dict_token(fx_sf_dict *d, const char *key, const char *value,
                     int keep)
{
    if (!fx_sf_token_valid(value)) {
        return fx_sf_dict_string(d, key, value, keep);
    }
    if (!fx_sf_key_valid(key)) {
        return 0;
    }
    {
        fx_sf_member *m = fx_sf_slot(d, key);
        m->kind = FX_SF_TOKEN;
        m->s = value;
        m->keep = keep;
    }
    return 1;
}

int fx_sf_dict_integer(fx_sf_dict *d, const char *key, apr_int64_t n,
                       int keep)
{
    fx_sf_member *m;
    if (n > FX_SF_INT_MAX || n < -FX_SF_INT_MAX) {
        return fx_sf_dict_string(d, key, apr_psprintf(d->pool, "%"
                                 APR_INT64_T_FMT, n), keep);
    }
    if (!fx_sf_key_valid(key)) {
        return 0;
    }
    m = fx_sf_slot(d, key);
    m->kind = FX_SF_INTEGER;
    m->n = n;
    m->keep = keep;
    return 1;
}

/* One attempt: string values limited to cap output bytes, members whose
 * index is in dropped[] left out.  Returns the text and its length. */
static char *fx_sf_render(const fx_sf_dict *d, apr_pool_t *p, apr_size_t cap,
                          const char *dropped, int mark_dropped,
                          apr_size_t *len)
{
    apr_array_header_t *parts = apr_array_make(p, d->members->nelts * 5 + 6,
                                               sizeof(const char *));
    apr_array_header_t *cut_keys = apr_array_make(p, 4, sizeof(const char *));
    int i, first = 1;
    char *out;

    for (i = 0; i < d->members->nelts; i++) {
        const fx_sf_member *m = &APR_ARRAY_IDX(d->members, i, fx_sf_member);
        const char *v;
        if (dropped[i]) {
            continue;
        }
        if (m->kind == FX_SF_INTEGER) {
            v = apr_psprintf(p, "%" APR_INT64_T_FMT, m->n);
        }
        else if (m->kind == FX_SF_TOKEN) {
            v = m->s;
        }
        else {
            int cut = 0;
            v = apr_pstrcat(p, "\"", fx_sf_escape(p, m->s, strlen(m->s),
                                                  m->keep ? 0 : cap, &cut),
                            "\"", NULL);
            if (cut) {
                APR_ARRAY_PUSH(cut_keys, const char *) = m->key;
            }
        }
        APR_ARRAY_PUSH(parts, const char *) = first ? "" : ", ";
        APR_ARRAY_PUSH(parts, const char *) = m->key;
        APR_ARRAY_PUSH(parts, const char *) = "=";
        APR_ARRAY_PUSH(parts, const char *) = v;
        first = 0;
    }
    if (mark_dropped) {
        /* Boolean true is written as the bare key (RFC 8941 §4.1.2). */
        APR_ARRAY_PUSH(parts, const char *) = first ? "truncated"
                                                    : ", truncated";
    }
    else if (cut_keys->nelts) {
        APR_ARRAY_PUSH(parts, const char *) = first ? "truncated=("
                                                    : ", truncated=(";
        for (i = 0; i < cut_keys->nelts; i++) {
            if (i) {
                APR_ARRAY_PUSH(parts, const char *) = " ";
            }
            APR_ARRAY_PUSH(parts, const char *) = APR_ARRAY_IDX(cut_keys, i,
                                                                const char *);
        }
        APR_ARRAY_PUSH(parts, const char *) = ")";
    }
    out = apr_array_pstrcat(p, parts, 0);
    *len = strlen(out);
    return out;
}

char *fx_sf_dict_serialize(const fx_sf_dict *d, apr_pool_t *p,
                           apr_size_t budget)
{
    int n = d->members->nelts, i;
    char *dropped = apr_pcalloc(p, n + 1);
    apr_size_t cap = 1024, len;
    char *out;

    if (budget < 128) {
        budget = 128;
    }
    for (;;) {
        out = fx_sf_render(d, p, cap, dropped, 0, &len);
        if (len <= budget || cap <= 16) {
            break;
        }
        cap /= 2;
    }
    /* Too many members even with short values: drop from the end. */
    for (i = n - 1; len > budget && i >= 0; i--) {
        if (!APR_ARRAY_IDX(d->members, i, fx_sf_member).keep) {
            dropped[i] = 1;
            out = fx_sf_render(d, p, cap, dropped, 1, &len);
        }
    }
    return out;
}

/* -------------------------------------------------------------------- */
/* Accept                                                                */

int fx_sf_accepts_problem_json(const char *accept)
{
    static const char want[] = "application/problem+json";
    const char *s = accept;

    while (s && *s) {
        const char *end = strchr(s, ',');
        const char *stop = end ? end : s + strlen(s);
        const char *t = s, *semi;
        apr_size_t n;

        while (t < stop && (*t == ' ' || *t == '\t')) {
            t++;
        }
        semi = memchr(t, ';', stop - t);
        n = (semi ? semi : stop) - t;
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\t')) {
            n--;
        }
        if (n == sizeof(want) - 1 && strncasecmp(t, want, n) == 0) {
            /* refused only by an explicit q=0 (0, 0.0, 0.00, 0.000) */
            int refused = 0;
            const char *q = semi;
            while (q && q < stop) {
                const char *v;
                q++;
                while (q < stop && (*q == ' ' || *q == '\t')) {
                    q++;
                }
                if (stop - q >= 2 && (q[0] == 'q' || q[0] == 'Q')
                    && q[1] == '=') {
                    v = q + 2;
                    refused = v < stop && *v == '0';
                    for (v++; refused && v < stop && *v != ';'
                         && *v != ' ' && *v != '\t'; v++) {
                        if (*v != '.' && *v != '0') {
                            refused = 0;
                        }
                    }
                }
                q = memchr(q, ';', stop - q);
            }
            if (!refused) {
                return 1;
            }
        }
        s = end ? end + 1 : NULL;
    }
    return 0;
}
