/* fuzz_jsonin.c — libFuzzer target for the what-if simulator's strict JSON
 * reader (src/fx_jsonin.c), which reads every probe a client sends.
 * Oracles: what it accepts is RFC 8259 JSON by fuzz_util.h's independent
 * grammar check; a refusal always has a message; an accepted value written
 * back (strings in the standard encoding of fx_json.c) is read again into
 * the same value (types, numbers, string bytes, keys, order).
 * FUZZ_SOURCES: src/fx_jsonin.c src/fx_json.c */
#include "fuzz_util.h"
#include "fx_json.h"
#include "fx_jsonin.h"

static char *fz_write(apr_pool_t *p, const fx_jv *v)
{
    const fx_jv *m;
    char *out;
    switch (v->type) {
    case FX_JV_NULL:
        return "null";
    case FX_JV_BOOL:
        return v->b ? "true" : "false";
    case FX_JV_NUM:
        out = apr_palloc(p, 40);   /* libc: APR's %g is not exact */
        snprintf(out, 40, "%.17g", v->num);
        return out;
    case FX_JV_STR:
        return fx_json_std_quote_len(p, v->str, v->len, 0, NULL);
    default:
        out = v->type == FX_JV_ARR ? "[" : "{";
        for (m = v->first; m; m = m->next) {
            out = apr_pstrcat(p, out, m == v->first ? "" : ",",
                              v->type == FX_JV_OBJ
                              ? fx_json_std_quote_len(p, m->key, m->key_len, 0,
                                                      NULL) : "",
                              v->type == FX_JV_OBJ ? ":" : "", fz_write(p, m),
                              NULL);
        }
        return apr_pstrcat(p, out, v->type == FX_JV_ARR ? "]" : "}", NULL);
    }
}

static int fz_same(const fx_jv *a, const fx_jv *b)
{
    const fx_jv *x, *y;
    if (a->type != b->type || a->n != b->n) {
        return 0;
    }
    switch (a->type) {
    case FX_JV_BOOL:
        return a->b == b->b;
    case FX_JV_NUM:
        return a->num == b->num || (a->num != a->num && b->num != b->num);
    case FX_JV_STR:
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case FX_JV_ARR:
    case FX_JV_OBJ:
        for (x = a->first, y = b->first; x && y; x = x->next, y = y->next) {
            if (x->key_len != y->key_len
                || (x->key_len && memcmp(x->key, y->key, x->key_len))
                || !fz_same(x, y)) {
                return 0;
            }
        }
        return !x && !y;
    default:
        return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    const char *err = NULL, *err2 = NULL;
    fx_jv *v = fx_jsonin_parse(p, (const char *)data, size, &err), *w;
    char *again;

    if (!v) {
        FZ_ASSERT(err && *err);
        return 0;
    }
    FZ_ASSERT(fz_json_valid((const char *)data, size, 0));
    again = fz_write(p, v);
    w = fx_jsonin_parse(p, again, strlen(again), &err2);
    /* numbers beyond double range come back as inf, which JSON cannot
     * write: only finite values are compared */
    if (!w && strstr(again, "inf")) {
        return 0;
    }
    FZ_ASSERT(w != NULL);
    FZ_ASSERT(fz_same(v, w));
    return 0;
}
