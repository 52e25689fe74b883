/* fuzz_json.c — libFuzzer target for the log-safe JSON string encoding
 * (src/fx_json.c), which every request-derived byte the module logs goes
 * through.  Oracles: the quoted string is valid JSON, log-safe, within the
 * requested bound, never splits an escape, and decodes back to the input
 * (or to a prefix of it when cut, with the cut flag set exactly then).
 * FUZZ_SOURCES: src/fx_json.c */
#include "fuzz_util.h"
#include "fx_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    apr_size_t max_out = fz_byte(&in) | (fz_byte(&in) << 8);
    size_t len, olen, dlen, slen;
    char *src = fz_slice(&in, p, &len);
    char *q, *dec, buf[64];
    int cut = -1;
    apr_size_t consumed, written, cap;

    slen = strlen(src);                 /* the API takes C strings */
    if (max_out % 7 == 0) {
        max_out = 0;                    /* often: no limit */
    }
    q = fx_json_quote(p, src, max_out, &cut);
    olen = strlen(q);
    FZ_ASSERT(olen >= 2 && q[0] == '"' && q[olen - 1] == '"');
    FZ_ASSERT(fz_json_valid(q, olen, 0));
    FZ_ASSERT(fz_log_safe(q, olen));
    FZ_ASSERT(max_out == 0 || olen - 2 <= max_out);
    FZ_ASSERT(cut == 0 || cut == 1);
    FZ_ASSERT(!cut == (fx_json_encoded_len(src, slen) == olen - 2));

    q[olen - 1] = '\0';
    dec = fx_json_decode(p, q + 1, &dlen);
    FZ_ASSERT(dlen <= slen && memcmp(dec, src, dlen) == 0);
    FZ_ASSERT(cut || dlen == slen);

    /* The raw encoder on a small fixed buffer, with an embedded-NUL length. */
    cap = 1 + (max_out % sizeof(buf));
    consumed = fx_json_encode_into(buf, cap, src, len, &written);
    FZ_ASSERT(written < cap && buf[written] == '\0');
    FZ_ASSERT(consumed <= len);
    FZ_ASSERT(fx_json_encoded_len(src, consumed) == written);
    FZ_ASSERT(fz_log_safe(buf, written));
    return 0;
}
