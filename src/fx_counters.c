/* fx_counters.c — denial counters shared by all children (to be built:
 * issue 16).  For now the interface only, so that callers can be wired. */
#include "fx_private.h"
#include "fx_counters.h"

void fx_counters_add(request_rec *r, const fx_entry *e, fx_count_kind kind)
{
    (void)r;
    (void)e;
    (void)kind;
}

void fx_counters_register_hooks(apr_pool_t *p)
{
    (void)p;
}
