/* fuzz_sf.c — libFuzzer target for the wire encodings (src/fx_sf.c): the
 * RFC 8941 Dictionary behind the Forbidden-Explain header, the wire text
 * escaping shared with problem+json, and the Accept test.  Oracles: every
 * serialization is a valid Dictionary of printable ASCII within the budget,
 * escaped values are valid sf-string content that decodes (backslashes,
 * then %HH) to a prefix of the input, JSON strings are valid JSON.
 * FUZZ_SOURCES: src/fx_sf.c */
#include "fuzz_util.h"
#include "fx_sf.h"

static int fz_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Undo the wire text rule (container escapes first, then %HH); the output
 * must be a prefix of src. */
static void fz_check_wire(const char *enc, size_t n, const char *src,
                          size_t slen, int cut)
{
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)enc[i], want;
        FZ_ASSERT(c >= 0x20 && c < 0x7f);
        if (c == '\\') {
            FZ_ASSERT(i + 1 < n && (enc[i + 1] == '"' || enc[i + 1] == '\\'));
            want = (unsigned char)enc[++i];
        }
        else if (c == '%') {
            int hi, lo;
            FZ_ASSERT(i + 2 < n);
            hi = fz_hexval(enc[i + 1]);
            lo = fz_hexval(enc[i + 2]);
            FZ_ASSERT(hi >= 0 && lo >= 0);
            want = (unsigned char)((hi << 4) | lo);
            i += 2;
        }
        else {
            FZ_ASSERT(c != '"');
            want = c;
        }
        FZ_ASSERT(o < slen && (unsigned char)src[o] == want);
        o++;
    }
    FZ_ASSERT(cut ? o < slen : o == slen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    apr_size_t max_out = fz_byte(&in);
    apr_size_t budget = 128 + (fz_byte(&in) | (fz_byte(&in) << 8)) % 4000;
    fx_sf_dict *d = fx_sf_dict_make(p);
    size_t len, n, ops = 0;
    int any_keep = 0;
    char *s, *enc;
    int cut;

    /* 1. escaping of one value */
    s = fz_slice(&in, p, &len);
    len = strlen(s);
    enc = fx_sf_escape(p, s, len, max_out, &cut);
    n = strlen(enc);
    FZ_ASSERT(max_out == 0 || n <= max_out);
    fz_check_wire(enc, n, s, len, cut);
    enc = fx_sf_json_string(p, s, max_out, &cut);
    n = strlen(enc);
    FZ_ASSERT(fz_json_valid(enc, n, 0));
    FZ_ASSERT(n >= 2 && (max_out == 0 || n - 2 <= max_out));
    fz_check_wire(enc + 1, n - 2, s, len, cut);
    (void)fx_sf_accepts_problem_json(s);
    FZ_ASSERT(!fx_sf_key_valid(s) || fz_sf_dict_valid(s, len));
    (void)fx_sf_token_valid(s);

    /* 2. a dictionary from the rest: key, value pairs */
    while (in.n && ops++ < 40) {
        unsigned op = fz_byte(&in);
        char *key = fz_slice(&in, p, NULL);
        char *val = fz_slice(&in, p, NULL);
        int ok;
        if (op & 0x40) {
            key = apr_psprintf(p, "k%u", op & 0x0f);  /* valid, repeating */
        }
        switch (op % 3) {
        case 0:
            ok = fx_sf_dict_string(d, key, val, op & 0x80);
            break;
        case 1:
            ok = fx_sf_dict_token(d, key, val, op & 0x80);
            break;
        default: {
            apr_int64_t v = (apr_int64_t)apr_strtoi64(val, NULL, 10);
            ok = fx_sf_dict_integer(d, key, v, op & 0x80);
        }
        }
        FZ_ASSERT(ok == fx_sf_key_valid(key));
        any_keep |= ok && (op & 0x80);
    }
    s = fx_sf_dict_serialize(d, p, budget);
    n = strlen(s);
    FZ_ASSERT(fz_sf_dict_valid(s, n));
    /* kept members are never cut or dropped: only they may exceed it */
    FZ_ASSERT(n <= budget || any_keep);
    return 0;
}
