/* fx_section.h — names of directive locations (fx_section.c). */
#ifndef FX_SECTION_H
#define FX_SECTION_H

#include "apr_pools.h"
#include "util_cfgtree.h"

/* Section chain of a directive, outermost first, e.g.
 * "<Directory /srv> (site.conf:12) > <RequireAll> (:14)"; NULL at the top
 * level. */
const char *fx_section_chain(apr_pool_t *p, const ap_directive_t *d);
/* "file:line" of a directive, NULL-safe. */
const char *fx_directive_at(apr_pool_t *p, const ap_directive_t *d);

#endif
