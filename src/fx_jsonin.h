/* fx_jsonin.h — a strict JSON reader for the what-if simulator's probes
 * (fx_whatif.c): RFC 8259 only (no comments, no trailing commas, no NaN),
 * UTF-8 input, duplicate keys refused, nesting and sizes bounded, every
 * error a message saying what was wrong and at which byte.
 *
 * Pure: APR only, unit tested in tests/unit/test_jsonin.c, fuzzed by
 * tests/fuzz/fuzz_jsonin.c. */
#ifndef FX_JSONIN_H
#define FX_JSONIN_H

#include <apr_pools.h>

/* Deepest nesting accepted (a probe needs 3). */
#define FX_JSONIN_MAX_DEPTH 16

typedef enum {
    FX_JV_NULL, FX_JV_BOOL, FX_JV_NUM, FX_JV_STR, FX_JV_ARR, FX_JV_OBJ
} fx_jv_type;

typedef struct fx_jv fx_jv;
struct fx_jv {
    fx_jv_type type;
    /* FX_JV_STR: the decoded bytes, NUL-terminated; len counts them (a
     * \u0000 escape gives an embedded NUL, which callers can refuse). */
    const char *str;
    apr_size_t len;
    double num;                     /* FX_JV_NUM */
    int is_int;                     /* FX_JV_NUM written without . e E */
    int b;                          /* FX_JV_BOOL */
    /* FX_JV_ARR / FX_JV_OBJ: the members in order */
    fx_jv *first;
    int n;
    /* a member: the next one, and (in an object) its key */
    fx_jv *next;
    const char *key;
    apr_size_t key_len;
};

/* Parses exactly one JSON value (whitespace around it allowed) from
 * s[0..len).  Returns NULL and sets *err (from p) on any error. */
fx_jv *fx_jsonin_parse(apr_pool_t *p, const char *s, apr_size_t len,
                       const char **err);

/* The member of object o named key, or NULL (o not an object, or no such
 * member). */
const fx_jv *fx_jsonin_get(const fx_jv *o, const char *key);

/* The name of a type, for messages ("string", "object", ...). */
const char *fx_jsonin_type_name(fx_jv_type t);

#endif
