/* fx_classify.c — reason vocabulary and its default wording. */
#include <string.h>
#include "fx_classify.h"

static int fx_has_ah(const fx_classify_in *in, int ah)
{
    int i;
    for (i = 0; i < in->n_ahs; i++) {
        if (in->ahs[i] == ah) {
            return 1;
        }
    }
    return 0;
}

static int fx_is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

const char *fx_classify_reason(const fx_classify_in *in)
{
    const char *m = in->module;

    if (!m) {
        return "module";
    }
    if (in->returned_ok) {
        /* The status came from whatever the handler relayed or ran: a
         * backend behind mod_proxy, a CGI/FastCGI script, mod_lua... */
        return fx_is(in->phase, "handler") ? "upstream" : "module";
    }
    if (fx_is(m, "mod_authz_core.c")) {
        return "authz";
    }
    if (fx_is(m, "mod_access_compat.c")) {
        return "access-compat";
    }
    if (fx_is(m, "mod_rewrite.c")) {
        return "rewrite";
    }
    if (fx_is(m, "mod_alias.c")) {
        return "alias";
    }
    if (fx_is(m, "mod_ssl.c")) {
        return "ssl";
    }
    if (fx_is(m, "mod_security2.c") || fx_is(m, "mod_security3.c")
        || fx_is(m, "mod_security.c")) {
        return "waf";
    }
    if (fx_is(m, "mod_cgi.c") || fx_is(m, "mod_cgid.c")) {
        return "exec-cgi";
    }
    if (fx_is(m, "mod_autoindex.c")) {
        return fx_has_ah(in, 1275) ? "fs-permission" : "no-index";
    }
    if (strncmp(m, "mod_proxy", 9) == 0) {
        return "proxy";
    }
    if (fx_is(m, "core.c")) {
        if (fx_is(in->phase, "map_to_storage")) {
            if (fx_has_ah(in, 529)) {
                return "htaccess";
            }
            if (fx_has_ah(in, 37) || fx_has_ah(in, 32)) {
                return "symlink";
            }
            return "fs-permission";
        }
        if (fx_is(in->phase, "handler")) {
            return "fs-permission";
        }
    }
    if (fx_is(m, "mod_asis.c") || fx_is(m, "mod_negotiation.c")
        || fx_is(m, "mod_cern_meta.c")) {
        if (fx_has_ah(in, 1234) || fx_has_ah(in, 683) || fx_has_ah(in, 686)
            || fx_has_ah(in, 1562)) {
            return "fs-permission";
        }
    }
    return "module";
}

static const struct {
    const char *reason, *detail, *hint;
} fx_words[] = {
    { "authz",
      "An authorization rule (Require) in effect for this URL denied the client.",
      "Change the Require rules that apply to this path so that they grant this client." },
    { "access-compat",
      "Order/Allow/Deny rules (mod_access_compat) denied the client.",
      "Add an Allow line matching this client, or migrate the section to Require." },
    { "fs-permission",
      "The server process could not read the file or search a directory on its path.",
      "Give the server's user or group read permission on the file and search (x) permission on every directory above it." },
    { "symlink",
      "A symbolic link on the path was not allowed or its target was not reachable.",
      "Enable Options FollowSymLinks (or SymLinksIfOwnerMatch with matching owners) for the directory holding the link, or fix its target." },
    { "no-index",
      "The URL names a directory that has no index file and directory listings are off.",
      "Add an index file named in DirectoryIndex, or enable Options +Indexes for this directory." },
    { "htaccess",
      "An .htaccess file on the path could not be read, so httpd denied access to be safe.",
      "Make the .htaccess file readable by the server user, or set AllowOverride None if it is not needed." },
    { "exec-cgi",
      "The URL maps to a CGI script but ExecCGI is not enabled for its directory.",
      "Add Options +ExecCGI for this directory, or serve the file with another handler." },
    { "rewrite",
      "A mod_rewrite rule forbade the request ([F] or [R=403]).",
      "Review the RewriteRule and its RewriteCond lines that fired for this URL." },
    { "alias",
      "A mod_alias line (Redirect or RedirectMatch with status 403) answered 403.",
      "Look at the Redirect 403 and RedirectMatch 403 lines that apply to this URL: they refuse it on purpose." },
    { "ssl",
      "A mod_ssl access requirement (SSLRequireSSL, SSLRequire) was not met.",
      "Use HTTPS, or change the SSLRequire expression that applies to this path." },
    { "waf",
      "The web application firewall denied the request.",
      "Look up the rule id in the WAF's audit log; tune or exclude that rule if this is a false positive." },
    { "upstream",
      "The content generator or proxied backend answered 403 itself; httpd relayed it.",
      "Look at the backend or application named here; httpd's own configuration did not deny this request." },
    { "proxy",
      "mod_proxy refused to forward the request (ProxyBlock or AllowCONNECT).",
      "Change the ProxyBlock or AllowCONNECT setting that matched this destination." },
    { "module",
      "A module returned 403 without stating a reason.",
      "Check the configuration of the module named here for this URL." },
};

static int fx_word_index(const char *reason)
{
    int i, n = (int)(sizeof(fx_words) / sizeof(fx_words[0]));
    for (i = 0; i < n; i++) {
        if (reason && strcmp(fx_words[i].reason, reason) == 0) {
            return i;
        }
    }
    return n - 1;
}

const char *fx_classify_detail(const char *reason)
{
    return fx_words[fx_word_index(reason)].detail;
}

const char *fx_classify_hint(const char *reason)
{
    return fx_words[fx_word_index(reason)].hint;
}
