/* mod_fx_fake_ruid2.c — a stand-in for tests/test_platform.py: compiled as
 * "mod_ruid2.c", so httpd names it the way the real mod_ruid2 is named and
 * ap_find_linked_module("mod_ruid2.c") finds it.  It switches nothing
 * (Debian 12 packages no mod_ruid2): it only lets the test see the
 * module's refusal to explain permissions under a per-request user switch. */
#include "httpd.h"
#include "http_config.h"

module AP_MODULE_DECLARE_DATA ruid2_module = {
    STANDARD20_MODULE_STUFF,
    NULL, NULL, NULL, NULL, NULL, NULL
};
