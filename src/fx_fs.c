/* fx_fs.c — explains filesystem, symlink, Options and index denials: the
 * path component that denies, as the server's user, and the directive that
 * turned an option off. */
#include "fx_private.h"

void fx_fs_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                   fx_entry *e)
{
    (void)r; (void)failed; (void)st; (void)e;
}

void fx_fs_register_hooks(apr_pool_t *p)
{
    (void)p;
}
