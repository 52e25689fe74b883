/* mod_fx_example.c — the documented example of the public API: a handler
 * that refuses requests without the right token and tells
 * mod_forbidden_explain why, through the optional function declared in
 * include/mod_forbidden_explain.h.  Works unchanged when
 * mod_forbidden_explain is not loaded (the function is then NULL).
 *
 *   apxs -c -I/path/to/mod_forbidden_explain/include mod_fx_example.c
 *   SetHandler fx-example
 */
#include <string.h>
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "apr_optional.h"
#include "mod_forbidden_explain.h"

/* Looked up once per process, after every module registered its optional
 * functions; read-only while requests run. */
static APR_OPTIONAL_FN_TYPE(forbidden_explain_set_reason) *fx_set_reason;

static void example_retrieve(void)
{
    fx_set_reason = APR_RETRIEVE_OPTIONAL_FN(forbidden_explain_set_reason);
}

static int example_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "fx-example") != 0) {
        return DECLINED;
    }
    if (r->args && strcmp(r->args, "token=good") == 0) {
        ap_set_content_type(r, "text/plain");
        ap_rputs("welcome\n", r);
        return OK;
    }
    if (fx_set_reason) {
        fx_set_reason(r, FX_REASON_MODULE,
                      "The example token is missing or wrong.",
                      "Append ?token=good to the URL.");
    }
    return HTTP_FORBIDDEN;
}

static void example_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_optional_fn_retrieve(example_retrieve, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(example_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(fx_example) = {
    STANDARD20_MODULE_STUFF,
    NULL, NULL, NULL, NULL, NULL,
    example_register_hooks
};
