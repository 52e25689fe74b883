/* fuzz_wire.c — libFuzzer target for what an entry looks like on the wire
 * (src/fx_wire_render.c over fx_sf.c, fx_entry.c, fx_json.c): the
 * Forbidden-Explain header value, the problem+json body, and the default
 * redaction of expression literals.  Entries are built from the input as
 * the subsystems build them (documented keys, request data as values, raw
 * JSON arrays from fx_json_quote).  Oracles: the header is one RFC 8941
 * Dictionary within FX_WIRE_HEADER_BUDGET, the body one JSON object in
 * well-formed UTF-8 within FX_WIRE_PROBLEM_BUDGET, and a scrubbed text no
 * longer holds its literal.
 * FUZZ_SOURCES: src/fx_wire_render.c src/fx_exprlit.c src/fx_sf.c src/fx_entry.c src/fx_json.c */
#include "fuzz_util.h"
#include "fx_json.h"
#include "fx_entry.h"
#include "fx_sf.h"
#include "fx_wire_render.h"

/* Well-formed UTF-8 (Unicode table 3-7). */
static int fz_utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0, len, k;
    while (i < n) {
        unsigned char c = s[i], lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        }
        else {
            return 0;
        }
        for (k = 1; k < len; k++, lo = 0x80, hi = 0xBF) {
            if (i + k >= n || s[i + k] < lo || s[i + k] > hi) {
                return 0;
            }
        }
        i += len;
    }
    return 1;
}

static const char *const keys[] = {
    "status", "reason", "module", "phase", "directive", "file", "line",
    "section", "path", "method", "uri", "client_ip", "user", "request_id",
    "detail", "hint", "ah", "require", "symlink_target", "backend"
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    unsigned sel = fz_byte(&in);
    fx_entry *e = fx_entry_make(p);
    apr_array_header_t *lits;
    const char *text, *out;
    char *hv, *pj;
    size_t n;
    int ops = 0;

    if (sel & 1) {
        /* redaction of an expression's literals */
        text = fz_slice(&in, p, NULL);
        lits = apr_array_make(p, 4, sizeof(const char *));
        fx_wire_collect_literals(p, text, (sel & 2) != 0, lits);
        out = fx_wire_scrub(p, text, lits, 0);
        FZ_ASSERT(out != NULL);
        if (lits->nelts == 1) {
            const char *lit = APR_ARRAY_IDX(lits, 0, const char *);
            if (*lit && !strpbrk(lit, "[]redact")) {
                FZ_ASSERT(strstr(out, lit) == NULL);
            }
        }
        (void)fx_wire_redact_literals(p, text);
        return 0;
    }

    while (in.n && ops++ < 48) {
        unsigned op = fz_byte(&in);
        const char *key = keys[fz_byte(&in) % NKEYS];
        char *v = fz_slice(&in, p, NULL);
        /* The header keeps reason and request id whole; both come from
         * the module or mod_unique_id, never from the client, and are
         * short: so only those are kept short here. */
        if (!strcmp(key, "reason") || !strcmp(key, "request_id")) {
            v[strlen(v) > 64 ? 64 : strlen(v)] = '\0';
        }
        switch (op % 4) {
        case 0:
        case 1:
            fx_entry_set(e, key, v);
            break;
        case 2:
            fx_entry_set_int(e, key, (apr_int64_t)(op * 7919u) - 500000);
            break;
        default:
            fx_entry_set_raw(e, key, apr_pstrcat(p, "[",
                             fx_json_quote(p, v, 300, NULL), ",true,17]",
                             NULL));
        }
    }

    hv = fx_wire_header_value(p, e, FX_WIRE_HEADER_BUDGET);
    n = strlen(hv);
    FZ_ASSERT(n <= FX_WIRE_HEADER_BUDGET);
    FZ_ASSERT(fz_sf_dict_valid(hv, n));

    pj = fx_wire_problem_json(p, e, FX_WIRE_PROBLEM_BUDGET);
    n = strlen(pj);
    FZ_ASSERT(n <= FX_WIRE_PROBLEM_BUDGET);
    FZ_ASSERT(fz_json_valid(pj, n, 1));
    {
        /* standard JSON (fx_json.h): UTF-8, no raw control byte or DEL */
        size_t i;
        for (i = 0; i < n; i++) {
            FZ_ASSERT((unsigned char)pj[i] >= 0x20 && (unsigned char)pj[i] != 0x7f);
        }
        FZ_ASSERT(fz_utf8_ok((const unsigned char *)pj, n));
    }
    return 0;
}
