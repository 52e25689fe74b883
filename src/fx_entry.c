/* fx_entry.c — explanation entries and their bounded JSON rendering. */
#include <string.h>
#include <apr_strings.h>
#include "fx_entry.h"
#include "fx_json.h"

typedef enum { FX_F_STR, FX_F_INT, FX_F_RAW } fx_field_kind;

typedef struct {
    const char *key;
    fx_field_kind kind;
    int rank;                       /* position in fx_key_order, or after */
    int next;                       /* next field of the same hash, or -1 */
    apr_size_t key_len;
    const char *s;
    apr_size_t s_len;               /* strlen(s), for rendering */
    apr_int64_t n;
} fx_field;

/* Subsystems set fifty-odd facts per entry, most of them new keys: a small
 * hash over the key text finds a field without scanning them all. */
#define FX_KEY_BUCKETS 64

struct fx_entry {
    apr_pool_t *pool;
    apr_array_header_t *fields;
    int head[FX_KEY_BUCKETS];       /* first field of each bucket, or -1 */
};

static unsigned fx_key_hash(const char *key, apr_size_t len)
{
    return ((unsigned char)key[0] * 7u + (unsigned)len * 13u
            + (unsigned char)key[len ? len - 1 : 0]) % FX_KEY_BUCKETS;
}

/* The documented keys, in the order an administrator reads them. */
#define FX_KEY(name) { name, sizeof(name) - 1 }
static const struct {
    const char *name;
    apr_size_t len;
} fx_key_order[] = {
    FX_KEY("status"), FX_KEY("reason"), FX_KEY("module"), FX_KEY("phase"),
    FX_KEY("directive"), FX_KEY("file"), FX_KEY("line"), FX_KEY("section"),
    FX_KEY("path"), FX_KEY("method"), FX_KEY("uri"), FX_KEY("client_ip"),
    FX_KEY("peer_ip"), FX_KEY("user"), FX_KEY("request_id"),
    FX_KEY("detail"), FX_KEY("hint"), { NULL, 0 }
};

/* Longer values than this are cut before the budget is even considered. */
#define FX_FIELD_CAP_DEFAULT 1024

fx_entry *fx_entry_make(apr_pool_t *p)
{
    fx_entry *e = apr_palloc(p, sizeof(*e));
    e->pool = p;
    e->fields = apr_array_make(p, 32, sizeof(fx_field));
    memset(e->head, 0xff, sizeof(e->head));     /* all -1 */
    return e;
}

/* Rank of a key: documented keys by their place, others after them in the
 * order they were added.  Computed once per key, at insertion. */
static int fx_key_rank(const char *key, apr_size_t len, int insertion)
{
    int k;
    for (k = 0; fx_key_order[k].name; k++) {
        if (fx_key_order[k].len == len && fx_key_order[k].name[0] == key[0]
            && memcmp(fx_key_order[k].name, key, len) == 0) {
            return k;
        }
    }
    return 100 + insertion;
}

static fx_field *fx_find_len(const fx_entry *e, const char *key,
                             apr_size_t len)
{
    int i;
    for (i = e->head[fx_key_hash(key, len)]; i >= 0;) {
        fx_field *f = &APR_ARRAY_IDX(e->fields, i, fx_field);
        if (f->key && (f->key == key || (f->key_len == len
                                         && memcmp(f->key, key, len) == 0))) {
            return f;
        }
        i = f->next;
    }
    return NULL;
}

static fx_field *fx_find(const fx_entry *e, const char *key)
{
    return fx_find_len(e, key, strlen(key));
}

static fx_field *fx_slot(fx_entry *e, const char *key)
{
    apr_size_t len = strlen(key);
    fx_field *f = fx_find_len(e, key, len);
    if (!f) {
        unsigned h = fx_key_hash(key, len);
        f = apr_array_push(e->fields);
        f->key = key;
        f->key_len = len;
        f->rank = fx_key_rank(key, len, e->fields->nelts);
        f->next = e->head[h];
        e->head[h] = e->fields->nelts - 1;
    }
    return f;
}

void fx_entry_set(fx_entry *e, const char *key, const char *value)
{
    fx_field *f;
    if (!value) {
        f = fx_find(e, key);
        if (f) {
            f->key = NULL;
        }
        return;
    }
    f = fx_slot(e, key);
    f->kind = FX_F_STR;
    /* A copy: callers pass stack buffers (apr_strerror) and strings of
     * pools that die first (sub-requests); entries are built only for a
     * 403, so the copy costs nothing on the allowed path. */
    f->s_len = strlen(value);
    f->s = apr_pstrmemdup(e->pool, value, f->s_len);
}

void fx_entry_set_int(fx_entry *e, const char *key, apr_int64_t n)
{
    fx_field *f = fx_slot(e, key);
    f->kind = FX_F_INT;
    f->n = n;
    f->s = NULL;
}

void fx_entry_set_raw(fx_entry *e, const char *key, const char *json)
{
    fx_field *f;
    if (!json) {
        fx_entry_set(e, key, NULL);
        return;
    }
    f = fx_slot(e, key);
    /* What is rendered must be log-safe by construction (fx_entry.h), so a
     * raw value that is not becomes a string, which encoding makes safe. */
    f->s_len = strlen(json);
    f->kind = fx_json_is_log_safe(json, f->s_len) ? FX_F_RAW : FX_F_STR;
    f->s = apr_pstrmemdup(e->pool, json, f->s_len);
}

const char *fx_entry_get(const fx_entry *e, const char *key)
{
    fx_field *f = fx_find(e, key);
    if (!f) {
        return NULL;
    }
    if (f->kind == FX_F_INT) {
        return apr_psprintf(e->pool, "%" APR_INT64_T_FMT, f->n);
    }
    return f->s;
}

/* Fields in rendering order: documented keys first, the rest as added
 * (insertion sort on the rank; an entry has a few dozen fields at most). */
static apr_array_header_t *fx_ordered(const fx_entry *e, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, e->fields->nelts,
                                             sizeof(fx_field *));
    int i, j;
    for (i = 0; i < e->fields->nelts; i++) {
        fx_field *f = &APR_ARRAY_IDX(e->fields, i, fx_field);
        fx_field **slots;
        if (!f->key) {
            continue;
        }
        APR_ARRAY_PUSH(out, fx_field *) = f;
        slots = (fx_field **)out->elts;
        for (j = out->nelts - 1; j > 0 && slots[j - 1]->rank > f->rank; j--) {
            slots[j] = slots[j - 1];
        }
        slots[j] = f;
    }
    return out;
}

/* The common case in one pass into one buffer: every value fits its cap
 * and the whole object fits the budget.  Returns NULL when something would
 * have to be cut; the caller then takes the slow path that cuts. */
static char *fx_render_fast(apr_array_header_t *order, apr_pool_t *p,
                            apr_size_t budget)
{
    char *buf = apr_palloc(p, budget + 1);
    apr_size_t o = 0;
    int i;

#define FX_PUT(str, n) do { apr_size_t n_ = (n); \
        if (o + n_ > budget) return NULL; \
        memcpy(buf + o, (str), n_); o += n_; } while (0)

    FX_PUT("{", 1);
    for (i = 0; i < order->nelts; i++) {
        fx_field *f = APR_ARRAY_IDX(order, i, fx_field *);
        if (i) {
            FX_PUT(",", 1);
        }
        FX_PUT("\"", 1);
        FX_PUT(f->key, f->key_len);
        FX_PUT("\":", 2);
        if (f->kind == FX_F_INT) {
            char num[32];
            int n = apr_snprintf(num, sizeof(num), "%" APR_INT64_T_FMT, f->n);
            FX_PUT(num, (apr_size_t)n);
        }
        else if (f->kind == FX_F_RAW) {
            FX_PUT(f->s, f->s_len);
        }
        else {
            apr_size_t len = f->s_len, room, written, used;
            FX_PUT("\"", 1);
            room = budget - o + 1;
            if (room > FX_FIELD_CAP_DEFAULT + 1) {
                room = FX_FIELD_CAP_DEFAULT + 1;
            }
            used = fx_json_encode_into(buf + o, room, f->s, len, &written);
            if (used < len) {
                return NULL;
            }
            o += written;
            FX_PUT("\"", 1);
        }
    }
    FX_PUT("}", 1);
#undef FX_PUT
    buf[o] = '\0';
    return buf;
}

static char *fx_render_with_cap(apr_array_header_t *order, apr_pool_t *p,
                                apr_size_t cap, apr_size_t *len)
{
    apr_array_header_t *parts = apr_array_make(p, order->nelts * 4 + 4,
                                               sizeof(const char *));
    apr_array_header_t *cut = apr_array_make(p, 4, sizeof(const char *));
    int i;
    char *out;

    APR_ARRAY_PUSH(parts, const char *) = "{";
    for (i = 0; i < order->nelts; i++) {
        fx_field *f = APR_ARRAY_IDX(order, i, fx_field *);
        const char *v;
        int truncated = 0;
        if (f->kind == FX_F_INT) {
            v = apr_psprintf(p, "%" APR_INT64_T_FMT, f->n);
        }
        else if (f->kind == FX_F_RAW) {
            v = f->s;
        }
        else {
            v = fx_json_quote(p, f->s, cap, &truncated);
            if (truncated) {
                APR_ARRAY_PUSH(cut, const char *) = f->key;
            }
        }
        APR_ARRAY_PUSH(parts, const char *) = i ? ",\"" : "\"";
        APR_ARRAY_PUSH(parts, const char *) = f->key;
        APR_ARRAY_PUSH(parts, const char *) = "\":";
        APR_ARRAY_PUSH(parts, const char *) = v;
    }
    if (cut->nelts) {
        APR_ARRAY_PUSH(parts, const char *) = order->nelts ? ",\"truncated\":[" : "\"truncated\":[";
        for (i = 0; i < cut->nelts; i++) {
            APR_ARRAY_PUSH(parts, const char *) = i ? ",\"" : "\"";
            APR_ARRAY_PUSH(parts, const char *) = APR_ARRAY_IDX(cut, i, const char *);
            APR_ARRAY_PUSH(parts, const char *) = "\"";
        }
        APR_ARRAY_PUSH(parts, const char *) = "]";
    }
    APR_ARRAY_PUSH(parts, const char *) = "}";
    out = apr_array_pstrcat(p, parts, 0);
    *len = strlen(out);
    return out;
}

char *fx_entry_render(const fx_entry *e, apr_pool_t *p, apr_size_t budget)
{
    apr_array_header_t *order = fx_ordered(e, p);
    apr_size_t cap = FX_FIELD_CAP_DEFAULT, len;
    char *out;

    if (budget < 256) {
        budget = 256;
    }
    out = fx_render_fast(order, p, budget);
    if (out) {
        return out;
    }
    /* Halve the per-value cap until the object fits; raw values and the
     * keys themselves are bounded by their producers. */
    for (;;) {
        out = fx_render_with_cap(order, p, cap, &len);
        if (len <= budget || cap <= 16) {
            break;
        }
        cap /= 2;
    }
    if (len > budget) {
        /* Only oversized raw values can get here: drop them. */
        int i;
        apr_array_header_t *slim = apr_array_make(p, order->nelts,
                                                  sizeof(fx_field *));
        for (i = 0; i < order->nelts; i++) {
            fx_field *f = APR_ARRAY_IDX(order, i, fx_field *);
            if (f->kind != FX_F_RAW) {
                APR_ARRAY_PUSH(slim, fx_field *) = f;
            }
        }
        out = fx_render_with_cap(slim, p, cap, &len);
    }
    return out;
}

void fx_entry_visit(const fx_entry *e, fx_entry_visit_fn *fn, void *baton)
{
    apr_pool_t *p = e->pool;
    apr_array_header_t *order = fx_ordered(e, p);
    int i;
    for (i = 0; i < order->nelts; i++) {
        fx_field *f = APR_ARRAY_IDX(order, i, fx_field *);
        if (f->kind == FX_F_INT) {
            fn(baton, f->key, apr_psprintf(p, "%" APR_INT64_T_FMT, f->n), 0);
        }
        else {
            fn(baton, f->key, f->s, f->kind == FX_F_RAW);
        }
    }
}
