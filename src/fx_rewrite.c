/* fx_rewrite.c — explains 403s from mod_rewrite, mod_ssl, ModSecurity,
 * proxied backends and applications. */
#include "fx_private.h"

void fx_rewrite_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                        fx_entry *e)
{
    (void)r; (void)failed; (void)st; (void)e;
}

void fx_rewrite_register_hooks(apr_pool_t *p)
{
    (void)p;
}
