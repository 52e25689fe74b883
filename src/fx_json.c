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
static apr_size_t fx_plain_run(const char *s, apr_size_t len, apr_size_t max)
{
    apr_size_t n = 0, end = len < max ? len : max;

#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f),
                  quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  pct = _mm_set1_epi8('%');
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
            || FX_HAS_BYTE(v, '%')) {
            break;
        }
    }
    while (n < end && !fx_needs_escape(s[n])) {
        n++;
    }
    return n;
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
    dst[o] = '\0';
    *written = o;
    return i;
}

char *fx_json_quote(apr_pool_t *p, const char *src, apr_size_t max_out,
                    int *truncated)
{
    apr_size_t len, enc, cap, consumed, written;
    char *out;

    if (!src) {
        src = "";
    }
    len = strlen(src);
    enc = fx_json_encoded_len(src, len);
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
