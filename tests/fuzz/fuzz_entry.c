/* fuzz_entry.c — libFuzzer target for entry building and bounded rendering
 * (src/fx_entry.c over src/fx_json.c): the input is a program of set / set
 * integer / set raw / remove operations on the documented keys (keys are
 * module constants, values are request data) and a byte budget.  Oracles:
 * the rendering is one strict JSON object, log-safe, within the budget for
 * the budgets the module uses, every value decodes to (a prefix of) what was
 * set, and fx_entry_get agrees with the last operation.
 * FUZZ_SOURCES: src/fx_json.c src/fx_entry.c */
#include "fuzz_util.h"
#include "fx_json.h"
#include "fx_entry.h"

static const char *const keys[] = {
    "status", "reason", "module", "phase", "directive", "file", "line",
    "section", "path", "method", "uri", "client_ip", "peer_ip", "user",
    "request_id", "detail", "hint", "ah", "via", "subrequest_uri", "handler",
    "x_extra", "require", "component"
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    fx_entry *e = fx_entry_make(p);
    const char *last[NKEYS] = { 0 };
    int kind[NKEYS] = { 0 };            /* 0 none, 1 str, 2 int, 3 raw */
    apr_size_t budget = 256 + ((fz_byte(&in) | (fz_byte(&in) << 8)) % 8000);
    int ops = 0;
    char *out;
    size_t olen, k;

    while (in.n && ops++ < 64) {
        unsigned op = fz_byte(&in);
        unsigned ki = fz_byte(&in) % NKEYS;
        const char *key = keys[ki];
        char *v = fz_slice(&in, p, NULL);
        switch (op % 5) {
        case 0:
        case 1:
            fx_entry_set(e, key, v);
            last[ki] = v;
            kind[ki] = 1;
            break;
        case 2: {
            apr_uint64_t u = 0;
            apr_int64_t n;
            size_t i;
            for (i = 0; v[i] && i < 8; i++) {
                u = (u << 8) | (unsigned char)v[i];
            }
            n = (apr_int64_t)(u >> 1);
            if (op & 0x80) {
                n = -n;
            }
            fx_entry_set_int(e, key, n);
            last[ki] = apr_psprintf(p, "%" APR_INT64_T_FMT, n);
            kind[ki] = 2;
            break;
        }
        case 3: {
            /* Raw values are built the way producers build them: quoted
             * strings in an array, bounded by the producer. */
            char *raw = apr_pstrcat(p, "[", fx_json_quote(p, v, 200, NULL),
                                    ",", fx_json_quote(p, key, 0, NULL), "]",
                                    NULL);
            if ((op & 0x40) && !fx_json_is_log_safe(v, strlen(v))) {
                /* a careless producer's bytes httpd would escape: the
                 * entry renders them as a string */
                raw = v;
            }
            fx_entry_set_raw(e, key, raw);
            last[ki] = raw;
            kind[ki] = 3;
            break;
        }
        default:
            fx_entry_set(e, key, NULL);
            last[ki] = NULL;
            kind[ki] = 0;
        }
    }

    for (k = 0; k < NKEYS; k++) {
        const char *got = fx_entry_get(e, keys[k]);
        FZ_ASSERT(!got == !last[k]);
        FZ_ASSERT(!got || strcmp(got, last[k]) == 0);
    }

    out = fx_entry_render(e, p, budget);
    olen = strlen(out);
    FZ_ASSERT(fz_json_valid(out, olen, 1));
    FZ_ASSERT(fz_log_safe(out, olen));
    /* 24 keys cut to 16 bytes each fit in 1500 bytes; below that the
     * budget is a best effort by design (fx_entry.h). */
    FZ_ASSERT(budget < 1500 || olen <= budget);

    /* Each string value is a prefix of what was set (decoded). */
    for (k = 0; k < NKEYS; k++) {
        const char *pat, *at, *end;
        char *enc, *dec;
        apr_size_t dl;
        if (kind[k] != 1) {
            continue;
        }
        pat = apr_pstrcat(p, "\"", keys[k], "\":\"", NULL);
        at = strstr(out, pat);
        FZ_ASSERT(at != NULL);          /* only raw values are ever dropped */
        at += strlen(pat);
        end = strchr(at, '"');
        FZ_ASSERT(end != NULL);
        enc = apr_pstrndup(p, at, end - at);
        dec = fx_json_decode(p, enc, &dl);
        FZ_ASSERT(strncmp(dec, last[k], dl) == 0);
    }
    return 0;
}
