/* fx_version.c — the running httpd's version (see fx_version.h) and the
 * startup line that records it next to the version the module was built
 * for. */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_release.h"
#include "fx_version.h"
#include "fx_private.h"

int fx_httpd_at_least(int major, int minor, int patch)
{
    ap_version_t v;
    ap_get_server_revision(&v);
    return fx_version_at_least(v.major, v.minor, v.patch, major, minor, patch);
}

static int fx_creds_mode;
static const char *fx_creds_switcher;

int fx_server_creds_mode(void)
{
    return fx_creds_mode;
}

const char *fx_server_creds_switcher(void)
{
    return fx_creds_switcher;
}

static void fx_creds_detect(void)
{
    fx_creds_mode = FX_CREDS_PER_CHILD;
    fx_creds_switcher = NULL;
    if (ap_find_linked_module("mod_ruid2.c")) {
        fx_creds_mode = FX_CREDS_REFUSED;
        fx_creds_switcher = "mod_ruid2";
    }
    else if (ap_find_linked_module("mpm_itk.c")) {
        fx_creds_mode = FX_CREDS_PER_REQUEST;
        fx_creds_switcher = "mpm-itk";
    }
}

/* One debug line per generation, so a report says which httpd ran. */
static int fx_version_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                  apr_pool_t *ptemp, server_rec *s)
{
    ap_version_t v;
    (void)pconf;
    (void)plog;
    (void)ptemp;
    fx_creds_detect();
    ap_get_server_revision(&v);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "forbidden_explain: running "
                 "httpd %d.%d.%d, built against %d.%d.%d; version-dependent "
                 "models follow the running one (UnsafeAllow3F: %s); "
                 "server credentials read %s", v.major, v.minor, v.patch,
                 AP_SERVER_MAJORVERSION_NUMBER, AP_SERVER_MINORVERSION_NUMBER,
                 AP_SERVER_PATCHLEVEL_NUMBER,
                 fx_httpd_at_least(2, 4, 60) ? "yes" : "no",
                 fx_creds_mode == FX_CREDS_PER_CHILD ? "once per child"
                 : fx_creds_mode == FX_CREDS_PER_REQUEST
                   ? "per request (mpm-itk)" : "never (mod_ruid2)");
    return OK;
}

void fx_version_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(fx_version_post_config, NULL, NULL, APR_HOOK_MIDDLE);
}
