/* fx_shadow.c — the records of directives in effect for a request: lists
 * of fx_shadow_rec (file, line, sections) that fx_conftree.c builds from the
 * configuration tree and the .htaccess files, looked up by name, and the
 * section chain of a directive as the entries print it.  Records form
 * persistent lists, so merging two sections' lists costs one small node.
 * (The name is historical: the records once came from "shadow" directives.)
 */
#include <string.h>
#include "apr_strings.h"
#include "http_core.h"
#include "fx_private.h"

/* first: name's first letter in lower case (directive names are ASCII),
 * so most records are passed over without a strcasecmp. */
static void fx_flatten(const fx_shadow_list *l, const char *name, int first,
                       apr_array_header_t *out)
{
    for (; l; l = l->next) {
        if (l->rec) {
            if (!name || (((unsigned char)l->rec->name[0] | 0x20) == first
                          && strcasecmp(l->rec->name, name) == 0)) {
                APR_ARRAY_PUSH(out, const fx_shadow_rec *) = l->rec;
            }
        }
        else {
            fx_flatten(l->base, name, first, out);
            fx_flatten(l->add, name, first, out);
        }
    }
}

apr_array_header_t *fx_shadow_find(apr_pool_t *p, const fx_shadow_list *l,
                                   const char *name)
{
    apr_array_header_t *out = apr_array_make(p, 4,
                                             sizeof(const fx_shadow_rec *));
    fx_flatten(l, name, name ? ((unsigned char)name[0] | 0x20) : 0, out);
    return out;
}
