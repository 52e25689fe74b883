/* fx_counter_table.h — the denial counters' table: one fixed-size block of
 * memory (the shared segment fx_counters.c maps into every child) holding
 *   - totals, and per reason (with minute buckets for the last hour),
 *   - per module+phase, per virtual host,
 *   - per rule: reason, module, phase, directive, file:line and virtual host
 *     as the entry states them, in an open-addressing table keyed by a hash
 *     of those fields; a rule that finds no row is counted in its reason's
 *     "other" row, so per-reason sums stay exact,
 *   - per rule, a bounded top-N of client addresses and of paths
 *     (space-saving: counts are upper bounds, err says by how much),
 *   - a ring of the last explanations,
 * and the pure renderers of it: Prometheus text exposition 0.0.4, the HTML
 * status page with its SVG chart, and mod_status' section and ?auto lines.
 *
 * Pure: APR only, no pointers inside the block (it is mapped at different
 * addresses and copied), every string a bounded NUL-terminated array.  The
 * caller serialises writers (fx_counters.c holds a global mutex); readers
 * render from a copy.  Unit tested in tests/unit/test_counters.c. */
#ifndef FX_COUNTER_TABLE_H
#define FX_COUNTER_TABLE_H

#include <apr_pools.h>
#include <apr_time.h>

#define FX_CT_MAGIC   0x54435846u       /* "FXCT" */
#define FX_CT_VERSION 1u

/* String fields, bytes including the NUL.  Longer values are cut (on a
 * UTF-8 character boundary); the key is computed from the cut values, so
 * two rows never carry the same labels. */
#define FX_CT_REASON_LEN  40
#define FX_CT_MODULE_LEN  48
#define FX_CT_PHASE_LEN   32
#define FX_CT_RULE_LEN    200
#define FX_CT_FILE_LEN    256
#define FX_CT_VHOST_LEN   96
#define FX_CT_ITEM_LEN    128           /* a client or a path in a top-N */
#define FX_CT_RID_LEN     64
#define FX_CT_URI_LEN     256
#define FX_CT_HINT_LEN    400

#define FX_CT_REASONS   32              /* the last row is "other" */
#define FX_CT_MODPHASES 64              /* the last row is "other" */
#define FX_CT_VHOSTS    32              /* the last row is "other" */
#define FX_CT_TOPN      8               /* clients and paths kept per rule */
#define FX_CT_MINUTES   60              /* minute buckets per reason */
#define FX_CT_RECENT    20              /* last explanations kept */
#define FX_CT_PROBES    32              /* longest probe sequence for a rule */

#define FX_CT_RULES_DEFAULT 256
#define FX_CT_RULES_MIN     16
#define FX_CT_RULES_MAX     4096

typedef enum { FX_CT_DENIED = 0, FX_CT_WOULD = 1 } fx_ct_kind;

typedef struct {
    apr_uint64_t denied;
    apr_uint64_t would;
} fx_ct_count;

typedef struct {
    char key[FX_CT_ITEM_LEN];
    apr_uint64_t count;                 /* >= the true count */
    apr_uint64_t err;                   /* count - err <= the true count */
} fx_ct_item;

typedef struct {
    apr_uint64_t hash;                  /* 0: free */
    char reason[FX_CT_REASON_LEN];
    fx_ct_count n;
    fx_ct_count other;                  /* rules of this reason without a row */
    apr_uint32_t minute[FX_CT_MINUTES]; /* minute number (epoch / 60) */
    apr_uint32_t per_minute[FX_CT_MINUTES]; /* denials in that minute */
} fx_ct_reason;

typedef struct {
    apr_uint64_t hash;
    char module[FX_CT_MODULE_LEN];
    char phase[FX_CT_PHASE_LEN];
    fx_ct_count n;
} fx_ct_modphase;

typedef struct {
    apr_uint64_t hash;
    char vhost[FX_CT_VHOST_LEN];
    fx_ct_count n;
} fx_ct_vhost;

typedef struct {
    apr_uint64_t hash;                  /* 0: free */
    char reason[FX_CT_REASON_LEN];
    char module[FX_CT_MODULE_LEN];
    char phase[FX_CT_PHASE_LEN];
    char rule[FX_CT_RULE_LEN];          /* directive text, "" if none named */
    char file[FX_CT_FILE_LEN];
    apr_int64_t line;                   /* 0 if none */
    char vhost[FX_CT_VHOST_LEN];
    fx_ct_count n;
    apr_int64_t first_seen, last_seen;  /* apr_time_t */
    char sample_rid[FX_CT_RID_LEN];     /* request_id of the last one */
    fx_ct_item clients[FX_CT_TOPN];
    fx_ct_item paths[FX_CT_TOPN];
} fx_ct_rule;

typedef struct {
    apr_uint64_t seq;                   /* 0: unused */
    apr_int64_t when;
    apr_int32_t kind;                   /* fx_ct_kind */
    apr_int32_t line;
    char reason[FX_CT_REASON_LEN];
    char rule[FX_CT_RULE_LEN];
    char file[FX_CT_FILE_LEN];
    char uri[FX_CT_URI_LEN];
    char client[FX_CT_ITEM_LEN];
    char hint[FX_CT_HINT_LEN];
    char request_id[FX_CT_RID_LEN];
} fx_ct_recent;

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint32_t n_rules;               /* capacity of rules[] */
    apr_uint32_t used_rules;
    apr_uint64_t size;                  /* bytes of the whole block */
    apr_int64_t since;                  /* apr_time_t the counting began */
    unsigned char key[16];              /* per-boot key of hashed clients */
    fx_ct_count total;
    apr_uint64_t rule_overflow;         /* events counted in an "other" row */
    apr_uint64_t recent_seq;
    fx_ct_reason reasons[FX_CT_REASONS];
    fx_ct_modphase modphases[FX_CT_MODPHASES];
    fx_ct_vhost vhosts[FX_CT_VHOSTS];
    fx_ct_recent recent[FX_CT_RECENT];
    fx_ct_rule rules[1];                /* n_rules of them */
} fx_ct_table;

/* What one explained 403 (or report-only "would deny") contributes.  NULL
 * strings count as "".  client is what the configured mode shows (NULL:
 * not counted); the caller hashes it (fx_ct_client_hash) when asked to. */
typedef struct {
    fx_ct_kind kind;
    const char *reason, *module, *phase, *rule, *file;
    apr_int64_t line;
    const char *vhost, *client, *path, *uri, *hint, *request_id;
} fx_ct_event;

/* Bytes a table of n_rules rules takes. */
apr_size_t fx_ct_size(apr_uint32_t n_rules);
/* Lay out an empty table in mem (fx_ct_size(n_rules) bytes). */
void fx_ct_init(void *mem, apr_uint32_t n_rules, const unsigned char key[16],
                apr_time_t now);
/* 1 when mem holds a table of this layout (magic, version, size). */
int fx_ct_valid(const void *mem, apr_size_t size);
/* Count ev at time now.  The caller holds the writers' lock. */
void fx_ct_add(fx_ct_table *t, const fx_ct_event *ev, apr_time_t now);
/* Copy every count of from into the empty table to (another capacity):
 * rules are re-inserted; those that do not fit go to "other". */
void fx_ct_migrate(fx_ct_table *to, const fx_ct_table *from);

/* --- pieces, exposed for the unit tests --- */

/* FNV-1a 64 of s[0..len), continuing from h (start: 0xcbf29ce484222325). */
apr_uint64_t fx_ct_fnv(apr_uint64_t h, const char *s, apr_size_t len);
/* SipHash-2-4 of s[0..len) under key. */
apr_uint64_t fx_ct_siphash(const unsigned char key[16], const void *s,
                           apr_size_t len);
/* "h:" and 16 hex digits: a client address under the per-boot key. */
const char *fx_ct_client_hash(apr_pool_t *p, const unsigned char key[16],
                              const char *client);
/* Copy src into dst[cap] (NUL always written), cut on a UTF-8 boundary. */
void fx_ct_copy(char *dst, apr_size_t cap, const char *src);
/* Space-saving update of items[n] with key. */
void fx_ct_top_add(fx_ct_item *items, int n, const char *key);
/* Denials of reason row r in minute m (epoch seconds / 60). */
apr_uint32_t fx_ct_minute_count(const fx_ct_reason *r, apr_uint32_t m);
/* Rule row of the given identity, or NULL (not counted, or in "other"). */
const fx_ct_rule *fx_ct_find_rule(const fx_ct_table *t, const fx_ct_event *ev);

/* s with every occurrence of the address addr that stands alone (not
 * inside a longer address or name) replaced by repl; s itself when there
 * is none.  Hints name the client: the counters show it only as
 * configured. */
const char *fx_ct_mask_address(apr_pool_t *p, const char *s, const char *addr,
                               const char *repl);
/* Prometheus label value: \ " and newline escaped as \\ \" \n, invalid
 * UTF-8 replaced by U+FFFD (a scrape with invalid UTF-8 fails). */
const char *fx_ct_prom_escape(apr_pool_t *p, const char *s);
/* HTML text/attribute: & < > " ' as entities, control bytes, DEL and
 * invalid UTF-8 as visible %HH. */
const char *fx_ct_html_escape(apr_pool_t *p, const char *s);

/* --- renderers (from a table the caller copied) --- */

/* Prometheus text exposition 0.0.4; at most top_rules rule series per
 * metric, the rest summed per reason as rule="other". */
const char *fx_ct_render_metrics(apr_pool_t *p, const fx_ct_table *t,
                                 int top_rules);
/* The status page: a whole HTML document, no external assets. */
const char *fx_ct_render_page(apr_pool_t *p, const fx_ct_table *t,
                              apr_time_t now, int top_rules);
/* mod_status: "Key: value" lines for ?auto, or an HTML section (tables
 * unless notable). */
const char *fx_ct_render_auto(apr_pool_t *p, const fx_ct_table *t);
const char *fx_ct_render_section(apr_pool_t *p, const fx_ct_table *t,
                                 int notable);

#endif
