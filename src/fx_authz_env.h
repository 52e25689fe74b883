/* fx_authz_env.h — where an environment variable a Require env / Allow
 * from env= rule looked at came from: the SetEnvIf, SetEnvIfNoCase,
 * BrowserMatch or BrowserMatchNoCase line of the main configuration that
 * set (or would have set) it, re-tested at 403 time against this request's
 * header value.  See fx_authz_env.c. */
#ifndef FX_AUTHZ_ENV_H
#define FX_AUTHZ_ENV_H

#include "httpd.h"
#include "http_config.h"

/* post_config: walks ap_conftree once per generation (pconf). */
void fx_azenv_collect(apr_pool_t *pconf);

/* For variable var as this request saw it: a sentence saying which line
 * set it (or that no line setting it matched), and the same as a JSON
 * object in *json ({"var","directive","file","line","section","attribute",
 * "value","matched"}); NULL when nothing can be proven.  in_effect: the
 * configuration sections known to apply to r (the sections of the Require
 * lines it evaluated), n of them. */
const char *fx_azenv_source(request_rec *r, apr_pool_t *p, const char *var,
                            const ap_directive_t *const *in_effect, int n,
                            const char **json);

/* The line that set var for this request (the last line in effect whose
 * pattern matched, its value what the request has), when fx_azenv_source
 * proves it; NULL otherwise.  Where an exemption for one client goes. */
const ap_directive_t *fx_azenv_setter(request_rec *r, apr_pool_t *p,
                                      const char *var,
                                      const ap_directive_t *const *in_effect,
                                      int n);

#endif
