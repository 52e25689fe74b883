/* fuzz_util.h — shared by the libFuzzer targets in tests/fuzz: one APR pool
 * per process (cleared per input), input slicing, and strict validators the
 * targets use as oracles: a JSON grammar checker, the log-safe byte rule and
 * an RFC 8941 Dictionary parser.  A target aborts (a finding for libFuzzer)
 * whenever an oracle refuses what the code under test produced. */
#ifndef FX_FUZZ_UTIL_H
#define FX_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#define FZ_ASSERT(cond) do { if (!(cond)) { \
    fprintf(stderr, "fuzz oracle failed %s:%d: %s\n", __FILE__, __LINE__, \
            #cond); abort(); } } while (0)

static apr_pool_t *fz_pool(void)
{
    static apr_pool_t *root, *p;
    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        apr_pool_create(&p, root);
    }
    apr_pool_clear(p);
    return p;
}

/* A cursor over the fuzz input. */
typedef struct {
    const uint8_t *d;
    size_t n;
} fz_in;

static unsigned fz_byte(fz_in *in)
{
    unsigned b;
    if (!in->n) {
        return 0;
    }
    b = in->d[0];
    in->d++;
    in->n--;
    return b;
}

/* The next slice up to a 0xFF separator (or the end), NUL-terminated, from
 * p.  Embedded NUL bytes are kept in *len but end the C string. */
static char *fz_slice(fz_in *in, apr_pool_t *p, size_t *len)
{
    size_t i = 0;
    char *s;
    while (i < in->n && in->d[i] != 0xFF) {
        i++;
    }
    s = apr_palloc(p, i + 1);
    memcpy(s, in->d, i);
    s[i] = '\0';
    if (len) {
        *len = i;
    }
    in->d += i < in->n ? i + 1 : i;
    in->n -= i < in->n ? i + 1 : i;
    return s;
}

/* Printable ASCII other than the backslash: what survives httpd's
 * error-log escaping unchanged. */
static int fz_log_safe(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '\\') {
            return 0;
        }
    }
    return 1;
}

/* -------- strict JSON (RFC 8259) grammar check -------- */

typedef struct {
    const char *s;
    size_t i, n;
    int depth;
} fz_json;

static void fz_ws(fz_json *j)
{
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t'
                           || j->s[j->i] == '\n' || j->s[j->i] == '\r')) {
        j->i++;
    }
}

static int fz_json_value(fz_json *j);

static int fz_json_string(fz_json *j)
{
    if (j->i >= j->n || j->s[j->i] != '"') {
        return 0;
    }
    j->i++;
    while (j->i < j->n) {
        unsigned char c = (unsigned char)j->s[j->i++];
        if (c == '"') {
            return 1;
        }
        if (c < 0x20) {
            return 0;
        }
        if (c == '\\') {
            if (j->i >= j->n) {
                return 0;
            }
            c = (unsigned char)j->s[j->i++];
            if (c == 'u') {
                int k;
                for (k = 0; k < 4; k++, j->i++) {
                    if (j->i >= j->n || !strchr("0123456789abcdefABCDEF",
                                                j->s[j->i]) || !j->s[j->i]) {
                        return 0;
                    }
                }
            }
            else if (!strchr("\"\\/bfnrt", c) || !c) {
                return 0;
            }
        }
    }
    return 0;
}

static int fz_json_number(fz_json *j)
{
    size_t st = j->i;
    if (j->i < j->n && j->s[j->i] == '-') {
        j->i++;
    }
    if (j->i < j->n && j->s[j->i] == '0') {
        j->i++;
    }
    else {
        if (j->i >= j->n || j->s[j->i] < '1' || j->s[j->i] > '9') {
            return 0;
        }
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
            j->i++;
        }
    }
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        if (j->i >= j->n || j->s[j->i] < '0' || j->s[j->i] > '9') {
            return 0;
        }
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
            j->i++;
        }
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-')) {
            j->i++;
        }
        if (j->i >= j->n || j->s[j->i] < '0' || j->s[j->i] > '9') {
            return 0;
        }
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
            j->i++;
        }
    }
    return j->i > st;
}

static int fz_json_lit(fz_json *j, const char *lit)
{
    size_t l = strlen(lit);
    if (j->n - j->i < l || memcmp(j->s + j->i, lit, l) != 0) {
        return 0;
    }
    j->i += l;
    return 1;
}

static int fz_json_value(fz_json *j)
{
    int ok = 1;
    if (++j->depth > 64) {
        return 0;
    }
    fz_ws(j);
    if (j->i >= j->n) {
        return 0;
    }
    switch (j->s[j->i]) {
    case '{':
        j->i++;
        fz_ws(j);
        if (j->i < j->n && j->s[j->i] == '}') {
            j->i++;
            break;
        }
        for (;;) {
            fz_ws(j);
            if (!fz_json_string(j)) {
                return 0;
            }
            fz_ws(j);
            if (j->i >= j->n || j->s[j->i++] != ':') {
                return 0;
            }
            if (!fz_json_value(j)) {
                return 0;
            }
            fz_ws(j);
            if (j->i < j->n && j->s[j->i] == ',') {
                j->i++;
                continue;
            }
            if (j->i < j->n && j->s[j->i] == '}') {
                j->i++;
                break;
            }
            return 0;
        }
        break;
    case '[':
        j->i++;
        fz_ws(j);
        if (j->i < j->n && j->s[j->i] == ']') {
            j->i++;
            break;
        }
        for (;;) {
            if (!fz_json_value(j)) {
                return 0;
            }
            fz_ws(j);
            if (j->i < j->n && j->s[j->i] == ',') {
                j->i++;
                continue;
            }
            if (j->i < j->n && j->s[j->i] == ']') {
                j->i++;
                break;
            }
            return 0;
        }
        break;
    case '"':
        ok = fz_json_string(j);
        break;
    case 't':
        ok = fz_json_lit(j, "true");
        break;
    case 'f':
        ok = fz_json_lit(j, "false");
        break;
    case 'n':
        ok = fz_json_lit(j, "null");
        break;
    default:
        ok = fz_json_number(j);
    }
    j->depth--;
    return ok;
}

/* s[0..n) is exactly one JSON value (an object when want_object). */
static int fz_json_valid(const char *s, size_t n, int want_object)
{
    fz_json j = { s, 0, n, 0 };
    fz_ws(&j);
    if (want_object && (j.i >= n || s[j.i] != '{')) {
        return 0;
    }
    if (!fz_json_value(&j)) {
        return 0;
    }
    fz_ws(&j);
    return j.i == n;
}

/* -------- RFC 8941 Dictionary (the subset a serializer may emit) -------- */

static int fz_sf_lcalpha(char c) { return c >= 'a' && c <= 'z'; }
static int fz_sf_digit(char c) { return c >= '0' && c <= '9'; }

static int fz_sf_key(const char *s, size_t n, size_t *i)
{
    if (*i >= n || !(fz_sf_lcalpha(s[*i]) || s[*i] == '*')) {
        return 0;
    }
    (*i)++;
    while (*i < n && (fz_sf_lcalpha(s[*i]) || fz_sf_digit(s[*i])
                      || strchr("_-.*", s[*i]))) {
        if (!s[*i]) {
            return 0;
        }
        (*i)++;
    }
    return 1;
}

static int fz_sf_bare_item(const char *s, size_t n, size_t *i)
{
    char c;
    if (*i >= n) {
        return 0;
    }
    c = s[*i];
    if (c == '-' || fz_sf_digit(c)) {
        size_t st;
        int dot = 0;
        if (c == '-') {
            (*i)++;
        }
        st = *i;
        if (*i >= n || !fz_sf_digit(s[*i])) {
            return 0;
        }
        while (*i < n && (fz_sf_digit(s[*i]) || (s[*i] == '.' && !dot))) {
            dot |= s[*i] == '.';
            (*i)++;
        }
        return (*i - st) <= (dot ? 16 : 15) && s[*i - 1] != '.';
    }
    if (c == '"') {
        (*i)++;
        while (*i < n) {
            c = s[(*i)++];
            if (c == '"') {
                return 1;
            }
            if (c == '\\') {
                if (*i >= n || (s[*i] != '"' && s[*i] != '\\')) {
                    return 0;
                }
                (*i)++;
            }
            else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
                return 0;
            }
        }
        return 0;
    }
    if (c == '?') {
        (*i)++;
        if (*i < n && (s[*i] == '0' || s[*i] == '1')) {
            (*i)++;
            return 1;
        }
        return 0;
    }
    if (c == '*' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        (*i)++;
        while (*i < n && s[*i] && (strchr("!#$%&'*+-.^_`|~:/", s[*i])
                                   || fz_sf_digit(s[*i])
                                   || (s[*i] >= 'a' && s[*i] <= 'z')
                                   || (s[*i] >= 'A' && s[*i] <= 'Z'))) {
            (*i)++;
        }
        return 1;
    }
    return 0;
}

static int fz_sf_params(const char *s, size_t n, size_t *i)
{
    while (*i < n && s[*i] == ';') {
        (*i)++;
        while (*i < n && s[*i] == ' ') {
            (*i)++;
        }
        if (!fz_sf_key(s, n, i)) {
            return 0;
        }
        if (*i < n && s[*i] == '=') {
            (*i)++;
            if (!fz_sf_bare_item(s, n, i)) {
                return 0;
            }
        }
    }
    return 1;
}

static int fz_sf_member_value(const char *s, size_t n, size_t *i)
{
    if (*i < n && s[*i] == '(') {
        (*i)++;
        for (;;) {
            while (*i < n && s[*i] == ' ') {
                (*i)++;
            }
            if (*i < n && s[*i] == ')') {
                (*i)++;
                break;
            }
            if (!fz_sf_bare_item(s, n, i) || !fz_sf_params(s, n, i)) {
                return 0;
            }
            if (*i < n && s[*i] != ' ' && s[*i] != ')') {
                return 0;
            }
        }
        return fz_sf_params(s, n, i);
    }
    return fz_sf_bare_item(s, n, i) && fz_sf_params(s, n, i);
}

/* s[0..n) is one serialized Dictionary (empty allowed). */
static int fz_sf_dict_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0) {
        return 1;
    }
    for (;;) {
        if (!fz_sf_key(s, n, &i)) {
            return 0;
        }
        if (i < n && s[i] == '=') {
            i++;
            if (!fz_sf_member_value(s, n, &i)) {
                return 0;
            }
        }
        else if (!fz_sf_params(s, n, &i)) {
            return 0;
        }
        while (i < n && (s[i] == ' ' || s[i] == '\t')) {
            i++;
        }
        if (i == n) {
            return 1;
        }
        if (s[i++] != ',') {
            return 0;
        }
        while (i < n && (s[i] == ' ' || s[i] == '\t')) {
            i++;
        }
        if (i == n) {
            return 0;
        }
    }
}

#endif
