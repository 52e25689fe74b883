/* fx_wire.c — diagnostics on the wire for trusted clients only: the
 * Forbidden-Explain header, problem+json bodies, the opaque request id. */
#include "apr_strings.h"
#include "fx_private.h"

struct fx_wire_dir_conf {
    int headers;                    /* ForbiddenExplainHeaders */
};

void *fx_wire_create_dir(apr_pool_t *p)
{
    fx_wire_dir_conf *c = apr_pcalloc(p, sizeof(*c));
    c->headers = FX_UNSET;
    return c;
}

void *fx_wire_merge_dir(apr_pool_t *p, void *base_, void *add_)
{
    fx_wire_dir_conf *base = base_, *add = add_;
    fx_wire_dir_conf *c = apr_palloc(p, sizeof(*c));
    c->headers = add->headers != FX_UNSET ? add->headers : base->headers;
    return c;
}

void fx_wire_register_hooks(apr_pool_t *p)
{
    (void)p;
}
