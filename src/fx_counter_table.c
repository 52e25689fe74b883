/* fx_counter_table.c — the denial counters' table (layout in
 * fx_counter_table.h): counting into it, and rendering it as Prometheus
 * text, the HTML status page and mod_status' section.  Pure: APR only. */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>
#include "fx_counter_table.h"
#include "fx_json.h"

#define FX_FNV_START 0xcbf29ce484222325ULL

/* ------------------------------------------------------------------ */
/* strings                                                              */


void fx_ct_copy(char *dst, apr_size_t cap, const char *src)
{
    apr_size_t len, n;
    if (!cap) {
        return;
    }
    if (!src) {
        dst[0] = '\0';
        return;
    }
    len = strlen(src);
    n = len < cap - 1 ? len : cap - 1;
    if (n < len) {
        /* never leave half a character at the end */
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* A growing string in a pool. */
typedef struct {
    apr_pool_t *p;
    char *s;
    apr_size_t len, cap;
} fx_sb;

static void sb_init(fx_sb *b, apr_pool_t *p, apr_size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->s = apr_palloc(p, cap);
    b->s[0] = '\0';
}

static void sb_add(fx_sb *b, const char *s, apr_size_t len)
{
    if (b->len + len + 1 > b->cap) {
        apr_size_t cap = b->cap * 2;
        char *n;
        while (b->len + len + 1 > cap) {
            cap *= 2;
        }
        n = apr_palloc(b->p, cap);
        memcpy(n, b->s, b->len);
        b->s = n;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, len);
    b->len += len;
    b->s[b->len] = '\0';
}

static void sb_puts(fx_sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(fx_sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(fx_sb *b, const char *fmt, ...)
{
    va_list ap;
    const char *s;
    va_start(ap, fmt);
    s = apr_pvsprintf(b->p, fmt, ap);
    va_end(ap);
    sb_puts(b, s);
}

const char *fx_ct_prom_escape(apr_pool_t *p, const char *s)
{
    fx_sb b;
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    const unsigned char *end = u + strlen((const char *)u);
    sb_init(&b, p, (apr_size_t)(end - u) + 16);
    while (*u) {
        int n = (int)fx_utf8_len(u, (apr_size_t)(end - u), NULL);
        if (!n) {
            sb_add(&b, "\xEF\xBF\xBD", 3);     /* U+FFFD */
            u++;
            continue;
        }
        if (*u == '\\') {
            sb_add(&b, "\\\\", 2);
        }
        else if (*u == '"') {
            sb_add(&b, "\\\"", 2);
        }
        else if (*u == '\n') {
            sb_add(&b, "\\n", 2);
        }
        else {
            sb_add(&b, (const char *)u, n);
        }
        u += n;
    }
    return b.s;
}

const char *fx_ct_html_escape(apr_pool_t *p, const char *s)
{
    fx_sb b;
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    const unsigned char *end = u + strlen((const char *)u);
    sb_init(&b, p, (apr_size_t)(end - u) + 16);
    while (*u) {
        int n = (int)fx_utf8_len(u, (apr_size_t)(end - u), NULL);
        char hex[4];
        if (!n || *u < 0x20 || *u == 0x7f) {
            apr_snprintf(hex, sizeof(hex), "%%%02X", *u);
            sb_add(&b, hex, 3);
            u++;
            continue;
        }
        switch (*u) {
        case '&': sb_puts(&b, "&amp;"); break;
        case '<': sb_puts(&b, "&lt;"); break;
        case '>': sb_puts(&b, "&gt;"); break;
        case '"': sb_puts(&b, "&quot;"); break;
        case '\'': sb_puts(&b, "&#39;"); break;
        default: sb_add(&b, (const char *)u, n);
        }
        u += n;
    }
    return b.s;
}

/* Whether the text around an address found at s[at..at+n) continues it
 * (a longer address or name), rather than ending a sentence or a quote. */
static int fx_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

static int fx_addr_continues(const char *s, const char *at, apr_size_t n)
{
    const char *e = at + n;
    if (fx_alnum(*e) || ((*e == '.' || *e == ':') && fx_alnum(e[1]))) {
        return 1;
    }
    if (at > s && (fx_alnum(at[-1])
                   || ((at[-1] == '.' || at[-1] == ':') && at - 1 > s
                       && fx_alnum(at[-2])))) {
        return 1;
    }
    return 0;
}

const char *fx_ct_mask_address(apr_pool_t *p, const char *s, const char *addr,
                               const char *repl)
{
    fx_sb b;
    const char *at, *from;
    apr_size_t n;
    int any = 0;
    if (!s || !addr || !*addr || !strstr(s, addr)) {
        return s;               /* the usual case: nothing to mask */
    }
    n = strlen(addr);
    sb_init(&b, p, strlen(s) + 16);
    for (from = s; (at = strstr(from, addr)); from = at + n) {
        if (fx_addr_continues(s, at, n)) {
            /* part of something longer: keep it, look further */
            sb_add(&b, from, at + 1 - from);
            at = at + 1 - n;
            continue;
        }
        sb_add(&b, from, at - from);
        sb_puts(&b, repl);
        any = 1;
    }
    sb_puts(&b, from);
    return any ? b.s : s;
}

/* ------------------------------------------------------------------ */
/* hashing                                                              */

apr_uint64_t fx_ct_fnv(apr_uint64_t h, const char *s, apr_size_t len)
{
    apr_size_t i;
    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Hash of several cut fields, each followed by a separator byte that no
 * string holds (0xFF is never valid UTF-8, and cuts keep the rest). */
static apr_uint64_t fx_ct_fields_hash(const char *const *f, int n,
                                      apr_int64_t num)
{
    apr_uint64_t h = FX_FNV_START;
    char sep = (char)0xFF, numbuf[24];
    int i;
    for (i = 0; i < n; i++) {
        h = fx_ct_fnv(h, f[i], strlen(f[i]));
        h = fx_ct_fnv(h, &sep, 1);
    }
    h = fx_ct_fnv(h, numbuf, apr_snprintf(numbuf, sizeof(numbuf),
                                          "%" APR_INT64_T_FMT, num));
    return h ? h : 1;               /* 0 marks a free row */
}

#define ROTL(x, b) (apr_uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
    v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
    v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
    v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
    v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); } while (0)

static apr_uint64_t fx_le64(const unsigned char *p)
{
    apr_uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

apr_uint64_t fx_ct_siphash(const unsigned char key[16], const void *data,
                           apr_size_t len)
{
    const unsigned char *in = data;
    apr_uint64_t k0 = fx_le64(key), k1 = fx_le64(key + 8);
    apr_uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    apr_uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    apr_uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    apr_uint64_t v3 = 0x7465646279746573ULL ^ k1;
    apr_uint64_t b = ((apr_uint64_t)len) << 56, m;
    apr_size_t i, full = len - (len % 8);
    for (i = 0; i < full; i += 8) {
        m = fx_le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (i = 0; i < len % 8; i++) {
        b |= ((apr_uint64_t)in[full + i]) << (8 * i);
    }
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

const char *fx_ct_client_hash(apr_pool_t *p, const unsigned char key[16],
                              const char *client)
{
    apr_uint64_t h = fx_ct_siphash(key, client, strlen(client));
    return apr_psprintf(p, "h:%016" APR_UINT64_T_HEX_FMT, h);
}

/* ------------------------------------------------------------------ */
/* the table                                                            */

apr_size_t fx_ct_size(apr_uint32_t n_rules)
{
    return offsetof(fx_ct_table, rules) + (apr_size_t)n_rules
           * sizeof(fx_ct_rule);
}

void fx_ct_init(void *mem, apr_uint32_t n_rules, const unsigned char key[16],
                apr_time_t now)
{
    fx_ct_table *t = mem;
    const char *other2[2] = { "other", "other" };
    memset(mem, 0, fx_ct_size(n_rules));
    t->magic = FX_CT_MAGIC;
    t->version = FX_CT_VERSION;
    t->n_rules = n_rules;
    t->size = fx_ct_size(n_rules);
    t->since = now;
    memcpy(t->key, key, 16);
    /* the last row of each small table takes what does not fit */
    fx_ct_copy(t->reasons[FX_CT_REASONS - 1].reason, FX_CT_REASON_LEN, "other");
    t->reasons[FX_CT_REASONS - 1].hash = fx_ct_fields_hash(other2, 1, 0);
    fx_ct_copy(t->modphases[FX_CT_MODPHASES - 1].module, FX_CT_MODULE_LEN,
               "other");
    fx_ct_copy(t->modphases[FX_CT_MODPHASES - 1].phase, FX_CT_PHASE_LEN,
               "other");
    t->modphases[FX_CT_MODPHASES - 1].hash = fx_ct_fields_hash(other2, 2, 0);
    fx_ct_copy(t->vhosts[FX_CT_VHOSTS - 1].vhost, FX_CT_VHOST_LEN, "other");
    t->vhosts[FX_CT_VHOSTS - 1].hash = fx_ct_fields_hash(other2, 1, 0);
}

int fx_ct_valid(const void *mem, apr_size_t size)
{
    const fx_ct_table *t = mem;
    return mem && size >= offsetof(fx_ct_table, rules)
           && t->magic == FX_CT_MAGIC && t->version == FX_CT_VERSION
           && t->n_rules >= 1 && fx_ct_size(t->n_rules) <= size
           && t->size == fx_ct_size(t->n_rules);
}

static void fx_count(fx_ct_count *c, fx_ct_kind kind)
{
    if (kind == FX_CT_WOULD) {
        c->would++;
    }
    else {
        c->denied++;
    }
}

/* Row of a small table (n rows of size sz, the last one "other") keyed by
 * one name (a hash first, the name at name_off, name_len bytes): claims a
 * free row, or gives the last one.  The name is compared after cutting (a
 * cut value is the value). */
static void *fx_named_row(void *rows, apr_size_t sz, int n,
                          apr_size_t name_off, apr_size_t name_len,
                          const char *name)
{
    char cut[FX_CT_VHOST_LEN > FX_CT_REASON_LEN ? FX_CT_VHOST_LEN
                                                  : FX_CT_REASON_LEN];
    const char *f[1];
    apr_uint64_t h;
    int i;
    fx_ct_copy(cut, name_len, name);
    f[0] = cut;
    h = fx_ct_fields_hash(f, 1, 0);
    for (i = 0; i < n - 1 && strcmp(cut, "other"); i++) {
        char *row = (char *)rows + sz * (apr_size_t)i;
        apr_uint64_t *rh = (apr_uint64_t *)row;
        if (!*rh) {
            *rh = h;
            memcpy(row + name_off, cut, name_len);
            return row;
        }
        if (*rh == h && strcmp(row + name_off, cut) == 0) {
            return row;
        }
    }
    return (char *)rows + sz * (apr_size_t)(n - 1);
}

_Static_assert(APR_OFFSETOF(fx_ct_reason, hash) == 0
               && APR_OFFSETOF(fx_ct_vhost, hash) == 0,
               "fx_named_row reads the hash first");

static fx_ct_reason *fx_reason_row(fx_ct_table *t, const char *reason)
{
    return fx_named_row(t->reasons, sizeof(t->reasons[0]), FX_CT_REASONS,
                        APR_OFFSETOF(fx_ct_reason, reason),
                        FX_CT_REASON_LEN, reason);
}

static fx_ct_modphase *fx_modphase_row(fx_ct_table *t, const char *module,
                                       const char *phase)
{
    char m[FX_CT_MODULE_LEN], ph[FX_CT_PHASE_LEN];
    const char *f[2];
    apr_uint64_t h;
    int i;
    fx_ct_copy(m, sizeof(m), module);
    fx_ct_copy(ph, sizeof(ph), phase);
    f[0] = m;
    f[1] = ph;
    h = fx_ct_fields_hash(f, 2, 0);
    for (i = 0; i < FX_CT_MODPHASES - 1 && strcmp(m, "other"); i++) {
        fx_ct_modphase *r = &t->modphases[i];
        if (!r->hash) {
            r->hash = h;
            memcpy(r->module, m, sizeof(m));
            memcpy(r->phase, ph, sizeof(ph));
            return r;
        }
        if (r->hash == h && strcmp(r->module, m) == 0
            && strcmp(r->phase, ph) == 0) {
            return r;
        }
    }
    return &t->modphases[FX_CT_MODPHASES - 1];
}

static fx_ct_vhost *fx_vhost_row(fx_ct_table *t, const char *vhost)
{
    return fx_named_row(t->vhosts, sizeof(t->vhosts[0]), FX_CT_VHOSTS,
                        APR_OFFSETOF(fx_ct_vhost, vhost), FX_CT_VHOST_LEN,
                        vhost);
}

/* The identity of a rule row, cut to the row's field sizes. */
typedef struct {
    char reason[FX_CT_REASON_LEN];
    char module[FX_CT_MODULE_LEN];
    char phase[FX_CT_PHASE_LEN];
    char rule[FX_CT_RULE_LEN];
    char file[FX_CT_FILE_LEN];
    char vhost[FX_CT_VHOST_LEN];
    apr_int64_t line;
    apr_uint64_t hash;
} fx_rule_id;

static void fx_rule_id_make(fx_rule_id *id, const char *reason,
                            const char *module, const char *phase,
                            const char *rule, const char *file,
                            apr_int64_t line, const char *vhost)
{
    const char *f[6];
    /* whole arrays are copied into the row: no stack bytes after the NULs */
    memset(id, 0, sizeof(*id));
    fx_ct_copy(id->reason, sizeof(id->reason), reason);
    fx_ct_copy(id->module, sizeof(id->module), module);
    fx_ct_copy(id->phase, sizeof(id->phase), phase);
    fx_ct_copy(id->rule, sizeof(id->rule), rule);
    fx_ct_copy(id->file, sizeof(id->file), file);
    fx_ct_copy(id->vhost, sizeof(id->vhost), vhost);
    id->line = line > 0 ? line : 0;
    f[0] = id->reason;
    f[1] = id->module;
    f[2] = id->phase;
    f[3] = id->rule;
    f[4] = id->file;
    f[5] = id->vhost;
    id->hash = fx_ct_fields_hash(f, 6, id->line);
}

static int fx_rule_is(const fx_ct_rule *r, const fx_rule_id *id)
{
    return r->hash == id->hash && r->line == id->line
           && strcmp(r->rule, id->rule) == 0 && strcmp(r->file, id->file) == 0
           && strcmp(r->reason, id->reason) == 0
           && strcmp(r->module, id->module) == 0
           && strcmp(r->phase, id->phase) == 0
           && strcmp(r->vhost, id->vhost) == 0;
}

/* The row of id: found, or claimed when claim is set and a free row is
 * within FX_CT_PROBES of its home; NULL otherwise.  Rows are never freed,
 * so a rule that once found no row never finds one later: its counts stay
 * in one place ("other"). */
static fx_ct_rule *fx_rule_row(fx_ct_table *t, const fx_rule_id *id,
                               int claim)
{
    apr_uint32_t i, n = t->n_rules;
    apr_uint32_t probes = n < FX_CT_PROBES ? n : FX_CT_PROBES;
    for (i = 0; i < probes; i++) {
        fx_ct_rule *r = &t->rules[(id->hash + i) % n];
        if (!r->hash) {
            if (!claim) {
                return NULL;
            }
            r->hash = id->hash;
            memcpy(r->reason, id->reason, sizeof(r->reason));
            memcpy(r->module, id->module, sizeof(r->module));
            memcpy(r->phase, id->phase, sizeof(r->phase));
            memcpy(r->rule, id->rule, sizeof(r->rule));
            memcpy(r->file, id->file, sizeof(r->file));
            memcpy(r->vhost, id->vhost, sizeof(r->vhost));
            r->line = id->line;
            t->used_rules++;
            return r;
        }
        if (fx_rule_is(r, id)) {
            return r;
        }
    }
    return NULL;
}

void fx_ct_top_add(fx_ct_item *items, int n, const char *key)
{
    char cut[FX_CT_ITEM_LEN];
    int i, min = 0;
    fx_ct_copy(cut, sizeof(cut), key);
    for (i = 0; i < n; i++) {
        if (items[i].count && strcmp(items[i].key, cut) == 0) {
            items[i].count++;
            return;
        }
    }
    for (i = 0; i < n; i++) {
        if (!items[i].count) {
            memcpy(items[i].key, cut, sizeof(cut));
            items[i].count = 1;
            items[i].err = 0;
            return;
        }
        if (items[i].count < items[min].count) {
            min = i;
        }
    }
    /* space-saving: the newcomer inherits the smallest count, as error */
    memcpy(items[min].key, cut, sizeof(cut));
    items[min].err = items[min].count;
    items[min].count++;
}

apr_uint32_t fx_ct_minute_count(const fx_ct_reason *r, apr_uint32_t m)
{
    int i = m % FX_CT_MINUTES;
    return r->minute[i] == m ? r->per_minute[i] : 0;
}

static void fx_minute_add(fx_ct_reason *r, apr_time_t now)
{
    apr_uint32_t m = (apr_uint32_t)(apr_time_sec(now) / 60);
    int i = m % FX_CT_MINUTES;
    if (r->minute[i] != m) {
        if (r->minute[i] > m) {
            return;     /* older than the bucket (a clock stepped back) */
        }
        r->minute[i] = m;
        r->per_minute[i] = 0;
    }
    r->per_minute[i]++;
}

static void fx_recent_add(fx_ct_table *t, const fx_ct_event *ev,
                          const char *reason, apr_time_t now)
{
    fx_ct_recent *x;
    t->recent_seq++;
    x = &t->recent[(t->recent_seq - 1) % FX_CT_RECENT];
    memset(x, 0, sizeof(*x));   /* nothing of the entry it replaces stays */
    x->seq = t->recent_seq;
    x->when = now;
    x->kind = ev->kind;
    x->line = ev->line > 0 && ev->line < 0x7fffffff ? (apr_int32_t)ev->line
                                                    : 0;
    fx_ct_copy(x->reason, sizeof(x->reason), reason);
    fx_ct_copy(x->rule, sizeof(x->rule), ev->rule);
    fx_ct_copy(x->file, sizeof(x->file), ev->file);
    fx_ct_copy(x->uri, sizeof(x->uri), ev->uri);
    fx_ct_copy(x->client, sizeof(x->client), ev->client);
    fx_ct_copy(x->hint, sizeof(x->hint), ev->hint);
    fx_ct_copy(x->request_id, sizeof(x->request_id), ev->request_id);
}

void fx_ct_add(fx_ct_table *t, const fx_ct_event *ev, apr_time_t now)
{
    fx_ct_reason *rs = fx_reason_row(t, ev->reason);
    fx_ct_rule *row;
    fx_rule_id id;

    fx_count(&t->total, ev->kind);
    fx_count(&rs->n, ev->kind);
    if (ev->kind == FX_CT_DENIED) {
        fx_minute_add(rs, now);
    }
    fx_count(&fx_modphase_row(t, ev->module, ev->phase)->n, ev->kind);
    fx_count(&fx_vhost_row(t, ev->vhost)->n, ev->kind);
    /* the rule row carries the reason as counted (its row may be "other") */
    fx_rule_id_make(&id, rs->reason, ev->module, ev->phase, ev->rule,
                    ev->file, ev->line, ev->vhost);
    row = fx_rule_row(t, &id, 1);
    if (row) {
        fx_count(&row->n, ev->kind);
        if (!row->first_seen) {
            row->first_seen = now;
        }
        row->last_seen = now;
        if (ev->request_id) {
            fx_ct_copy(row->sample_rid, sizeof(row->sample_rid),
                       ev->request_id);
        }
        if (ev->client) {
            fx_ct_top_add(row->clients, FX_CT_TOPN, ev->client);
        }
        if (ev->path) {
            fx_ct_top_add(row->paths, FX_CT_TOPN, ev->path);
        }
    }
    else {
        fx_count(&rs->other, ev->kind);
        t->rule_overflow++;
    }
    fx_recent_add(t, ev, rs->reason, now);
}

const fx_ct_rule *fx_ct_find_rule(const fx_ct_table *t, const fx_ct_event *ev)
{
    fx_rule_id id;
    char reason[FX_CT_REASON_LEN];
    fx_ct_copy(reason, sizeof(reason), ev->reason);
    fx_rule_id_make(&id, reason, ev->module, ev->phase, ev->rule,
                    ev->file, ev->line, ev->vhost);
    return fx_rule_row((fx_ct_table *)t, &id, 0);
}

void fx_ct_migrate(fx_ct_table *to, const fx_ct_table *from)
{
    apr_uint32_t i;
    to->since = from->since;
    memcpy(to->key, from->key, sizeof(to->key));
    to->total = from->total;
    to->rule_overflow = from->rule_overflow;
    to->recent_seq = from->recent_seq;
    memcpy(to->reasons, from->reasons, sizeof(to->reasons));
    memcpy(to->modphases, from->modphases, sizeof(to->modphases));
    memcpy(to->vhosts, from->vhosts, sizeof(to->vhosts));
    memcpy(to->recent, from->recent, sizeof(to->recent));
    for (i = 0; i < from->n_rules; i++) {
        const fx_ct_rule *r = &from->rules[i];
        fx_rule_id id;
        fx_ct_rule *row;
        if (!r->hash) {
            continue;
        }
        fx_rule_id_make(&id, r->reason, r->module, r->phase, r->rule,
                        r->file, r->line, r->vhost);
        row = fx_rule_row(to, &id, 1);
        if (row) {
            *row = *r;
        }
        else {
            fx_ct_reason *rs = fx_reason_row(to, r->reason);
            rs->other.denied += r->n.denied;
            rs->other.would += r->n.would;
            to->rule_overflow += r->n.denied + r->n.would;
        }
    }
}

/* ------------------------------------------------------------------ */
/* rendering helpers                                                    */

/* Rule rows in use, most counted first (ties: first seen first, then
 * hash, so the order is stable between scrapes). */
static int fx_rule_cmp(const void *a_, const void *b_)
{
    const fx_ct_rule *a = *(const fx_ct_rule *const *)a_;
    const fx_ct_rule *b = *(const fx_ct_rule *const *)b_;
    apr_uint64_t na = a->n.denied + a->n.would, nb = b->n.denied + b->n.would;
    if (na != nb) {
        return na > nb ? -1 : 1;
    }
    if (a->first_seen != b->first_seen) {
        return a->first_seen < b->first_seen ? -1 : 1;
    }
    return a->hash < b->hash ? -1 : a->hash > b->hash;
}

static const fx_ct_rule **fx_sorted_rules(apr_pool_t *p, const fx_ct_table *t,
                                          int *count)
{
    const fx_ct_rule **v = apr_palloc(p, (t->n_rules + 1) * sizeof(*v));
    apr_uint32_t i;
    int n = 0;
    for (i = 0; i < t->n_rules; i++) {
        if (t->rules[i].hash) {
            v[n++] = &t->rules[i];
        }
    }
    qsort(v, n, sizeof(*v), fx_rule_cmp);
    *count = n;
    return v;
}

static int fx_reason_index(const fx_ct_table *t, const char *reason)
{
    int i;
    for (i = 0; i < FX_CT_REASONS; i++) {
        if (t->reasons[i].hash && strcmp(t->reasons[i].reason, reason) == 0) {
            return i;
        }
    }
    return FX_CT_REASONS - 1;
}

/* What the top-N leaves out, per reason row: the reason's own "other" and
 * every rule row ranked below top. */
static void fx_others(const fx_ct_table *t, const fx_ct_rule **v, int n,
                      int top, fx_ct_count *others)
{
    int i;
    for (i = 0; i < FX_CT_REASONS; i++) {
        others[i] = t->reasons[i].other;
    }
    for (i = top; i < n; i++) {
        fx_ct_count *o = &others[fx_reason_index(t, v[i]->reason)];
        o->denied += v[i]->n.denied;
        o->would += v[i]->n.would;
    }
}

/* ------------------------------------------------------------------ */
/* Prometheus                                                           */

static void prom_family(fx_sb *b, const char *name, const char *type,
                        const char *help)
{
    sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_rule(fx_sb *b, apr_pool_t *p, const char *name,
                      const fx_ct_rule *r, apr_uint64_t n)
{
    sb_puts(b, name);
    sb_puts(b, "{reason=\"");
    sb_puts(b, fx_ct_prom_escape(p, r->reason));
    sb_puts(b, "\",module=\"");
    sb_puts(b, fx_ct_prom_escape(p, r->module));
    sb_puts(b, "\",phase=\"");
    sb_puts(b, fx_ct_prom_escape(p, r->phase));
    sb_puts(b, "\",rule=\"");
    sb_puts(b, fx_ct_prom_escape(p, r->rule));
    sb_puts(b, "\",file=\"");
    sb_puts(b, fx_ct_prom_escape(p, r->file));
    if (r->line > 0) {
        sb_printf(b, "\",line=\"%" APR_INT64_T_FMT, r->line);
    }
    else {
        sb_puts(b, "\",line=\"");
    }
    sb_puts(b, "\",vhost=\"");
    sb_puts(b, fx_ct_prom_escape(p, r->vhost));
    sb_printf(b, "\"} %" APR_UINT64_T_FMT "\n", n);
}

static void prom_rules(fx_sb *b, apr_pool_t *p, const fx_ct_table *t,
                       const fx_ct_rule **v, int n, int top,
                       const fx_ct_count *others, int would)
{
    int i;
    for (i = 0; i < n && i < top; i++) {
        apr_uint64_t c = would ? v[i]->n.would : v[i]->n.denied;
        if (c) {
            prom_rule(b, p, would ? "forbidden_explain_would_deny_total"
                                  : "forbidden_explain_denials_total",
                      v[i], c);
        }
    }
    for (i = 0; i < FX_CT_REASONS; i++) {
        apr_uint64_t c = would ? others[i].would : others[i].denied;
        fx_ct_rule o;
        if (!c) {
            continue;
        }
        memset(&o, 0, sizeof(o));
        memcpy(o.reason, t->reasons[i].reason, sizeof(o.reason));
        fx_ct_copy(o.module, sizeof(o.module), "other");
        fx_ct_copy(o.phase, sizeof(o.phase), "other");
        fx_ct_copy(o.rule, sizeof(o.rule), "other");
        fx_ct_copy(o.vhost, sizeof(o.vhost), "other");
        prom_rule(b, p, would ? "forbidden_explain_would_deny_total"
                              : "forbidden_explain_denials_total", &o, c);
    }
}

const char *fx_ct_render_metrics(apr_pool_t *p, const fx_ct_table *t,
                                 int top_rules)
{
    fx_sb b;
    int n, i, w;
    const fx_ct_rule **v = fx_sorted_rules(p, t, &n);
    fx_ct_count others[FX_CT_REASONS];
    static const char *const kinds[2][2] = {
        { "denials", "403 responses" },
        { "would_deny", "Requests a report-only rule would have denied" }
    };

    if (top_rules < 0) {
        top_rules = 0;
    }
    fx_others(t, v, n, top_rules, others);
    sb_init(&b, p, 8192);

    prom_family(&b, "forbidden_explain_denials_total", "counter",
                "403 responses explained by mod_forbidden_explain, by cause "
                "(the most counted rules; the rest of a reason as rule=\"other\").");
    prom_rules(&b, p, t, v, n, top_rules, others, 0);
    prom_family(&b, "forbidden_explain_would_deny_total", "counter",
                "Requests a report-only rule would have denied, by cause "
                "(as forbidden_explain_denials_total).");
    prom_rules(&b, p, t, v, n, top_rules, others, 1);

    for (w = 0; w < 2; w++) {
        const char *what = kinds[w][0], *help = kinds[w][1];
        sb_printf(&b, "# HELP forbidden_explain_reason_%s_total %s, by reason.\n"
                  "# TYPE forbidden_explain_reason_%s_total counter\n",
                  what, help, what);
        for (i = 0; i < FX_CT_REASONS; i++) {
            const fx_ct_reason *r = &t->reasons[i];
            apr_uint64_t c = w ? r->n.would : r->n.denied;
            if (r->n.denied || r->n.would) {
                sb_printf(&b, "forbidden_explain_reason_%s_total{reason=\"%s\"} %"
                          APR_UINT64_T_FMT "\n", what,
                          fx_ct_prom_escape(p, r->reason), c);
            }
        }
    }
    for (w = 0; w < 2; w++) {
        const char *what = kinds[w][0], *help = kinds[w][1];
        sb_printf(&b, "# HELP forbidden_explain_module_%s_total %s, by the "
                  "module and request phase that produced them.\n"
                  "# TYPE forbidden_explain_module_%s_total counter\n",
                  what, help, what);
        for (i = 0; i < FX_CT_MODPHASES; i++) {
            const fx_ct_modphase *r = &t->modphases[i];
            apr_uint64_t c = w ? r->n.would : r->n.denied;
            if (r->n.denied || r->n.would) {
                sb_printf(&b, "forbidden_explain_module_%s_total{module=\"%s\","
                          "phase=\"%s\"} %" APR_UINT64_T_FMT "\n", what,
                          fx_ct_prom_escape(p, r->module),
                          fx_ct_prom_escape(p, r->phase), c);
            }
        }
    }
    for (w = 0; w < 2; w++) {
        const char *what = kinds[w][0], *help = kinds[w][1];
        sb_printf(&b, "# HELP forbidden_explain_vhost_%s_total %s, by virtual "
                  "host.\n# TYPE forbidden_explain_vhost_%s_total counter\n",
                  what, help, what);
        for (i = 0; i < FX_CT_VHOSTS; i++) {
            const fx_ct_vhost *r = &t->vhosts[i];
            apr_uint64_t c = w ? r->n.would : r->n.denied;
            if (r->n.denied || r->n.would) {
                sb_printf(&b, "forbidden_explain_vhost_%s_total{vhost=\"%s\"} %"
                          APR_UINT64_T_FMT "\n", what,
                          fx_ct_prom_escape(p, r->vhost), c);
            }
        }
    }
    prom_family(&b, "forbidden_explain_rule_overflow_total", "counter",
                "Counted 403s whose rule found no row in the rule table "
                "(ForbiddenExplainCounterRules); they are in rule=\"other\".");
    sb_printf(&b, "forbidden_explain_rule_overflow_total %" APR_UINT64_T_FMT
              "\n", t->rule_overflow);
    prom_family(&b, "forbidden_explain_rule_rows", "gauge",
                "Rows of the rule table in use.");
    sb_printf(&b, "forbidden_explain_rule_rows %u\n", t->used_rules);
    prom_family(&b, "forbidden_explain_rule_rows_max", "gauge",
                "Rows of the rule table (ForbiddenExplainCounterRules).");
    sb_printf(&b, "forbidden_explain_rule_rows_max %u\n", t->n_rules);
    prom_family(&b, "forbidden_explain_start_time_seconds", "gauge",
                "When these counters started (Unix time): the last full "
                "start of httpd; graceful restarts keep them.");
    sb_printf(&b, "forbidden_explain_start_time_seconds %" APR_INT64_T_FMT
              "\n", (apr_int64_t)apr_time_sec(t->since));
    return b.s;
}

/* ------------------------------------------------------------------ */
/* HTML                                                                 */

static const char *const fx_palette[] = {
    "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"
};
#define FX_PALETTE_N (sizeof(fx_palette) / sizeof(fx_palette[0]))

static const char *fx_when(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;
    char buf[32];
    apr_size_t len;
    if (!t) {
        return "-";
    }
    apr_time_exp_gmt(&x, t);
    apr_strftime(buf, &len, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &x);
    return apr_pstrdup(p, buf);
}

static const char *fx_at(apr_pool_t *p, const char *file, apr_int64_t line)
{
    if (!*file) {
        return "";
    }
    return line > 0 ? apr_psprintf(p, "%s:%" APR_INT64_T_FMT,
                                   fx_ct_html_escape(p, file), line)
                    : fx_ct_html_escape(p, file);
}

/* The chart: denials per reason and minute over the last hour, stacked
 * bars, each with its count in data-count and a title; the legend gives
 * each reason's hour total. */
static void fx_chart(fx_sb *b, apr_pool_t *p, const fx_ct_table *t,
                     apr_time_t now)
{
    const int left = 48, top = 16, plot_w = 660, plot_h = 200, bar = 11;
    apr_uint32_t now_m = (apr_uint32_t)(apr_time_sec(now) / 60);
    apr_uint32_t stack[FX_CT_MINUTES], hour[FX_CT_REASONS], max = 0;
    int i, r, ly = top;

    memset(stack, 0, sizeof(stack));
    memset(hour, 0, sizeof(hour));
    for (i = 0; i < FX_CT_MINUTES; i++) {
        for (r = 0; r < FX_CT_REASONS; r++) {
            apr_uint32_t c;
            if (!t->reasons[r].hash) {
                continue;
            }
            c = fx_ct_minute_count(&t->reasons[r],
                                   now_m - (FX_CT_MINUTES - 1) + i);
            stack[i] += c;
            hour[r] += c;
        }
        if (stack[i] > max) {
            max = stack[i];
        }
    }
    sb_printf(b, "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
              "width=\"980\" height=\"%d\" viewBox=\"0 0 980 %d\" "
              "role=\"img\" aria-label=\"denials per reason and minute, "
              "last hour\" data-max=\"%u\">\n", top + plot_h + 40,
              top + plot_h + 40, max);
    sb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
              "fill=\"#fafafa\" stroke=\"#ccc\"/>\n", left, top, plot_w, plot_h);
    sb_printf(b, "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"end\">"
              "%u</text>\n<text x=\"%d\" y=\"%d\" class=\"axis\" "
              "text-anchor=\"end\">0</text>\n", left - 4, top + 10, max,
              left - 4, top + plot_h);
    sb_printf(b, "<text x=\"%d\" y=\"%d\" class=\"axis\">-60 min</text>\n"
              "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">"
              "-30 min</text>\n<text x=\"%d\" y=\"%d\" class=\"axis\" "
              "text-anchor=\"end\">now (%s)</text>\n",
              left, top + plot_h + 16, left + plot_w / 2, top + plot_h + 16,
              left + plot_w, top + plot_h + 16,
              fx_when(p, now) + 11);
    for (i = 0; i < FX_CT_MINUTES && max; i++) {
        apr_uint32_t m = now_m - (FX_CT_MINUTES - 1) + i;
        double y = top + plot_h;
        for (r = 0; r < FX_CT_REASONS; r++) {
            apr_uint32_t c;
            double h;
            if (!t->reasons[r].hash
                || !(c = fx_ct_minute_count(&t->reasons[r], m))) {
                continue;
            }
            h = (double)c * plot_h / max;
            y -= h;
            sb_printf(b, "<rect class=\"bar\" data-reason=\"%s\" "
                      "data-minute=\"%d\" data-count=\"%u\" x=\"%d\" "
                      "y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\">"
                      "<title>%s: %u (%s)</title></rect>\n",
                      fx_ct_html_escape(p, t->reasons[r].reason),
                      (FX_CT_MINUTES - 1) - i, c, left + i * bar + 1, y,
                      bar - 2, h, fx_palette[r % FX_PALETTE_N],
                      fx_ct_html_escape(p, t->reasons[r].reason), c,
                      apr_pstrndup(p, fx_when(p, apr_time_from_sec(
                          (apr_time_t)m * 60)) + 11, 5));
        }
    }
    if (!max) {
        sb_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                  "class=\"empty\">no denials in the last hour</text>\n",
                  left + plot_w / 2, top + plot_h / 2);
    }
    for (r = 0; r < FX_CT_REASONS; r++) {
        if (!t->reasons[r].hash || !(t->reasons[r].n.denied
                                     || t->reasons[r].n.would)) {
            continue;
        }
        sb_printf(b, "<g class=\"legend\" data-reason=\"%s\" data-hour=\"%u\" "
                  "data-total=\"%" APR_UINT64_T_FMT "\"><rect x=\"%d\" "
                  "y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                  "<text class=\"legend\" x=\"%d\" y=\"%d\">%s: %u (total %"
                  APR_UINT64_T_FMT ")</text></g>\n",
                  fx_ct_html_escape(p, t->reasons[r].reason), hour[r],
                  t->reasons[r].n.denied, left + plot_w + 16, ly,
                  fx_palette[r % FX_PALETTE_N], left + plot_w + 34, ly + 11,
                  fx_ct_html_escape(p, t->reasons[r].reason), hour[r],
                  t->reasons[r].n.denied);
        ly += 18;
    }
    sb_puts(b, "</svg>\n");
}

static void fx_items(fx_sb *b, apr_pool_t *p, const fx_ct_item *items,
                     const char *cls)
{
    int i, any = 0;
    for (i = 0; i < FX_CT_TOPN; i++) {
        if (!items[i].count) {
            continue;
        }
        if (!any) {
            sb_printf(b, "<ul class=\"%s\">", cls);
            any = 1;
        }
        /* space-saving counts are upper bounds: say so when inexact */
        sb_printf(b, "<li data-count=\"%" APR_UINT64_T_FMT "\">%s%"
                  APR_UINT64_T_FMT " <code>%s</code></li>", items[i].count,
                  items[i].err ? "&le;" : "", items[i].count,
                  fx_ct_html_escape(p, items[i].key));
    }
    sb_puts(b, any ? "</ul>" : "-");
}

static void fx_rules_table(fx_sb *b, apr_pool_t *p, const fx_ct_table *t,
                           const fx_ct_rule **v, int n, int top)
{
    int i;
    sb_puts(b, "<table id=\"rules\"><thead><tr><th>denied</th>"
            "<th>would deny</th><th>reason</th><th>module / phase</th>"
            "<th>rule</th><th>file:line</th><th>virtual host</th>"
            "<th>sample request_id</th><th>first / last</th><th>paths</th>"
            "<th>clients</th></tr></thead><tbody>\n");
    for (i = 0; i < n && i < top; i++) {
        const fx_ct_rule *r = v[i];
        sb_printf(b, "<tr class=\"rule\" data-denied=\"%" APR_UINT64_T_FMT
                  "\" data-would=\"%" APR_UINT64_T_FMT "\"><td>%"
                  APR_UINT64_T_FMT "</td><td>%" APR_UINT64_T_FMT "</td>"
                  "<td>%s</td><td>%s<br>%s</td><td><code>%s</code></td>"
                  "<td class=\"at\">%s</td><td>%s</td><td><code>%s</code>"
                  "</td><td>%s<br>%s</td><td>",
                  r->n.denied, r->n.would, r->n.denied, r->n.would,
                  fx_ct_html_escape(p, r->reason),
                  fx_ct_html_escape(p, r->module),
                  fx_ct_html_escape(p, r->phase),
                  *r->rule ? fx_ct_html_escape(p, r->rule) : "(none named)",
                  fx_at(p, r->file, r->line), fx_ct_html_escape(p, r->vhost),
                  fx_ct_html_escape(p, r->sample_rid),
                  fx_when(p, r->first_seen), fx_when(p, r->last_seen));
        fx_items(b, p, r->paths, "paths");
        sb_puts(b, "</td><td>");
        fx_items(b, p, r->clients, "clients");
        sb_puts(b, "</td></tr>\n");
    }
    if (n > top) {
        sb_printf(b, "<tr><td colspan=\"11\">%d more rules</td></tr>\n",
                  n - top);
    }
    sb_puts(b, "</tbody></table>\n");
    (void)t;
}

static void fx_recent_list(fx_sb *b, apr_pool_t *p, const fx_ct_table *t)
{
    apr_uint64_t s;
    sb_puts(b, "<table id=\"recent\"><thead><tr><th>when</th><th>kind</th>"
            "<th>reason</th><th>rule</th><th>file:line</th><th>uri</th>"
            "<th>client</th><th>hint</th><th>request_id</th></tr></thead>"
            "<tbody>\n");
    for (s = t->recent_seq; s > 0 && s + FX_CT_RECENT > t->recent_seq; s--) {
        const fx_ct_recent *x = &t->recent[(s - 1) % FX_CT_RECENT];
        if (x->seq != s) {
            break;
        }
        sb_printf(b, "<tr class=\"recent\"><td>%s</td><td>%s</td><td>%s</td>"
                  "<td><code>%s</code></td><td class=\"at\">%s</td>"
                  "<td class=\"uri\"><code>%s</code></td><td>%s</td>"
                  "<td class=\"hint\">%s</td><td><code>%s</code></td></tr>\n",
                  fx_when(p, x->when),
                  x->kind == FX_CT_WOULD ? "would deny" : "denied",
                  fx_ct_html_escape(p, x->reason),
                  fx_ct_html_escape(p, x->rule), fx_at(p, x->file, x->line),
                  fx_ct_html_escape(p, x->uri),
                  *x->client ? fx_ct_html_escape(p, x->client) : "-",
                  fx_ct_html_escape(p, x->hint),
                  fx_ct_html_escape(p, x->request_id));
    }
    sb_puts(b, "</tbody></table>\n");
}

const char *fx_ct_render_page(apr_pool_t *p, const fx_ct_table *t,
                              apr_time_t now, int top_rules)
{
    fx_sb b;
    int n, i;
    const fx_ct_rule **v = fx_sorted_rules(p, t, &n);

    sb_init(&b, p, 16384);
    sb_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>403 denials - mod_forbidden_explain</title>\n<style>\n"
            "body{font:14px sans-serif;margin:1.5em;color:#222}"
            "table{border-collapse:collapse;margin:.5em 0 1.5em}"
            "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;"
            "text-align:left}th{background:#eee}code{font-size:12px;"
            "word-break:break-all}ul{margin:0;padding-left:1.2em}"
            ".axis{font-size:11px;fill:#555}.empty{fill:#888}"
            "text.legend{font-size:13px}"
            "td.hint{max-width:32em}\n</style></head><body>\n");
    sb_printf(&b, "<h1>403 denials</h1>\n<p id=\"totals\" data-denied=\"%"
              APR_UINT64_T_FMT "\" data-would=\"%" APR_UINT64_T_FMT "\">"
              "%" APR_UINT64_T_FMT " denied, %" APR_UINT64_T_FMT
              " would be denied by report-only rules, since %s "
              "(graceful restarts keep the counts). Page made %s.</p>\n",
              t->total.denied, t->total.would, t->total.denied,
              t->total.would, fx_when(p, t->since), fx_when(p, now));
    sb_puts(&b, "<h2>Denials per reason, last hour</h2>\n");
    fx_chart(&b, p, t, now);
    sb_puts(&b, "<h2>Top rules</h2>\n");
    fx_rules_table(&b, p, t, v, n, top_rules);
    sb_puts(&b, "<h2>By reason</h2>\n<table id=\"reasons\"><thead><tr>"
            "<th>reason</th><th>denied</th><th>would deny</th>"
            "<th>not in the rule table</th></tr></thead><tbody>\n");
    for (i = 0; i < FX_CT_REASONS; i++) {
        const fx_ct_reason *r = &t->reasons[i];
        if (r->n.denied || r->n.would) {
            sb_printf(&b, "<tr data-reason=\"%s\"><td>%s</td><td>%"
                      APR_UINT64_T_FMT "</td><td>%" APR_UINT64_T_FMT
                      "</td><td>%" APR_UINT64_T_FMT "</td></tr>\n",
                      fx_ct_html_escape(p, r->reason),
                      fx_ct_html_escape(p, r->reason), r->n.denied,
                      r->n.would, r->other.denied + r->other.would);
        }
    }
    sb_puts(&b, "</tbody></table>\n<h2>Last explanations</h2>\n");
    fx_recent_list(&b, p, t);
    sb_puts(&b, "</body></html>\n");
    return b.s;
}

/* ------------------------------------------------------------------ */
/* mod_status                                                           */

/* A reason as part of a ?auto key: [A-Za-z0-9-], anything else '_'. */
static const char *fx_key_word(apr_pool_t *p, const char *s)
{
    char *w = apr_pstrdup(p, s), *c;
    for (c = w; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
              || (*c >= '0' && *c <= '9') || *c == '-')) {
            *c = '_';
        }
    }
    return w;
}

const char *fx_ct_render_auto(apr_pool_t *p, const fx_ct_table *t)
{
    fx_sb b;
    int i;
    sb_init(&b, p, 1024);
    sb_printf(&b, "ForbiddenExplainDenials: %" APR_UINT64_T_FMT "\n"
              "ForbiddenExplainWouldDeny: %" APR_UINT64_T_FMT "\n"
              "ForbiddenExplainSince: %" APR_INT64_T_FMT "\n"
              "ForbiddenExplainRules: %u\n"
              "ForbiddenExplainRuleOverflow: %" APR_UINT64_T_FMT "\n",
              t->total.denied, t->total.would,
              (apr_int64_t)apr_time_sec(t->since), t->used_rules,
              t->rule_overflow);
    for (i = 0; i < FX_CT_REASONS; i++) {
        const fx_ct_reason *r = &t->reasons[i];
        if (r->n.denied || r->n.would) {
            sb_printf(&b, "ForbiddenExplainDenials_%s: %" APR_UINT64_T_FMT
                      "\n", fx_key_word(p, r->reason), r->n.denied);
        }
        if (r->n.would) {
            sb_printf(&b, "ForbiddenExplainWouldDeny_%s: %" APR_UINT64_T_FMT
                      "\n", fx_key_word(p, r->reason), r->n.would);
        }
    }
    return b.s;
}

const char *fx_ct_render_section(apr_pool_t *p, const fx_ct_table *t,
                                 int notable)
{
    fx_sb b;
    int n, i;
    const fx_ct_rule **v = fx_sorted_rules(p, t, &n);
    sb_init(&b, p, 4096);
    sb_printf(&b, "<hr />\n<h2 id=\"forbidden-explain\">mod_forbidden_explain"
              "</h2>\n<p>%" APR_UINT64_T_FMT " denied, %" APR_UINT64_T_FMT
              " would deny, since %s</p>\n", t->total.denied, t->total.would,
              fx_when(p, t->since));
    if (notable) {
        for (i = 0; i < n && i < 10; i++) {
            sb_printf(&b, "<p>%" APR_UINT64_T_FMT " %s %s <code>%s</code></p>"
                      "\n", v[i]->n.denied + v[i]->n.would,
                      fx_ct_html_escape(p, v[i]->reason),
                      fx_at(p, v[i]->file, v[i]->line),
                      fx_ct_html_escape(p, v[i]->rule));
        }
        return b.s;
    }
    sb_puts(&b, "<table border=\"0\"><tr><th>reason</th><th>denied</th>"
            "<th>would deny</th></tr>\n");
    for (i = 0; i < FX_CT_REASONS; i++) {
        const fx_ct_reason *r = &t->reasons[i];
        if (r->n.denied || r->n.would) {
            sb_printf(&b, "<tr><td>%s</td><td>%" APR_UINT64_T_FMT "</td><td>%"
                      APR_UINT64_T_FMT "</td></tr>\n",
                      fx_ct_html_escape(p, r->reason), r->n.denied,
                      r->n.would);
        }
    }
    sb_puts(&b, "</table>\n<table border=\"0\"><tr><th>denied</th>"
            "<th>would deny</th><th>reason</th><th>file:line</th>"
            "<th>rule</th></tr>\n");
    for (i = 0; i < n && i < 10; i++) {
        sb_printf(&b, "<tr><td>%" APR_UINT64_T_FMT "</td><td>%"
                  APR_UINT64_T_FMT "</td><td>%s</td><td>%s</td>"
                  "<td><code>%s</code></td></tr>\n", v[i]->n.denied,
                  v[i]->n.would, fx_ct_html_escape(p, v[i]->reason),
                  fx_at(p, v[i]->file, v[i]->line),
                  fx_ct_html_escape(p, v[i]->rule));
    }
    sb_puts(&b, "</table>\n");
    return b.s;
}
