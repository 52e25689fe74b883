/* fx_ssl.c — explains 403s from mod_ssl. */
#include "fx_private.h"

void fx_ssl_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                    fx_entry *e)
{
    (void)r; (void)failed; (void)st; (void)e;
}
