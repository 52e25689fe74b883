/* fx_jsonin.c — the strict JSON reader of fx_jsonin.h: a recursive descent
 * over RFC 8259 with a depth bound, UTF-8 validated byte by byte (the
 * shortest form only, no surrogates), \u escapes decoded to UTF-8 with
 * surrogate pairs joined and lone surrogates refused.  Messages name the
 * byte offset, so a client can find its mistake. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include "fx_jsonin.h"
#include "fx_json.h"

typedef struct {
    apr_pool_t *p;
    const unsigned char *s;
    apr_size_t len, pos;
    const char *err;
} fx_jr;

static void *fx_jr_fail(fx_jr *j, const char *what)
{
    if (!j->err) {
        j->err = apr_psprintf(j->p, "malformed JSON at byte %" APR_SIZE_T_FMT
                              ": %s", j->pos, what);
    }
    return NULL;
}

static void fx_jr_ws(fx_jr *j)
{
    while (j->pos < j->len && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t'
                               || j->s[j->pos] == '\n'
                               || j->s[j->pos] == '\r')) {
        j->pos++;
    }
}

static int fx_hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        unsigned c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return 0;
    }
    *out = v;
    return 1;
}

static apr_size_t fx_put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string token at j->pos (the opening quote); decoded into *out. */
static int fx_jr_string(fx_jr *j, const char **out, apr_size_t *out_len)
{
    apr_size_t start = ++j->pos, end = start, cap;
    char *buf, *o;

    /* First pass: find the closing quote (escapes never grow the text:
     * \uXXXX is 6 bytes for at most 3, a pair 12 for 4). */
    while (end < j->len && j->s[end] != '"') {
        end += (j->s[end] == '\\' && end + 1 < j->len) ? 2 : 1;
    }
    if (end >= j->len) {
        fx_jr_fail(j, "unterminated string");
        return 0;
    }
    cap = end - start + 1;
    buf = o = apr_palloc(j->p, cap);
    while (j->pos < end) {
        unsigned c = j->s[j->pos];
        if (c < 0x20) {
            fx_jr_fail(j, "control character in a string (escape it)");
            return 0;
        }
        if (c == '\\') {
            unsigned e = j->s[j->pos + 1], cp, lo;
            j->pos += 2;
            switch (e) {
            case '"': *o++ = '"'; continue;
            case '\\': *o++ = '\\'; continue;
            case '/': *o++ = '/'; continue;
            case 'b': *o++ = '\b'; continue;
            case 'f': *o++ = '\f'; continue;
            case 'n': *o++ = '\n'; continue;
            case 'r': *o++ = '\r'; continue;
            case 't': *o++ = '\t'; continue;
            case 'u':
                break;
            default:
                j->pos -= 2;
                fx_jr_fail(j, "invalid escape in a string");
                return 0;
            }
            if (j->pos + 4 > end || !fx_hex4(j->s + j->pos, &cp)) {
                j->pos -= 2;
                fx_jr_fail(j, "invalid \\u escape");
                return 0;
            }
            j->pos += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fx_jr_fail(j, "lone low surrogate in a \\u escape");
                return 0;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (j->pos + 6 > end || j->s[j->pos] != '\\'
                    || j->s[j->pos + 1] != 'u'
                    || !fx_hex4(j->s + j->pos + 2, &lo)
                    || lo < 0xDC00 || lo > 0xDFFF) {
                    fx_jr_fail(j, "lone high surrogate in a \\u escape");
                    return 0;
                }
                j->pos += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += fx_put_utf8(o, cp);
            continue;
        }
        {
            apr_size_t n = fx_utf8_len(j->s + j->pos, end - j->pos, NULL);
            if (!n) {
                fx_jr_fail(j, "invalid UTF-8 in a string");
                return 0;
            }
            memcpy(o, j->s + j->pos, n);
            o += n;
            j->pos += n;
        }
    }
    *o = '\0';
    j->pos = end + 1;
    *out = buf;
    *out_len = (apr_size_t)(o - buf);
    return 1;
}

static fx_jv *fx_jr_value(fx_jr *j, int depth);

static fx_jv *fx_jr_new(fx_jr *j, fx_jv_type t)
{
    fx_jv *v = apr_pcalloc(j->p, sizeof(*v));
    v->type = t;
    return v;
}

static fx_jv *fx_jr_number(fx_jr *j)
{
    apr_size_t start = j->pos;
    fx_jv *v = fx_jr_new(j, FX_JV_NUM);
    char *text;

    v->is_int = 1;
    if (j->s[j->pos] == '-') {
        j->pos++;
    }
    if (j->pos >= j->len || j->s[j->pos] < '0' || j->s[j->pos] > '9') {
        return fx_jr_fail(j, "invalid number");
    }
    if (j->s[j->pos] == '0') {
        j->pos++;
    }
    else {
        while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9') {
            j->pos++;
        }
    }
    if (j->pos < j->len && j->s[j->pos] == '.') {
        v->is_int = 0;
        j->pos++;
        if (j->pos >= j->len || j->s[j->pos] < '0' || j->s[j->pos] > '9') {
            return fx_jr_fail(j, "invalid number (digit expected after .)");
        }
        while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9') {
            j->pos++;
        }
    }
    if (j->pos < j->len && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
        v->is_int = 0;
        j->pos++;
        if (j->pos < j->len && (j->s[j->pos] == '+' || j->s[j->pos] == '-')) {
            j->pos++;
        }
        if (j->pos >= j->len || j->s[j->pos] < '0' || j->s[j->pos] > '9') {
            return fx_jr_fail(j, "invalid number (digit expected in exponent)");
        }
        while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9') {
            j->pos++;
        }
    }
    text = apr_pstrmemdup(j->p, (const char *)j->s + start, j->pos - start);
    v->num = strtod(text, NULL);
    return v;
}

static int fx_jr_word(fx_jr *j, const char *w)
{
    apr_size_t n = strlen(w);
    if (j->len - j->pos >= n && memcmp(j->s + j->pos, w, n) == 0) {
        j->pos += n;
        return 1;
    }
    return 0;
}

static fx_jv *fx_jr_container(fx_jr *j, int depth, int is_obj)
{
    fx_jv *v = fx_jr_new(j, is_obj ? FX_JV_OBJ : FX_JV_ARR), *last = NULL;
    char close = is_obj ? '}' : ']';

    if (depth >= FX_JSONIN_MAX_DEPTH) {
        return fx_jr_fail(j, "nested too deeply");
    }
    j->pos++;
    fx_jr_ws(j);
    if (j->pos < j->len && j->s[j->pos] == (unsigned char)close) {
        j->pos++;
        return v;
    }
    for (;;) {
        const char *key = NULL;
        apr_size_t key_len = 0;
        fx_jv *m;
        fx_jr_ws(j);
        if (is_obj) {
            fx_jv *k;
            if (j->pos >= j->len || j->s[j->pos] != '"') {
                return fx_jr_fail(j, "object key (a string) expected");
            }
            if (!fx_jr_string(j, &key, &key_len)) {
                return NULL;
            }
            for (k = v->first; k; k = k->next) {
                if (k->key_len == key_len && memcmp(k->key, key, key_len) == 0) {
                    return fx_jr_fail(j, apr_psprintf(j->p, "duplicate key "
                                                      "\"%s\"", key));
                }
            }
            fx_jr_ws(j);
            if (j->pos >= j->len || j->s[j->pos] != ':') {
                return fx_jr_fail(j, "':' expected after an object key");
            }
            j->pos++;
        }
        m = fx_jr_value(j, depth + 1);
        if (!m) {
            return NULL;
        }
        m->key = key;
        m->key_len = key_len;
        if (last) {
            last->next = m;
        }
        else {
            v->first = m;
        }
        last = m;
        v->n++;
        fx_jr_ws(j);
        if (j->pos < j->len && j->s[j->pos] == ',') {
            j->pos++;
            continue;
        }
        if (j->pos < j->len && j->s[j->pos] == (unsigned char)close) {
            j->pos++;
            return v;
        }
        return fx_jr_fail(j, is_obj ? "',' or '}' expected"
                                    : "',' or ']' expected");
    }
}

static fx_jv *fx_jr_value(fx_jr *j, int depth)
{
    unsigned c;
    fx_jv *v;

    fx_jr_ws(j);
    if (j->pos >= j->len) {
        return fx_jr_fail(j, "value expected, found the end of the input");
    }
    c = j->s[j->pos];
    switch (c) {
    case '{':
        return fx_jr_container(j, depth, 1);
    case '[':
        return fx_jr_container(j, depth, 0);
    case '"':
        v = fx_jr_new(j, FX_JV_STR);
        return fx_jr_string(j, &v->str, &v->len) ? v : NULL;
    case 't':
    case 'f':
        v = fx_jr_new(j, FX_JV_BOOL);
        v->b = (c == 't');
        return fx_jr_word(j, c == 't' ? "true" : "false") ? v
               : fx_jr_fail(j, "invalid literal");
    case 'n':
        return fx_jr_word(j, "null") ? fx_jr_new(j, FX_JV_NULL)
               : fx_jr_fail(j, "invalid literal");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            return fx_jr_number(j);
        }
        return fx_jr_fail(j, "unexpected character");
    }
}

fx_jv *fx_jsonin_parse(apr_pool_t *p, const char *s, apr_size_t len,
                       const char **err)
{
    fx_jr j;
    fx_jv *v;

    j.p = p;
    j.s = (const unsigned char *)s;
    j.len = len;
    j.pos = 0;
    j.err = NULL;
    v = fx_jr_value(&j, 0);
    if (v) {
        fx_jr_ws(&j);
        if (j.pos != j.len) {
            v = fx_jr_fail(&j, "trailing characters after the value");
        }
    }
    if (!v) {
        *err = j.err ? j.err : "malformed JSON";
    }
    return v;
}

const fx_jv *fx_jsonin_get(const fx_jv *o, const char *key)
{
    const fx_jv *m;
    apr_size_t n = strlen(key);
    if (!o || o->type != FX_JV_OBJ) {
        return NULL;
    }
    for (m = o->first; m; m = m->next) {
        if (m->key_len == n && memcmp(m->key, key, n) == 0) {
            return m;
        }
    }
    return NULL;
}

const char *fx_jsonin_type_name(fx_jv_type t)
{
    static const char *const names[] = {
        "null", "boolean", "number", "string", "array", "object"
    };
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}
