/* fuzz_entry.c — libFuzzer target for the entry builder (src/fx_entry.c over
 * src/fx_json.c): the input is a program of set / set integer / set raw /
 * set list / remove operations on the documented keys and a few others
 * (keys are module constants, values are request data, as large and
 * hostile as the input makes them) and a byte budget.  Oracles, for the
 * log-safe and the standard encoding alike:
 *   - the document is one strict JSON object within the budget, log-safe
 *     (%HH) or valid UTF-8 without raw control bytes (standard);
 *   - every string value set is there exactly, or its key is listed in
 *     "truncated" (then what is there is a prefix of its encoding), or the
 *     document is the last resort ("truncated":["*"]);
 *   - a list that is there keeps its first deciding item, and its items
 *     plus "<key>_omitted" add up to what was set;
 *   - fx_entry_get agrees with the last operation.
 * FUZZ_SOURCES: src/fx_json.c src/fx_entry.c */
#include "fuzz_util.h"
#include "fx_json.h"
#include "fx_entry.h"

static const char *const keys[] = {
    "status", "reason", "module", "phase", "directive", "file", "line",
    "section", "path", "method", "uri", "client_ip", "peer_ip", "user",
    "request_id", "detail", "hint", "ah", "via", "subrequest_uri", "handler",
    "x_extra", "require", "component", "conditions", "conditions_omitted",
    "trail", "truncated"
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

enum { K_NONE, K_STR, K_INT, K_RAW, K_LIST };

typedef struct {
    const char *last;               /* fx_entry_get's answer */
    int kind;
    int n_items, first_deciding;    /* lists */
} fz_fact;

/* Well-formed UTF-8 (the standard encoding's promise). */
static int fz_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len, k;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        }
        else return 0;
        for (k = 1; k < len; k++) {
            if (i + k >= n || s[i + k] < lo || s[i + k] > hi) {
                return 0;
            }
            lo = 0x80;
            hi = 0xBF;
        }
        i += len;
    }
    return 1;
}

/* End of the JSON value starting at s[i] (strings with escapes skipped). */
static size_t fz_value_end(const char *s, size_t n, size_t i)
{
    int depth = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < n && s[i] != '"'; i++) {
                if (s[i] == '\\') {
                    i++;
                }
            }
            if (!depth) {
                return i + 1;
            }
        }
        else if (c == '[' || c == '{') {
            depth++;
        }
        else if (c == ']' || c == '}') {
            if (--depth <= 0) {
                return i + 1 - (depth < 0);
            }
        }
        else if (!depth && c == ',') {
            return i;
        }
    }
    return n;
}

/* The value of top-level key in a document, as [*at, *end); 0 if absent.
 * Walks the members (keys are the callers' literals: no escapes); with
 * key NULL, returns 1 when no key occurs twice. */
static int fz_member(const char *out, const char *key, const char **at,
                     const char **end)
{
    size_t n = strlen(out), i = 1;
    const char *seen[128];
    size_t seen_len[128];
    int n_seen = 0, j;

    while (i < n && out[i] == '"') {
        const char *k = out + i + 1, *q = strchr(k, '"');
        size_t v, ve;
        if (!q) {
            return 0;
        }
        v = (size_t)(q - out) + 2;          /* past '":' */
        ve = fz_value_end(out, n, v);
        if (key && (size_t)(q - k) == strlen(key) && !memcmp(k, key, q - k)) {
            *at = out + v;
            *end = out + ve;
            return 1;
        }
        if (!key) {
            for (j = 0; j < n_seen; j++) {
                if (seen_len[j] == (size_t)(q - k)
                    && !memcmp(seen[j], k, q - k)) {
                    return 0;
                }
            }
            if (n_seen < 128) {
                seen[n_seen] = k;
                seen_len[n_seen++] = (size_t)(q - k);
            }
        }
        i = ve + 1;                         /* past ',' */
    }
    return !key;
}

static int fz_truncated(const char *out, const char *key)
{
    const char *at, *end, *p;
    char pat[64];
    if (!fz_member(out, "truncated", &at, &end)) {
        return 0;
    }
    snprintf(pat, sizeof(pat), "\"%s\"", key);
    p = strstr(at, pat);
    return p && p < end;
}

static size_t fz_count(const char *at, const char *end, const char *pat)
{
    size_t n = 0, l = strlen(pat);
    const char *p = at;
    while ((p = strstr(p, pat)) && p < end) {
        n++;
        p += l;
    }
    return n;
}

static void fz_check(apr_pool_t *p, const fx_entry *e, const fz_fact *facts,
                     apr_size_t budget, int std)
{
    fx_entry_style style = { std ? FX_ENC_JSON : FX_ENC_LOG, NULL, NULL, NULL };
    char *out = std ? fx_entry_render_as(e, p, budget, &style)
                    : fx_entry_render(e, p, budget);
    size_t olen = strlen(out), k;
    int star = strstr(out, "\"truncated\":[\"*\"]") != NULL;

    FZ_ASSERT(fz_json_valid(out, olen, 1));
    FZ_ASSERT(fz_member(out, NULL, NULL, NULL));    /* no duplicate key */
    FZ_ASSERT(olen <= budget);
    if (std) {
        FZ_ASSERT(fz_utf8_valid((const unsigned char *)out, olen));
        for (k = 0; k < olen; k++) {
            FZ_ASSERT((unsigned char)out[k] >= 0x20 && out[k] != 0x7f);
        }
    }
    else {
        FZ_ASSERT(fz_log_safe(out, olen));
    }

    for (k = 0; k < NKEYS; k++) {
        const fz_fact *f = &facts[k];
        const char *at, *end;
        int present, cut;
        if (!strcmp(keys[k], "truncated") || f->kind == K_NONE) {
            continue;
        }
        present = fz_member(out, keys[k], &at, &end);
        cut = fz_truncated(out, keys[k]);
        if (f->kind == K_STR) {
            char *want = std ? fx_json_std_quote(p, f->last, 0, NULL)
                             : fx_json_quote(p, f->last, 0, NULL);
            size_t got = (size_t)(end - at);
            FZ_ASSERT(present || cut || star);
            if (present && !strcmp(keys[k], "conditions_omitted")
                && (facts[24].kind == K_LIST
                    || (facts[24].kind == K_RAW && facts[24].last
                        && facts[24].last[0] == '['))) {
                /* the list's count replaces a string there (a raw array
                 * is split into items as a list is) */
                continue;
            }
            if (present) {
                /* what is there is the encoding, whole or a prefix of it */
                FZ_ASSERT(got >= 2 && at[0] == '"' && at[got - 1] == '"');
                FZ_ASSERT(got <= strlen(want)
                          && memcmp(at, want, got - 1) == 0);
                FZ_ASSERT(cut || star || got == strlen(want));
            }
        }
        else if (f->kind == K_LIST && present) {
            /* items are {"v":...,"i":N}: count them, find the deciding */
            size_t kept = fz_count(at, end, "{\"v\":");
            const char *oat, *oend;
            char *okey = apr_pstrcat(p, keys[k], "_omitted", NULL);
            long omitted = 0;
            if (fz_member(out, okey, &oat, &oend)) {
                omitted = strtol(oat, NULL, 10);
            }
            /* (a count of the producer's own, or a raw value in its place:
             * the sum is not the builder's alone) */
            FZ_ASSERT(kept + omitted == (size_t)f->n_items || star
                      || (!strcmp(keys[k], "conditions")
                          && facts[25].kind != K_NONE
                          && facts[25].kind != K_STR));
            FZ_ASSERT(kept == (size_t)f->n_items || cut || star);
            if (f->first_deciding >= 0 && !star) {
                char *pat = apr_psprintf(p, ",\"i\":%d}", f->first_deciding);
                FZ_ASSERT(fz_count(at, end, pat) == 1);
            }
        }
        else if (f->kind != K_LIST && f->kind != K_STR) {
            FZ_ASSERT(present || cut || star);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    fx_entry *e = fx_entry_make(p);
    fz_fact facts[NKEYS];
    apr_size_t budget = 256 + ((fz_byte(&in) | (fz_byte(&in) << 8)) % 8000);
    unsigned grow = fz_byte(&in);
    int ops = 0;
    size_t k;

    memset(facts, 0, sizeof(facts));
    while (in.n && ops++ < 64) {
        unsigned op = fz_byte(&in);
        unsigned ki = fz_byte(&in) % NKEYS;
        const char *key = keys[ki];
        char *v = fz_slice(&in, p, NULL);
        fz_fact *f = &facts[ki];
        if (grow & 1) {
            /* large values from small inputs: the policy's territory */
            v = apr_pstrcat(p, v, v, v, v, v, v, v, v, NULL);
        }
        f->n_items = 0;
        f->first_deciding = -1;
        switch (op % 6) {
        case 0:
        case 1:
            fx_entry_set(e, key, v);
            f->last = v;
            f->kind = K_STR;
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
            f->last = apr_psprintf(p, "%" APR_INT64_T_FMT, n);
            f->kind = K_INT;
            break;
        }
        case 3: {
            /* Raw values are built the way producers build them: quoted
             * strings in an array. */
            char *raw = apr_pstrcat(p, "[", fx_json_quote(p, v, 0, NULL),
                                    ",", fx_json_quote(p, key, 0, NULL), "]",
                                    NULL);
            f->kind = K_RAW;
            if (op & 0x40) {
                /* a careless producer's bytes: not one log-safe JSON
                 * value, so the entry renders them as a string */
                raw = v;
                if (!fx_json_raw_valid(v, strlen(v))) {
                    f->kind = K_STR;
                }
            }
            fx_entry_set_raw(e, key, raw);
            f->last = raw;
            break;
        }
        case 4: {
            /* a list of {"v":...,"i":N} items, some deciding */
            apr_array_header_t *items = apr_array_make(p, 8, sizeof(char *));
            apr_array_header_t *dec = apr_array_make(p, 8, sizeof(int));
            int n = (int)(op >> 3) % 24, i;
            size_t vl = strlen(v);
            for (i = 0; i < n; i++) {
                int d = vl && ((unsigned char)v[(size_t)i % vl] & 1);
                APR_ARRAY_PUSH(items, char *) = apr_psprintf(p,
                    "{\"v\":%s,\"i\":%d}",
                    fx_json_quote(p, v + ((size_t)i % (vl + 1)), 0, NULL), i);
                APR_ARRAY_PUSH(dec, int) = d;
                if (d && f->first_deciding < 0) {
                    f->first_deciding = i;
                }
            }
            fx_entry_set_list(e, key, items, dec);
            f->last = fx_entry_get(e, key);
            f->kind = n ? K_LIST : K_RAW;
            f->n_items = n;
            break;
        }
        default:
            fx_entry_set(e, key, NULL);
            f->last = NULL;
            f->kind = K_NONE;
        }
    }

    for (k = 0; k < NKEYS; k++) {
        const char *got = fx_entry_get(e, keys[k]);
        FZ_ASSERT(!got == !facts[k].last);
        FZ_ASSERT(!got || strcmp(got, facts[k].last) == 0);
    }
    fz_check(p, e, facts, budget, 0);
    fz_check(p, e, facts, budget, 1);
    return 0;
}
