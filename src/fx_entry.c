/* fx_entry.c — explanation entries and the one builder of every JSON
 * document rendered from them, with the size policy of fx_entry.h. */
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
    /* raw arrays: (offset, length) of each item, and the deciding ones */
    apr_array_header_t *spans;      /* NULL: not an array */
    const char *deciding;           /* one flag per item, or NULL */
} fx_field;

/* Subsystems set fifty-odd facts per entry, most of them new keys: a small
 * hash over the key text finds a field without scanning them all. */
#define FX_KEY_BUCKETS 64

struct fx_entry {
    apr_pool_t *pool;
    apr_array_header_t *fields;
    int head[FX_KEY_BUCKETS];       /* first field of each bucket, or -1 */
    /* fx_ordered's last answer in the entry's own order (visited for the
     * redaction, then rendered): valid while no field was added or
     * removed since (fields' storage and count, removals). */
    apr_array_header_t *order;
    const char *order_elts;
    int order_nelts;
    int order_removed;
    int removed;                    /* fields removed so far */
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

/* What identifies an entry: never cut while anything else can give way. */
static const char *const fx_pinned_keys[] = {
    "status", "reason", "module", "phase", "directive", "file", "line",
    "request_id", "client_ip", NULL
};

/* Longer values than this are cut before the budget is even considered
 * (pinned facts aside). */
#define FX_FIELD_CAP_DEFAULT 1024

fx_entry *fx_entry_make(apr_pool_t *p)
{
    fx_entry *e = apr_palloc(p, sizeof(*e));
    e->pool = p;
    /* apr_array_make would zero the 32 fields (2.5 KB); fx_slot sets every
     * member of a field it adds. */
    e->fields = apr_palloc(p, sizeof(*e->fields));
    e->fields->pool = p;
    e->fields->elt_size = sizeof(fx_field);
    e->fields->nelts = 0;
    e->fields->nalloc = 32;
    e->fields->elts = apr_palloc(p, sizeof(fx_field) * 32);
    memset(e->head, 0xff, sizeof(e->head));     /* all -1 */
    e->order = NULL;
    e->removed = 0;
    return e;
}

fx_entry *fx_entry_copy(apr_pool_t *p, const fx_entry *e)
{
    fx_entry *c = apr_palloc(p, sizeof(*c));
    c->pool = p;
    c->fields = apr_array_copy(p, e->fields);
    memcpy(c->head, e->head, sizeof(c->head));
    c->order = NULL;
    c->removed = 0;
    return c;
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

static fx_field *fx_slot_len(fx_entry *e, const char *key, apr_size_t len)
{
    fx_field *f = fx_find_len(e, key, len);
    if (!f) {
        unsigned h = fx_key_hash(key, len);
        f = apr_array_push(e->fields);
        memset(f, 0, sizeof(*f));
        f->key = key;
        f->key_len = len;
        f->rank = fx_key_rank(key, len, e->fields->nelts);
        f->next = e->head[h];
        e->head[h] = e->fields->nelts - 1;
    }
    f->spans = NULL;
    f->deciding = NULL;
    return f;
}

static fx_field *fx_slot(fx_entry *e, const char *key)
{
    return fx_slot_len(e, key, strlen(key));
}

void fx_entry_set_kl(fx_entry *e, const char *key, apr_size_t key_len,
                     const char *value)
{
    fx_field *f;
    if (!value) {
        f = fx_find_len(e, key, key_len);
        if (f) {
            f->key = NULL;
            e->removed++;
        }
        return;
    }
    f = fx_slot_len(e, key, key_len);
    f->kind = FX_F_STR;
    /* A copy: callers pass stack buffers (apr_strerror) and strings of
     * pools that die first (sub-requests); entries are built only for a
     * 403, so the copy costs nothing on the allowed path. */
    f->s_len = strlen(value);
    f->s = apr_pstrmemdup(e->pool, value, f->s_len);
}

void fx_entry_set_int_kl(fx_entry *e, const char *key, apr_size_t key_len,
                         apr_int64_t n)
{
    fx_field *f = fx_slot_len(e, key, key_len);
    f->kind = FX_F_INT;
    f->n = n;
    f->s = NULL;
}

void fx_entry_set_raw(fx_entry *e, const char *key, const char *json)
{
    fx_field *f;
    apr_array_header_t *spans;
    if (!json) {
        fx_entry_set(e, key, NULL);
        return;
    }
    f = fx_slot(e, key);
    f->s_len = strlen(json);
    f->s = apr_pstrmemdup(e->pool, json, f->s_len);
    /* What is rendered must be one JSON value, log-safe by construction
     * (fx_entry.h): a raw value that is not becomes a string, which the
     * encoding makes safe.  An array is checked and split in one walk. */
    f->kind = FX_F_STR;
    if (json[0] == '[') {
        spans = apr_array_make(e->pool, 8, sizeof(apr_size_t));
        if (fx_json_is_log_safe(json, f->s_len)
            && fx_json_raw_items(f->s, f->s_len, spans)) {
            f->kind = FX_F_RAW;
            f->spans = spans;
        }
    }
    else if (fx_json_raw_valid(json, f->s_len)) {
        f->kind = FX_F_RAW;
    }
}

void fx_entry_set_list(fx_entry *e, const char *key,
                       const apr_array_header_t *items,
                       const apr_array_header_t *deciding)
{
    apr_array_header_t *parts = apr_array_make(e->pool, items->nelts * 2 + 2,
                                               sizeof(const char *));
    char *flags = apr_pcalloc(e->pool, items->nelts + 1);
    fx_field *f;
    int i;

    APR_ARRAY_PUSH(parts, const char *) = "[";
    for (i = 0; i < items->nelts; i++) {
        const char *it = APR_ARRAY_IDX(items, i, const char *);
        if (!it || !fx_json_raw_valid(it, strlen(it))) {
            it = fx_json_quote(e->pool, it, 0, NULL);
        }
        APR_ARRAY_PUSH(parts, const char *) = i ? "," : "";
        APR_ARRAY_PUSH(parts, const char *) = it;
        flags[i] = deciding && i < deciding->nelts
                   && APR_ARRAY_IDX(deciding, i, int);
    }
    APR_ARRAY_PUSH(parts, const char *) = "]";
    fx_entry_set_raw(e, key, apr_array_pstrcat(e->pool, parts, 0));
    f = fx_find(e, key);
    if (f && f->spans && f->spans->nelts / 2 == items->nelts) {
        f->deciding = flags;
    }
}

void fx_entry_mark_deciding(fx_entry *e, const char *key, int index)
{
    fx_field *f = fx_find(e, key);
    int n;
    if (!f || !f->spans || index < 0) {
        return;
    }
    n = f->spans->nelts / 2;
    if (index >= n) {
        return;
    }
    if (!f->deciding) {
        f->deciding = apr_pcalloc(e->pool, (apr_size_t)n + 1);
    }
    ((char *)f->deciding)[index] = 1;
}

const char *fx_entry_get_kl(const fx_entry *e, const char *key,
                            apr_size_t key_len)
{
    fx_field *f = fx_find_len(e, key, key_len);
    if (!f) {
        return NULL;
    }
    if (f->kind == FX_F_INT) {
        return sizeof(apr_off_t) == sizeof(apr_int64_t)
               ? apr_off_t_toa(e->pool, (apr_off_t)f->n)
               : apr_psprintf(e->pool, "%" APR_INT64_T_FMT, f->n);
    }
    return f->s;
}

const char *fx_entry_get_str(const fx_entry *e, const char *key)
{
    fx_field *f = fx_find(e, key);
    return f && f->kind == FX_F_STR ? f->s : NULL;
}

static int fx_in_list(const char *const *list, const char *key,
                      apr_size_t len)
{
    for (; list && *list; list++) {
        if (strlen(*list) == len && memcmp(*list, key, len) == 0) {
            return 1;
        }
    }
    return 0;
}

static int fx_front_rank(const fx_entry_style *st, const fx_field *f)
{
    int k;
    for (k = 0; st && st->front && st->front[k]; k++) {
        if (strlen(st->front[k]) == f->key_len
            && memcmp(st->front[k], f->key, f->key_len) == 0) {
            return k;
        }
    }
    return 1000 + f->rank;
}

/* Fields in rendering order: the style's front keys, the documented keys,
 * the rest as added (insertion sort on the rank; an entry has a few dozen
 * fields at most).  "truncated" is the builder's own. */
static apr_array_header_t *fx_ordered_build(const fx_entry *e,
                                            apr_pool_t *p,
                                            const fx_entry_style *st);

/* The fields to write, in order.  The entry's own order is kept: the log
 * path visits the entry (redaction) and then renders it, unchanged. */
static apr_array_header_t *fx_ordered(const fx_entry *e, apr_pool_t *p,
                                      const fx_entry_style *st)
{
    fx_entry *m = (fx_entry *)e;    /* the cache only */
    if (st) {
        return fx_ordered_build(e, p, st);
    }
    if (!m->order || m->order_elts != e->fields->elts
        || m->order_nelts != e->fields->nelts
        || m->order_removed != e->removed) {
        m->order = fx_ordered_build(e, e->pool, NULL);
        m->order_elts = e->fields->elts;
        m->order_nelts = e->fields->nelts;
        m->order_removed = e->removed;
    }
    return apr_array_copy(p, m->order);
}

static apr_array_header_t *fx_ordered_build(const fx_entry *e,
                                            apr_pool_t *p,
                                            const fx_entry_style *st)
{
    apr_array_header_t *out = apr_array_make(p, e->fields->nelts,
                                             sizeof(fx_field *));
    int *rk = st && st->front ? apr_palloc(p, sizeof(int) * e->fields->nelts)
                              : NULL;
    int i, j;
    for (i = 0; i < e->fields->nelts; i++) {
        fx_field *f = &APR_ARRAY_IDX(e->fields, i, fx_field);
        fx_field **slots;
        int r;
        if (!f->key || (f->key_len == 9 && !memcmp(f->key, "truncated", 9))
            || (st && fx_in_list(st->skip, f->key, f->key_len))) {
            continue;
        }
        r = rk ? fx_front_rank(st, f) : f->rank;
        APR_ARRAY_PUSH(out, fx_field *) = f;
        slots = (fx_field **)out->elts;
        for (j = out->nelts - 1;
             j > 0 && (rk ? rk[j - 1] : slots[j - 1]->rank) > r; j--) {
            slots[j] = slots[j - 1];
            if (rk) {
                rk[j] = rk[j - 1];
            }
        }
        slots[j] = f;
        if (rk) {
            rk[j] = r;
        }
    }
    return out;
}

/* The common case (log-safe encoding, the entry's own order) in one pass
 * into one buffer: every value fits its cap and the whole object fits the
 * budget.  Returns NULL when something would have to be cut; the caller
 * then applies the size policy. */
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

/* ------------------------------------------------------------------ */
/* the size policy                                                     */

typedef struct {
    const fx_field *f;              /* NULL: a list's added "_omitted" */
    const char *key;
    apr_size_t key_len;
    int pinned, dropped, cut, dirty;
    apr_size_t cap;                 /* max encoded bytes of strings, 0 none */
    const char *v;                  /* value as rendered in this state */
    apr_size_t v_len;
    /* lists */
    int n_items, n_kept;
    const char **item;              /* rendered items at the current cap */
    apr_size_t *item_len;
    char *item_cut;                 /* an item's strings were cut */
    apr_size_t *item_longest;       /* its longest string, as rendered */
    char *keep;
    int omit;                       /* member counting the omitted, or -1 */
    int omitted;                    /* items this render leaves out */
    int list;                       /* for "_omitted" members: its list */
    int full;                       /* fx_policy_lists: nothing to drop */
    int is_count;                   /* a list's "<key>_omitted" */
} fx_member;

typedef struct {
    apr_pool_t *p;
    int std;
    int star;                       /* "truncated":["*"] (last resort) */
    apr_array_header_t *m;          /* fx_member */
} fx_doc;

#define FX_M(d, i) (&APR_ARRAY_IDX((d)->m, (i), fx_member))

static const char *fx_doc_quote(fx_doc *d, const char *s, apr_size_t len,
                                apr_size_t cap, int *cut)
{
    return d->std ? fx_json_std_quote_len(d->p, s, len, cap, cut)
                  : fx_json_quote_len(d->p, s, len, cap, cut);
}

/* (Re)renders member i's value in its current state. */
static void fx_member_render(fx_doc *d, int i)
{
    fx_member *m = FX_M(d, i);
    int cut = 0, k;

    m->dirty = 0;
    if (!m->f) {                    /* "<list>_omitted" added by the policy */
        m->v = apr_itoa(d->p, FX_M(d, m->list)->omitted);
        m->v_len = strlen(m->v);
        return;
    }
    if (m->f->kind == FX_F_INT || m->is_count) {
        apr_int64_t n = m->f->kind == FX_F_INT ? m->f->n : 0;
        for (k = 0; k < d->m->nelts; k++) {
            if (FX_M(d, k)->omit == i) {
                apr_int64_t add = FX_M(d, k)->omitted;
                /* the producer's count too (saturated, never overflowed) */
                n = n > APR_INT64_MAX - add ? APR_INT64_MAX : n + add;
            }
        }
        m->v = apr_psprintf(d->p, "%" APR_INT64_T_FMT, n);
    }
    else if (m->f->kind == FX_F_STR) {
        m->v = fx_doc_quote(d, m->f->s, m->f->s_len, m->cap, &cut);
    }
    else if (!m->n_items) {
        m->v = fx_json_raw_render(d->p, m->f->s, m->f->s_len, d->std,
                                  m->cap, &cut, NULL);
    }
    else {
        apr_array_header_t *parts = apr_array_make(d->p, m->n_items * 2 + 2,
                                                   sizeof(const char *));
        APR_ARRAY_PUSH(parts, const char *) = "[";
        m->n_kept = 0;
        for (k = 0; k < m->n_items; k++) {
            if (!m->keep[k]) {
                continue;
            }
            APR_ARRAY_PUSH(parts, const char *) = m->n_kept++ ? "," : "";
            APR_ARRAY_PUSH(parts, const char *) = m->item[k];
        }
        APR_ARRAY_PUSH(parts, const char *) = "]";
        m->v = apr_array_pstrcat(d->p, parts, 0);
        m->omitted = m->n_items - m->n_kept;
        cut = m->omitted > 0;
        for (k = 0; k < m->n_items && !cut; k++) {
            cut = m->keep[k] && m->item_cut[k];
        }
    }
    m->cut = cut;
    m->v_len = strlen(m->v);
}

/* The items of list member m rendered at its cap; an item none of whose
 * strings is longer than the cap stays as it is. */
static void fx_items_render(fx_doc *d, fx_member *m, int first)
{
    int k;
    for (k = 0; k < m->n_items; k++) {
        apr_size_t off = APR_ARRAY_IDX(m->f->spans, 2 * k, apr_size_t);
        apr_size_t len = APR_ARRAY_IDX(m->f->spans, 2 * k + 1, apr_size_t);
        int cut = 0;
        if (!first && m->item_longest[k] <= m->cap) {
            continue;
        }
        m->item[k] = fx_json_raw_render(d->p, m->f->s + off, len, d->std,
                                        m->cap, &cut, &m->item_longest[k]);
        m->item_len[k] = strlen(m->item[k]);
        m->item_cut[k] = (char)cut;
    }
}

static apr_size_t fx_item_size(const fx_member *m, int k)
{
    return m->item_len[k] + 1;
}

/* The items a list keeps longest: those marked deciding, or, in a list
 * without marks, its first. */
static int fx_item_deciding(const fx_member *m, int k)
{
    return m->f->deciding ? m->f->deciding[k] != 0 : k == 0;
}

static int fx_member_shown(const fx_doc *d, const fx_member *m)
{
    if (m->dropped) {
        return 0;
    }
    return m->f || FX_M(d, m->list)->omitted > 0;
}

/* Bytes of the whole document in the current state; renders what changed
 * first.  *n_trunc gets how many keys "truncated" would list. */
static apr_size_t fx_doc_measure(fx_doc *d, int *n_trunc)
{
    apr_size_t total = 2, tr = 0;
    int i, first = 1, n = 0;

    for (i = 0; i < d->m->nelts; i++) {
        if (FX_M(d, i)->dirty && FX_M(d, i)->n_items) {
            fx_member_render(d, i);     /* lists first: "_omitted" follow */
        }
    }
    for (i = 0; i < d->m->nelts; i++) {
        fx_member *m = FX_M(d, i);
        /* counts of omitted items follow their lists */
        if (!m->n_items && (m->dirty || !m->f || m->is_count)) {
            fx_member_render(d, i);
        }
        if (m->f && (m->dropped || m->cut)) {
            tr += m->key_len + 2;          /* "key" */
            n++;
        }
        if (!fx_member_shown(d, m)) {
            continue;
        }
        total += (first ? 0 : 1) + m->key_len + 3 + m->v_len;
        first = 0;
    }
    if (d->star) {
        total += (first ? 0 : 1) + sizeof("\"truncated\":[\"*\"]") - 1;
    }
    else if (n) {
        total += (first ? 0 : 1) + sizeof("\"truncated\":[]") - 1 + tr
                 + (apr_size_t)(n - 1);
    }
    *n_trunc = n;
    return total;
}

static char *fx_doc_write(fx_doc *d)
{
    int trunc_star = d->star;
    apr_array_header_t *parts = apr_array_make(d->p, d->m->nelts * 4 + 8,
                                               sizeof(const char *));
    int i, first = 1, n = 0;

    APR_ARRAY_PUSH(parts, const char *) = "{";
    for (i = 0; i < d->m->nelts; i++) {
        fx_member *m = FX_M(d, i);
        if (!fx_member_shown(d, m)) {
            continue;
        }
        APR_ARRAY_PUSH(parts, const char *) = first ? "\"" : ",\"";
        APR_ARRAY_PUSH(parts, const char *) = m->key;
        APR_ARRAY_PUSH(parts, const char *) = "\":";
        APR_ARRAY_PUSH(parts, const char *) = m->v;
        first = 0;
    }
    if (trunc_star) {
        APR_ARRAY_PUSH(parts, const char *) = first ? "\"truncated\":[\"*\"]"
                                                    : ",\"truncated\":[\"*\"]";
    }
    else {
        for (i = 0; i < d->m->nelts; i++) {
            fx_member *m = FX_M(d, i);
            if (!m->f || !(m->dropped || m->cut)) {
                continue;
            }
            APR_ARRAY_PUSH(parts, const char *) =
                n++ ? ",\"" : (first ? "\"truncated\":[\"" : ",\"truncated\":[\"");
            APR_ARRAY_PUSH(parts, const char *) = m->key;
            APR_ARRAY_PUSH(parts, const char *) = "\"";
        }
        if (n) {
            APR_ARRAY_PUSH(parts, const char *) = "]";
        }
    }
    APR_ARRAY_PUSH(parts, const char *) = "}";
    return apr_array_pstrcat(d->p, parts, 0);
}

static fx_member *fx_member_push(fx_doc *d)
{
    fx_member *m = apr_array_push(d->m);
    memset(m, 0, sizeof(*m));
    m->omit = -1;
    m->dirty = 1;
    return m;
}

static void fx_doc_build(fx_doc *d, apr_array_header_t *order,
                         const fx_entry_style *st)
{
    int i, j;
    for (i = 0; i < order->nelts; i++) {
        const fx_field *f = APR_ARRAY_IDX(order, i, fx_field *);
        fx_member *m = fx_member_push(d);
        int k, li = d->m->nelts - 1;
        const char *okey;

        m->f = f;
        m->key = f->key;
        m->key_len = f->key_len;
        m->pinned = fx_in_list(fx_pinned_keys, f->key, f->key_len)
                    || (st && fx_in_list(st->pinned, f->key, f->key_len));
        m->cap = m->pinned || f->kind != FX_F_STR ? 0 : FX_FIELD_CAP_DEFAULT;
        if (f->kind != FX_F_RAW || !f->spans || !f->spans->nelts) {
            continue;
        }
        m->n_items = f->spans->nelts / 2;
        m->item = apr_palloc(d->p, sizeof(*m->item) * m->n_items);
        m->item_len = apr_palloc(d->p, sizeof(*m->item_len) * m->n_items);
        m->item_cut = apr_palloc(d->p, m->n_items);
        m->item_longest = apr_palloc(d->p, sizeof(apr_size_t) * m->n_items);
        m->keep = apr_palloc(d->p, m->n_items);
        memset(m->keep, 1, m->n_items);
        fx_items_render(d, m, 1);
        /* What the list leaves out is counted in the producer's own
         * "<key>_omitted" when there is one, else in one added right after
         * the list (shown only when items are left out). */
        okey = apr_pstrcat(d->p, f->key, "_omitted", NULL);
        for (k = 0; k < order->nelts; k++) {
            const fx_field *o = APR_ARRAY_IDX(order, k, fx_field *);
            if (!strcmp(o->key, okey)) {
                break;              /* the producer's (or, raw, left be) */
            }
        }
        if (k == order->nelts) {
            fx_member *add = fx_member_push(d);
            add->key = okey;
            add->key_len = strlen(okey);
            add->list = li;
            FX_M(d, li)->omit = li + 1;
        }
    }
    for (i = 0; i < d->m->nelts; i++) {
        fx_member *m = FX_M(d, i);
        const char *okey;
        if (!m->n_items || m->omit >= 0) {
            continue;
        }
        okey = apr_pstrcat(d->p, m->key, "_omitted", NULL);
        for (j = 0; j < d->m->nelts; j++) {
            fx_member *o = FX_M(d, j);
            if (o->f && o->f->kind != FX_F_RAW && !strcmp(o->key, okey)) {
                m->omit = j;        /* a string there becomes the count */
                o->is_count = 1;
            }
        }
    }
}

/* Sets every cuttable string (and raw strings) to cap; 1 if any changed. */
static int fx_policy_cap(fx_doc *d, apr_size_t cap)
{
    int i, changed = 0;
    for (i = 0; i < d->m->nelts; i++) {
        fx_member *m = FX_M(d, i);
        if (!m->f || m->pinned || m->f->kind == FX_F_INT || m->dropped
            || (m->cap && m->cap <= cap)) {
            continue;
        }
        m->cap = cap;
        m->dirty = 1;
        if (m->n_items) {
            fx_items_render(d, m, 0);
        }
        changed = 1;
    }
    return changed;
}

/* Drops items from the ends of lists, the largest lists first, until
 * excess bytes are gone: items that are not deciding, and with_deciding
 * the deciding ones too, but never a list's first deciding item.
 * 1 if anything changed. */
static int fx_policy_lists(fx_doc *d, apr_size_t excess, int with_deciding)
{
    int changed = 0, i;
    while (excess > 0) {
        int best = -1, k, progressed = 0;
        apr_size_t best_len = 0;
        fx_member *m;
        for (i = 0; i < d->m->nelts; i++) {
            m = FX_M(d, i);
            if (m->n_items && !m->dropped && !m->full && m->v_len > best_len) {
                best = i;
                best_len = m->v_len;
            }
        }
        if (best < 0) {
            break;
        }
        m = FX_M(d, best);
        for (k = m->n_items - 1; k >= 0 && excess > 0; k--) {
            if (!m->keep[k]) {
                continue;
            }
            if (fx_item_deciding(m, k)) {
                int j, earlier = 0;
                for (j = 0; j < k; j++) {
                    earlier |= m->keep[j] && fx_item_deciding(m, j);
                }
                if (!with_deciding || !earlier) {
                    continue;
                }
            }
            m->keep[k] = 0;
            excess = excess > fx_item_size(m, k) ? excess - fx_item_size(m, k)
                                                 : 0;
            progressed = changed = 1;
        }
        if (!progressed) {
            m->full = 1;            /* nothing more to take from this one */
            continue;
        }
        fx_member_render(d, best);
        if (m->omit >= 0) {
            FX_M(d, m->omit)->dirty = 1;
        }
    }
    for (i = 0; i < d->m->nelts; i++) {
        FX_M(d, i)->full = 0;
    }
    return changed;
}

/* Drops the largest fact that is neither pinned nor already dropped. */
static int fx_policy_drop(fx_doc *d)
{
    int i, best = -1;
    apr_size_t best_len = 0;
    for (i = 0; i < d->m->nelts; i++) {
        fx_member *m = FX_M(d, i);
        if (m->f && !m->pinned && !m->dropped
            && m->v_len + m->key_len > best_len) {
            best = i;
            best_len = m->v_len + m->key_len;
        }
    }
    if (best < 0) {
        return 0;
    }
    FX_M(d, best)->dropped = 1;
    if (FX_M(d, best)->omit >= 0 && !FX_M(d, FX_M(d, best)->omit)->f) {
        FX_M(d, FX_M(d, best)->omit)->dropped = 1;
    }
    if (FX_M(d, best)->is_count) {
        /* the producer's "<key>_omitted" holds its list's count: a list
         * shown without it would claim to be whole */
        for (i = 0; i < d->m->nelts; i++) {
            if (FX_M(d, i)->n_items && FX_M(d, i)->omit == best) {
                FX_M(d, i)->dropped = 1;
            }
        }
    }
    return 1;
}

/* Halves the longest pinned string. */
static int fx_policy_pinned(fx_doc *d)
{
    int i, best = -1;
    apr_size_t best_len = 16;
    for (i = 0; i < d->m->nelts; i++) {
        fx_member *m = FX_M(d, i);
        if (m->f && m->pinned && m->f->kind == FX_F_STR
            && m->v_len > best_len + 2) {
            best = i;
            best_len = m->v_len - 2;
        }
    }
    if (best < 0) {
        return 0;
    }
    FX_M(d, best)->cap = best_len / 2 > 16 ? best_len / 2 : 16;
    FX_M(d, best)->dirty = 1;
    return 1;
}

/* Only what identifies the entry, within budget, and "truncated":["*"]. */
static char *fx_doc_last_resort(fx_doc *d, apr_size_t budget)
{
    int i, n;
    d->star = 1;
    for (i = 0; i < d->m->nelts; i++) {
        fx_member *m = FX_M(d, i);
        m->dropped = !m->pinned;
        if (m->f && m->pinned && m->f->kind == FX_F_STR) {
            m->cap = 16;
            m->dirty = 1;
        }
    }
    while (fx_doc_measure(d, &n) > budget) {
        for (i = d->m->nelts - 1; i >= 0 && FX_M(d, i)->dropped; i--)
            ;
        if (i < 0) {
            break;
        }
        FX_M(d, i)->dropped = 1;
    }
    return fx_doc_write(d);
}

static char *fx_doc_render(apr_array_header_t *order, apr_pool_t *p,
                           apr_size_t budget, const fx_entry_style *st)
{
    static const apr_size_t caps_1[] = { 512, 0 };
    static const apr_size_t caps_2[] = { 256, 128, 64, 0 };
    fx_doc d;
    apr_size_t len;
    int n, i;

    d.p = p;
    d.std = st && st->encoding == FX_ENC_JSON;
    d.star = 0;
    d.m = apr_array_make(p, order->nelts + 4, sizeof(fx_member));
    fx_doc_build(&d, order, st);

#define FX_FITS() ((len = fx_doc_measure(&d, &n)) <= budget)
    if (FX_FITS()) {
        return fx_doc_write(&d);
    }
    for (i = 0; caps_1[i]; i++) {
        if (fx_policy_cap(&d, caps_1[i]) && FX_FITS()) {
            return fx_doc_write(&d);
        }
    }
    /* (an estimate: the count and "truncated" grow as items go) */
    while (fx_policy_lists(&d, len - budget, 0)) {
        if (FX_FITS()) {
            return fx_doc_write(&d);
        }
    }
    for (i = 0; caps_2[i]; i++) {
        if (fx_policy_cap(&d, caps_2[i]) && FX_FITS()) {
            return fx_doc_write(&d);
        }
    }
    while (!FX_FITS() && fx_policy_lists(&d, len - budget, 1))
        ;
    while (!FX_FITS() && fx_policy_drop(&d))
        ;
    while (!FX_FITS() && fx_policy_pinned(&d))
        ;
    if (FX_FITS()) {
        return fx_doc_write(&d);
    }
#undef FX_FITS
    return fx_doc_last_resort(&d, budget);
}

char *fx_entry_render_as(const fx_entry *e, apr_pool_t *p, apr_size_t budget,
                         const fx_entry_style *style)
{
    apr_array_header_t *order = fx_ordered(e, p, style);
    char *out;

    if (budget < 256) {
        budget = 256;
    }
    if (!style || (style->encoding == FX_ENC_LOG && !style->front
                   && !style->pinned)) {
        out = fx_render_fast(order, p, budget);
        if (out) {
            return out;
        }
    }
    return fx_doc_render(order, p, budget, style);
}

char *fx_entry_render(const fx_entry *e, apr_pool_t *p, apr_size_t budget)
{
    return fx_entry_render_as(e, p, budget, NULL);
}

void fx_entry_visit(const fx_entry *e, fx_entry_visit_fn *fn, void *baton)
{
    apr_pool_t *p = e->pool;
    apr_array_header_t *order = fx_ordered(e, p, NULL);
    int i;
    for (i = 0; i < order->nelts; i++) {
        fx_field *f = APR_ARRAY_IDX(order, i, fx_field *);
        if (f->kind == FX_F_INT) {
            /* apr_psprintf's formatter costs ~10x the digits */
            fn(baton, f->key, sizeof(apr_off_t) == sizeof(apr_int64_t)
                              ? apr_off_t_toa(p, (apr_off_t)f->n)
                              : apr_psprintf(p, "%" APR_INT64_T_FMT, f->n), 0);
        }
        else {
            fn(baton, f->key, f->s, f->kind == FX_F_RAW);
        }
    }
}
