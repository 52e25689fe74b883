/* fx_json.c — the log-safe JSON string encoding (see fx_json.h for why). */
#include <string.h>
#include "fx_json.h"
#include "fx_swar.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const char fx_hex[] = "0123456789ABCDEF";

/* 1 for the bytes written as %HH: controls, DEL, 8-bit, '"', '\\', '%'. */
static const unsigned char fx_escape[256] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    0,0,1,0,0,1,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
};

#define fx_needs_escape(c) (fx_escape[(unsigned char)(c)])

/* Length of the run of bytes that need no escape at the start of s (at most
 * min(len, max)).  Every 403 encodes about a kilobyte: sixteen bytes at a
 * time with SSE2 (every x86-64), eight with plain integer arithmetic, then
 * byte by byte. */
static FX_ALWAYS_INLINE apr_size_t fx_plain_run_ex(const char *s,
                                                   apr_size_t len,
                                                   apr_size_t max, int pct_too)
{
    apr_size_t n = 0, end = len < max ? len : max;

#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f),
                  quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  pct = _mm_set1_epi8(pct_too ? '%' : '"');
    for (; n + 16 <= end; n += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + n));
        /* signed: bytes >= 0x80 are negative, so "< 0x20" catches them */
        __m128i bad = _mm_or_si128(
            _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                      _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmpeq_epi8(v, pct)));
        int mask = _mm_movemask_epi8(bad);
        if (mask) {
            return n + (apr_size_t)__builtin_ctz((unsigned)mask);
        }
    }
#endif
    for (; n + 8 <= end; n += 8) {
        apr_uint64_t v = fx_load8(s + n);
        if (FX_HAS_HIGH(v) || FX_HAS_LESS(v, 0x20) || FX_HAS_BYTE(v, 0x7f)
            || FX_HAS_BYTE(v, '"') || FX_HAS_BYTE(v, '\\')
            || (pct_too && FX_HAS_BYTE(v, '%'))) {
            break;
        }
    }
    while (n < end && (fx_needs_escape(s[n]) == 0
                       || (!pct_too && s[n] == '%'))) {
        n++;
    }
    return n;
}

static apr_size_t fx_plain_run(const char *s, apr_size_t len, apr_size_t max)
{
    return fx_plain_run_ex(s, len, max, 1);
}

/* Length of the well-formed UTF-8 sequence at s[0..len) (Unicode table
 * 3-7: no overlongs, no surrogates, nothing above U+10FFFF), or 0 when
 * there is none; then *bad gets the length of its maximal subpart, the
 * bytes one U+FFFD replaces (Unicode's recommended practice, as the WHATWG
 * decoder and Python's errors="replace" do). */
apr_size_t fx_utf8_len(const unsigned char *s, apr_size_t len,
                       apr_size_t *bad)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    apr_size_t n, i, ignored;

    if (!bad) {
        bad = &ignored;
    }
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    }
    else {
        *bad = 1;
        return 0;
    }
    for (i = 1; i < n; i++) {
        if (i >= len || s[i] < lo || s[i] > hi) {
            *bad = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return n;
}

/* Where a cut at src[i] should be instead so that it does not split a
 * well-formed UTF-8 character: the start of the character it would split,
 * or i. */
static apr_size_t fx_utf8_cut(const char *src, apr_size_t len, apr_size_t i)
{
    apr_size_t j, bad;
    for (j = i; j > 0 && i - j < 3; j--) {
        unsigned char c = (unsigned char)src[j - 1];
        if (c >= 0xC2 && c <= 0xF4) {
            apr_size_t n = fx_utf8_len((const unsigned char *)src + j - 1,
                                       len - (j - 1), &bad);
            return n && j - 1 + n > i ? j - 1 : i;
        }
        if (c < 0x80 || c > 0xBF) {
            break;
        }
    }
    return i;
}

int fx_json_is_log_safe(const char *s, apr_size_t len)
{
    apr_size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        apr_uint64_t v = fx_load8(s + i);
        if (FX_HAS_HIGH(v) || FX_HAS_LESS(v, 0x20) || FX_HAS_BYTE(v, 0x7f)
            || FX_HAS_BYTE(v, '\\')) {
            break;
        }
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '\\') {
            return 0;
        }
    }
    return 1;
}

apr_size_t fx_json_encoded_len(const char *src, apr_size_t len)
{
    apr_size_t n = 0, i = 0;
    while (i < len) {
        apr_size_t run = fx_plain_run(src + i, len - i, len - i);
        n += run;
        i += run;
        if (i < len) {
            n += 3;
            i++;
        }
    }
    return n;
}

apr_size_t fx_json_encode_into(char *dst, apr_size_t cap, const char *src,
                               apr_size_t len, apr_size_t *written)
{
    apr_size_t i = 0, o = 0;

    if (cap == 0) {
        *written = 0;
        return 0;
    }
    while (i < len) {
        unsigned char c = (unsigned char)src[i];
        if (fx_needs_escape(c)) {
            if (o + 3 >= cap) {
                break;
            }
            dst[o++] = '%';
            dst[o++] = fx_hex[c >> 4];
            dst[o++] = fx_hex[c & 0x0f];
            i++;
        }
        else {
            /* a run of plain bytes, copied at once */
            apr_size_t run = fx_plain_run(src + i, len - i, cap - 1 - o);
            if (run == 0) {
                break;
            }
            memcpy(dst + o, src + i, run);
            o += run;
            i += run;
        }
    }
    if (i < len) {
        /* a cut: never inside a character (its bytes are all escaped) */
        apr_size_t at = fx_utf8_cut(src, len, i);
        o -= 3 * (i - at);
        i = at;
    }
    dst[o] = '\0';
    *written = o;
    return i;
}

char *fx_json_quote(apr_pool_t *p, const char *src, apr_size_t max_out,
                    int *truncated)
{
    if (!src) {
        src = "";
    }
    return fx_json_quote_len(p, src, strlen(src), max_out, truncated);
}

char *fx_json_quote_len(apr_pool_t *p, const char *src, apr_size_t len,
                        apr_size_t max_out, int *truncated)
{
    apr_size_t enc, cap, consumed, written;
    char *out;

    /* every byte encodes to one or more: a long value is not measured */
    enc = max_out && len >= max_out ? max_out : fx_json_encoded_len(src, len);
    if (max_out && enc > max_out) {
        enc = max_out;
    }
    cap = enc + 1;
    out = apr_palloc(p, cap + 2);
    out[0] = '"';
    consumed = fx_json_encode_into(out + 1, cap, src, len, &written);
    out[1 + written] = '"';
    out[2 + written] = '\0';
    if (truncated) {
        *truncated = consumed < len;
    }
    return out;
}

static int fx_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

char *fx_json_decode(apr_pool_t *p, const char *src, apr_size_t *out_len)
{
    apr_size_t len = strlen(src), i, o = 0;
    char *out = apr_palloc(p, len + 1);

    for (i = 0; i < len; i++) {
        int hi, lo;
        if (src[i] == '%' && i + 2 < len
            && (hi = fx_hexval(src[i + 1])) >= 0
            && (lo = fx_hexval(src[i + 2])) >= 0) {
            out[o++] = (char)((hi << 4) | lo);
            i += 2;
        }
        else {
            out[o++] = src[i];
        }
    }
    out[o] = '\0';
    if (out_len) {
        *out_len = o;
    }
    return out;
}

/* -------------------------------------------------------------------- */
/* RFC 8259 strings (ForbiddenExplainLog, problem+json)                  */

/* The escape of an ASCII byte that JSON strings may not hold as is (or
 * that a terminal should not receive: DEL), into out; its length. */
static apr_size_t fx_std_escape(unsigned char c, char *out)
{
    switch (c) {
    case '"':  out[1] = '"';  break;
    case '\\': out[1] = '\\'; break;
    case '\b': out[1] = 'b';  break;
    case '\f': out[1] = 'f';  break;
    case '\n': out[1] = 'n';  break;
    case '\r': out[1] = 'r';  break;
    case '\t': out[1] = 't';  break;
    default:
        memcpy(out, "\\u00", 4);
        out[4] = "0123456789abcdef"[c >> 4];
        out[5] = "0123456789abcdef"[c & 0x0f];
        return 6;
    }
    out[0] = '\\';
    return 2;
}

/* The std encoding of src[0..len) into dst (cap bytes with the NUL), or
 * only counted when dst is NULL.  Returns the bytes consumed. */
static apr_size_t fx_std_encode(char *dst, apr_size_t cap, const char *src,
                                apr_size_t len, apr_size_t *written)
{
    apr_size_t i = 0, o = 0;
    const apr_size_t room = dst ? cap - 1 : (apr_size_t)-1;

    while (i < len) {
        unsigned char c = (unsigned char)src[i];
        char esc[6];
        const char *piece = esc;
        apr_size_t n, take = 1, bad = 1;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            n = fx_plain_run_ex(src + i, len - i, room - o, 0);
            if (n == 0) {
                break;
            }
            if (dst) {
                memcpy(dst + o, src + i, n);
            }
            o += n;
            i += n;
            continue;
        }
        if (c < 0x80) {
            n = fx_std_escape(c, esc);
        }
        else if ((take = fx_utf8_len((const unsigned char *)src + i, len - i,
                                     &bad)) != 0) {
            piece = src + i;        /* a whole character, as is */
            n = take;
        }
        else {
            piece = "\\ufffd";      /* each maximal ill-formed subpart */
            n = 6;
            take = bad;
        }
        if (n > room - o) {
            break;
        }
        if (dst) {
            memcpy(dst + o, piece, n);
        }
        o += n;
        i += take;
    }
    if (dst) {
        dst[o] = '\0';
    }
    *written = o;
    return i;
}

apr_size_t fx_json_std_encoded_len(const char *src, apr_size_t len)
{
    apr_size_t w;
    fx_std_encode(NULL, 0, src, len, &w);
    return w;
}

apr_size_t fx_json_std_encode_into(char *dst, apr_size_t cap, const char *src,
                                   apr_size_t len, apr_size_t *written)
{
    if (cap == 0) {
        *written = 0;
        return 0;
    }
    return fx_std_encode(dst, cap, src, len, written);
}

char *fx_json_std_quote_len(apr_pool_t *p, const char *src, apr_size_t len,
                            apr_size_t max_out, int *truncated)
{
    apr_size_t enc, consumed, written;
    char *out;

    enc = max_out && len >= max_out ? max_out
                                    : fx_json_std_encoded_len(src, len);
    if (max_out && enc > max_out) {
        enc = max_out;
    }
    out = apr_palloc(p, enc + 3);
    out[0] = '"';
    consumed = fx_std_encode(out + 1, enc + 1, src, len, &written);
    out[1 + written] = '"';
    out[2 + written] = '\0';
    if (truncated) {
        *truncated = consumed < len;
    }
    return out;
}

char *fx_json_std_quote(apr_pool_t *p, const char *src, apr_size_t max_out,
                        int *truncated)
{
    if (!src) {
        src = "";
    }
    return fx_json_std_quote_len(p, src, strlen(src), max_out, truncated);
}

/* -------------------------------------------------------------------- */
/* pre-rendered (raw) JSON values                                        */

/* A raw value is log-safe, so it holds no backslash: a string token runs
 * from one '"' to the next.  The grammar below is RFC 8259's, on that
 * alphabet. */
typedef struct {
    const char *s;
    apr_size_t i, len;
    int depth;
} fx_scan;

static void fx_ws(fx_scan *c)
{
    while (c->i < c->len && c->s[c->i] == ' ') {
        c->i++;
    }
}

static int fx_value(fx_scan *c);

static int fx_string_tok(fx_scan *c)
{
    const char *q;
    if (c->i >= c->len || c->s[c->i] != '"') {
        return 0;
    }
    q = memchr(c->s + c->i + 1, '"', c->len - c->i - 1);
    if (!q) {
        return 0;
    }
    c->i = (apr_size_t)(q - c->s) + 1;
    return 1;
}

static int fx_number_tok(fx_scan *c)
{
    apr_size_t st = c->i, d;
    if (c->i < c->len && c->s[c->i] == '-') {
        c->i++;
    }
    d = c->i;
    while (c->i < c->len && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
        c->i++;
    }
    if (c->i == d || (c->s[d] == '0' && c->i - d > 1)) {
        return 0;
    }
    if (c->i < c->len && c->s[c->i] == '.') {
        d = ++c->i;
        while (c->i < c->len && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
            c->i++;
        }
        if (c->i == d) {
            return 0;
        }
    }
    if (c->i < c->len && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++;
        if (c->i < c->len && (c->s[c->i] == '+' || c->s[c->i] == '-')) {
            c->i++;
        }
        d = c->i;
        while (c->i < c->len && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
            c->i++;
        }
        if (c->i == d) {
            return 0;
        }
    }
    return c->i > st;
}

static int fx_word_tok(fx_scan *c, const char *w)
{
    apr_size_t n = strlen(w);
    if (c->len - c->i < n || memcmp(c->s + c->i, w, n) != 0) {
        return 0;
    }
    c->i += n;
    return 1;
}

static int fx_container(fx_scan *c, char close)
{
    int first = 1;
    if (++c->depth > 32) {
        return 0;
    }
    c->i++;
    fx_ws(c);
    while (c->i < c->len && c->s[c->i] != close) {
        if (!first) {
            if (c->s[c->i] != ',') {
                return 0;
            }
            c->i++;
            fx_ws(c);
        }
        first = 0;
        if (close == '}') {
            if (!fx_string_tok(c)) {
                return 0;
            }
            fx_ws(c);
            if (c->i >= c->len || c->s[c->i] != ':') {
                return 0;
            }
            c->i++;
            fx_ws(c);
        }
        if (!fx_value(c)) {
            return 0;
        }
        fx_ws(c);
    }
    if (c->i >= c->len) {
        return 0;
    }
    c->i++;
    c->depth--;
    return 1;
}

static int fx_value(fx_scan *c)
{
    char ch;
    if (c->i >= c->len) {
        return 0;
    }
    ch = c->s[c->i];
    switch (ch) {
    case '"': return fx_string_tok(c);
    case '[': return fx_container(c, ']');
    case '{': return fx_container(c, '}');
    case 't': return fx_word_tok(c, "true");
    case 'f': return fx_word_tok(c, "false");
    case 'n': return fx_word_tok(c, "null");
    default:  return fx_number_tok(c);
    }
}

int fx_json_raw_valid(const char *s, apr_size_t len)
{
    fx_scan c;
    if (!fx_json_is_log_safe(s, len)) {
        return 0;
    }
    c.s = s;
    c.i = 0;
    c.len = len;
    c.depth = 0;
    fx_ws(&c);
    if (!fx_value(&c)) {
        return 0;
    }
    fx_ws(&c);
    return c.i == len;
}

int fx_json_raw_items(const char *s, apr_size_t len, apr_array_header_t *spans)
{
    fx_scan c;
    int n = 0;
    c.s = s;
    c.i = 0;
    c.len = len;
    c.depth = 0;
    fx_ws(&c);
    if (c.i >= len || s[c.i] != '[') {
        return 0;
    }
    c.i++;
    for (;;) {
        apr_size_t st;
        fx_ws(&c);
        if (c.i < len && s[c.i] == ']') {
            c.i++;
            fx_ws(&c);
            return c.i == len;
        }
        if (n++) {
            if (c.i >= len || s[c.i] != ',') {
                return 0;
            }
            c.i++;
            fx_ws(&c);
        }
        st = c.i;
        c.depth = 1;
        if (!fx_value(&c)) {
            return 0;
        }
        APR_ARRAY_PUSH(spans, apr_size_t) = st;
        APR_ARRAY_PUSH(spans, apr_size_t) = c.i - st;
    }
}

const char *fx_json_raw_render(apr_pool_t *p, const char *s, apr_size_t len,
                               int std, apr_size_t max_out, int *truncated,
                               apr_size_t *longest)
{
    apr_array_header_t *parts;
    apr_size_t i = 0, most = 0;
    int cut = 0;

    if (truncated) {
        *truncated = 0;
    }
    if (!std) {
        /* log-safe already: a copy, unless some string is to be cut */
        const char *q = s, *end = s + len, *close;
        while ((q = memchr(q, '"', (apr_size_t)(end - q))) != NULL
               && (close = memchr(q + 1, '"', (apr_size_t)(end - q - 1)))) {
            if ((apr_size_t)(close - q - 1) > most) {
                most = (apr_size_t)(close - q - 1);
            }
            q = close + 1;
        }
        if (!max_out || most <= max_out) {
            if (longest) {
                *longest = most;
            }
            return apr_pstrmemdup(p, s, len);
        }
        most = 0;
    }
    parts = apr_array_make(p, 16, sizeof(const char *));
    while (i < len) {
        const char *q = memchr(s + i, '"', len - i), *end;
        apr_size_t blen;
        const char *piece;
        int t = 0;
        if (!q) {
            APR_ARRAY_PUSH(parts, const char *) = apr_pstrmemdup(p, s + i,
                                                                 len - i);
            break;
        }
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrmemdup(p, s + i,
                                                             q - (s + i));
        end = memchr(q + 1, '"', len - (apr_size_t)(q + 1 - s));
        if (!end) {                 /* not from fx_json_raw_valid(): keep */
            APR_ARRAY_PUSH(parts, const char *) = apr_pstrmemdup(p, q,
                                                    len - (apr_size_t)(q - s));
            break;
        }
        blen = (apr_size_t)(end - q - 1);
        if (!std && (!max_out || blen <= max_out)) {
            piece = apr_pstrmemdup(p, q, blen + 2);     /* as it is */
        }
        else {
            apr_size_t dlen;
            char *dec = fx_json_decode(p, apr_pstrmemdup(p, q + 1, blen),
                                       &dlen);
            piece = std ? fx_json_std_quote_len(p, dec, dlen, max_out, &t)
                        : fx_json_quote_len(p, dec, dlen, max_out, &t);
        }
        APR_ARRAY_PUSH(parts, const char *) = piece;
        if (strlen(piece) - 2 > most) {
            most = strlen(piece) - 2;
        }
        cut |= t;
        i = (apr_size_t)(end - s) + 1;
    }
    if (truncated) {
        *truncated = cut;
    }
    if (longest) {
        *longest = most;
    }
    return apr_array_pstrcat(p, parts, 0);
}
