/* fx_entry.h — one explanation entry: an ordered set of key/value facts and
 * its rendering as a single-line JSON object within a byte budget.
 *
 * Pure: depends on APR only, unit tested in tests/unit.  Subsystems add or
 * refine facts with fx_entry_set*(); rendering puts the documented keys first
 * (README lists them), then any others in the order they were added. */
#ifndef FX_ENTRY_H
#define FX_ENTRY_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct fx_entry fx_entry;

fx_entry *fx_entry_make(apr_pool_t *p);

/* Set (or replace) a string fact; value NULL removes the key.  Values (and
 * raw JSON) are copied into the entry's pool; keys are not: pass literals. */
void fx_entry_set(fx_entry *e, const char *key, const char *value);
/* Set (or replace) an integer fact. */
void fx_entry_set_int(fx_entry *e, const char *key, apr_int64_t n);
/* Set a pre-rendered JSON value (array/object/bool) built from fx_json_quote
 * strings; it is never cut, so its producer keeps it bounded. */
void fx_entry_set_raw(fx_entry *e, const char *key, const char *json);

/* The string value of key (integers are rendered), or NULL. */
const char *fx_entry_get(const fx_entry *e, const char *key);

/* The whole entry as one JSON object of at most budget bytes (NUL excluded,
 * budget >= 256).  Long string values are cut first; keys whose values were
 * cut are listed in "truncated".  The result is log-safe (fx_json.h): string
 * values are encoded, raw values that are not log-safe are rendered as
 * strings, keys are the callers' literals. */
char *fx_entry_render(const fx_entry *e, apr_pool_t *p, apr_size_t budget);

/* Visit every fact in rendering order; raw values are passed as-is with
 * is_raw set.  Used by the header and problem+json writers. */
typedef void fx_entry_visit_fn(void *baton, const char *key, const char *value,
                               int is_raw);
void fx_entry_visit(const fx_entry *e, fx_entry_visit_fn *fn, void *baton);

#endif
