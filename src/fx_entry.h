/* fx_entry.h — one explanation entry: an ordered set of key/value facts, and
 * the one builder of every JSON document the module writes from it (the
 * error-log line, the request note, ForbiddenExplainLog, problem+json).
 *
 * Pure: depends on APR only, unit tested in tests/unit.  Subsystems add or
 * refine facts with fx_entry_set*(); rendering puts the documented keys first
 * (README lists them), then any others in the order they were added.
 *
 * Size policy, when a document would exceed its byte budget, in this order
 * until it fits:
 *   1. long string values (and the strings inside raw values) are cut to
 *      512 bytes;
 *   2. lists (raw arrays) lose their items from the end, those not marked
 *      deciding (in a list without marks: all but the first); a
 *      "<key>_omitted" says how many items are left out (added to the
 *      producer's own count when it set one);
 *   3. strings are cut further, to 256, 128 then 64 bytes; lists lose their
 *      deciding items too, except the first;
 *   4. whole facts are dropped, the largest first;
 *   5. only then are the pinned facts cut, the longest first.
 * The pinned facts are status, reason, module, phase, directive, file,
 * line, request_id and client_ip (plus a style's own): they are never cut
 * while anything else is left to shorten.  Every key that was cut,
 * shortened or dropped is listed in "truncated" (["*"] in the one case
 * where even the list of keys would not fit: only pinned facts are left).
 * Cuts never split an escape or a UTF-8 character (fx_json.h). */
#ifndef FX_ENTRY_H
#define FX_ENTRY_H

#include <string.h>
#include <apr_pools.h>
#include <apr_tables.h>

typedef struct fx_entry fx_entry;

fx_entry *fx_entry_make(apr_pool_t *p);
/* A copy (into p) that can be changed without changing e. */
fx_entry *fx_entry_copy(apr_pool_t *p, const fx_entry *e);

/* Set (or replace) a string fact; value NULL removes the key.  Values (and
 * raw JSON) are copied into the entry's pool; keys are not: pass literals. */
void fx_entry_set_kl(fx_entry *e, const char *key, apr_size_t key_len,
                     const char *value);
/* Set (or replace) an integer fact. */
void fx_entry_set_int_kl(fx_entry *e, const char *key, apr_size_t key_len,
                         apr_int64_t n);
/* Set a pre-rendered JSON value (array/object/bool/number) whose strings
 * are fx_json_quote'd.  A value that is not one log-safe JSON value is
 * rendered as a string instead.  An array is a list for the size policy
 * (its items kept from the first). */
void fx_entry_set_raw(fx_entry *e, const char *key, const char *json);
/* Set a list: items are pre-rendered JSON values (const char *, as for
 * fx_entry_set_raw); deciding (int per item, nonzero for the items that
 * decided the outcome, or NULL) says which items the size policy keeps
 * longest. */
void fx_entry_set_list(fx_entry *e, const char *key,
                       const apr_array_header_t *items,
                       const apr_array_header_t *deciding);

/* Mark item index of the raw array key as deciding (kept longest by the
 * size policy); ignored when key is not an array of that many items. */
void fx_entry_mark_deciding(fx_entry *e, const char *key, int index);

/* The string value of key (integers and raw values are rendered), or NULL. */
const char *fx_entry_get_kl(const fx_entry *e, const char *key,
                            apr_size_t key_len);

/* The value of key when it was set as a string (fx_entry_set), or NULL. */
const char *fx_entry_get_str(const fx_entry *e, const char *key);

/* Keys are literals nearly everywhere: inline, the compiler counts their
 * length once, not every call (an entry takes a hundred or so). */
static APR_INLINE void fx_entry_set(fx_entry *e, const char *key,
                                    const char *value)
{
    fx_entry_set_kl(e, key, strlen(key), value);
}

static APR_INLINE void fx_entry_set_int(fx_entry *e, const char *key,
                                        apr_int64_t n)
{
    fx_entry_set_int_kl(e, key, strlen(key), n);
}

static APR_INLINE const char *fx_entry_get(const fx_entry *e, const char *key)
{
    return fx_entry_get_kl(e, key, strlen(key));
}

/* How a document is written. */
typedef enum {
    FX_ENC_LOG = 0,             /* %HH, log-safe (fx_json.h) */
    FX_ENC_JSON = 1             /* RFC 8259 strings in UTF-8 */
} fx_entry_encoding;

typedef struct {
    fx_entry_encoding encoding;
    const char *const *front;   /* keys written first, in this order */
    const char *const *pinned;  /* keys never cut, besides the standard set */
    const char *const *skip;    /* keys left out */
} fx_entry_style;

/* The whole entry as one JSON object of at most budget bytes (NUL excluded,
 * budget >= 256), in the log-safe encoding, by the size policy above. */
char *fx_entry_render(const fx_entry *e, apr_pool_t *p, apr_size_t budget);
/* The same in a style (NULL: fx_entry_render's). */
char *fx_entry_render_as(const fx_entry *e, apr_pool_t *p, apr_size_t budget,
                         const fx_entry_style *style);

/* Visit every fact in rendering order; raw values are passed as-is with
 * is_raw set.  Used by the header writer and redaction. */
typedef void fx_entry_visit_fn(void *baton, const char *key, const char *value,
                               int is_raw);
void fx_entry_visit(const fx_entry *e, fx_entry_visit_fn *fn, void *baton);

#endif
