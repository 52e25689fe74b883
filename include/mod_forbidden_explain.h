/* mod_forbidden_explain.h — the public face of mod_forbidden_explain for
 * other modules: the reason vocabulary and an optional function through
 * which a module states why it answers 403, so the entry carries its words
 * instead of "module returned 403 without stating a reason". */
#ifndef MOD_FORBIDDEN_EXPLAIN_H
#define MOD_FORBIDDEN_EXPLAIN_H

#include "httpd.h"
#include "apr_optional.h"

/* Reasons (README, "Reasons").  New words are only ever added. */
#define FX_REASON_AUTHZ          "authz"
#define FX_REASON_ACCESS_COMPAT  "access-compat"
#define FX_REASON_FS_PERMISSION  "fs-permission"
#define FX_REASON_SYMLINK        "symlink"
#define FX_REASON_NO_INDEX       "no-index"
#define FX_REASON_HTACCESS       "htaccess"
#define FX_REASON_EXEC_CGI       "exec-cgi"
#define FX_REASON_REWRITE        "rewrite"
#define FX_REASON_ALIAS          "alias"
#define FX_REASON_SSL            "ssl"
#define FX_REASON_WAF            "waf"
#define FX_REASON_UPSTREAM       "upstream"
#define FX_REASON_PROXY          "proxy"
#define FX_REASON_MODULE         "module"

/* The request note scripts and handlers may set instead of calling the
 * function (e.g. mod_lua: r.notes["forbidden-explain-reason"] = "...").
 * Its value is used as the entry's "detail". */
#define FX_NOTE_REASON "forbidden-explain-reason"

/* Attach a reason to the current request before answering 403.
 *   r       the request (a sub-request is attributed to its main request)
 *   reason  one word of the vocabulary above, or NULL for "module"
 *   detail  one sentence for a person (copied), may be NULL
 *   hint    what the administrator should change (copied), may be NULL
 * Callable from any phase; costs nothing unless the response ends as 403.
 *
 *   APR_OPTIONAL_FN_TYPE(forbidden_explain_set_reason) *fx_reason =
 *       APR_RETRIEVE_OPTIONAL_FN(forbidden_explain_set_reason);
 *   if (fx_reason)
 *       fx_reason(r, FX_REASON_MODULE, "token expired", "renew the token");
 */
APR_DECLARE_OPTIONAL_FN(void, forbidden_explain_set_reason,
                        (request_rec *r, const char *reason,
                         const char *detail, const char *hint));

#endif
