/* mod_fx_manyhooks.c — a test module for tests/test_platform.py: registers
 * FX_MANY declining hooks in every request phase the module observes,
 * then, late in the handler, fixups and pre_translate_name arrays, one that
 * answers 403 for URLs under /manyhooks-handler/, /manyhooks-fixups/ and
 * /manyhooks-pre/.  With more hooks
 * than any fixed table of trampolines, the 403 must still be attributed to
 * this module and its phase. */
#include <string.h>
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mmn.h"

#ifndef FX_MANY
#define FX_MANY 300
#endif

static int declines(request_rec *r)
{
    (void)r;
    return DECLINED;
}

static int forbid_handler(request_rec *r)
{
    return strncmp(r->uri, "/manyhooks-handler/", 19) == 0
           ? HTTP_FORBIDDEN : DECLINED;
}

static int forbid_fixups(request_rec *r)
{
    return strncmp(r->uri, "/manyhooks-fixups/", 18) == 0
           ? HTTP_FORBIDDEN : DECLINED;
}

static int forbid_pre_translate(request_rec *r)
{
    return strncmp(r->uri, "/manyhooks-pre/", 15) == 0
           ? HTTP_FORBIDDEN : DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    int i;
    (void)p;
    for (i = 0; i < FX_MANY; i++) {
        ap_hook_post_read_request(declines, NULL, NULL, APR_HOOK_MIDDLE);
        ap_hook_translate_name(declines, NULL, NULL, APR_HOOK_MIDDLE);
        ap_hook_header_parser(declines, NULL, NULL, APR_HOOK_MIDDLE);
        ap_hook_fixups(declines, NULL, NULL, APR_HOOK_MIDDLE);
        ap_hook_type_checker(declines, NULL, NULL, APR_HOOK_FIRST);
        ap_hook_handler(declines, NULL, NULL, APR_HOOK_FIRST);
    }
    ap_hook_fixups(forbid_fixups, NULL, NULL, APR_HOOK_REALLY_LAST);
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 109)
    for (i = 0; i < FX_MANY; i++) {
        ap_hook_pre_translate_name(declines, NULL, NULL, APR_HOOK_FIRST);
    }
    ap_hook_pre_translate_name(forbid_pre_translate, NULL, NULL,
                               APR_HOOK_LAST);
#endif
    ap_hook_handler(forbid_handler, NULL, NULL, APR_HOOK_LAST);
}

module AP_MODULE_DECLARE_DATA fx_manyhooks_module = {
    STANDARD20_MODULE_STUFF,
    NULL, NULL, NULL, NULL, NULL,
    register_hooks
};
