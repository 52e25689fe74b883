/* fx_compat.c — the Order/Allow/Deny decision of mod_access_compat, redone
 * to name the line that matched (see fx_compat.h).  Pure: APR only. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "fx_compat.h"

int fx_cm_order_parse(const char *arg)
{
    if (!arg) {
        return -1;
    }
    if (!strcasecmp(arg, "allow,deny")) {
        return FX_CM_ALLOW_DENY;
    }
    if (!strcasecmp(arg, "deny,allow")) {
        return FX_CM_DENY_ALLOW;
    }
    if (!strcasecmp(arg, "mutual-failure")) {
        return FX_CM_MUTUAL;
    }
    return -1;
}

const char *fx_cm_order_name(int order)
{
    switch (order) {
    case FX_CM_ALLOW_DENY: return "allow,deny";
    case FX_CM_DENY_ALLOW: return "deny,allow";
    case FX_CM_MUTUAL:     return "mutual-failure";
    }
    return "?";
}

apr_array_header_t *fx_cm_parse(apr_pool_t *p, const char *args)
{
    char **argv = NULL;
    apr_array_header_t *out;
    int i;

    if (apr_tokenize_to_argv(args ? args : "", &argv, p) != APR_SUCCESS
        || !argv[0] || strcasecmp(argv[0], "from") != 0 || !argv[1]) {
        return NULL;
    }
    out = apr_array_make(p, 4, sizeof(fx_cm_item));
    for (i = 1; argv[i]; i++) {
        fx_cm_item *it = apr_array_push(out);
        char *w = argv[i], *slash;
        memset(it, 0, sizeof(*it));
        it->word = w;
        if (!strncasecmp(w, "env=!", 5)) {
            it->type = FX_CM_NENV;
            it->name = w + 5;
        }
        else if (!strncasecmp(w, "env=", 4)) {
            it->type = FX_CM_ENV;
            it->name = w + 4;
        }
        else if (!strcasecmp(w, "all")) {
            it->type = FX_CM_ALL;
        }
        else if ((slash = strchr(w, '/')) != NULL) {
            char *net = apr_pstrndup(p, w, slash - w);
            if (apr_ipsubnet_create(&it->ip, net, slash + 1, p)
                != APR_SUCCESS) {
                return NULL;
            }
            it->type = FX_CM_IP;
        }
        else if (apr_ipsubnet_create(&it->ip, w, NULL, p) == APR_SUCCESS) {
            it->type = FX_CM_IP;
        }
        else {
            it->type = FX_CM_HOST;
            it->name = w;
        }
    }
    return out;
}

int fx_cm_in_domain(const char *domain, const char *what)
{
    apr_size_t dl = strlen(domain), wl = strlen(what);

    if (wl < dl || strcasecmp(domain, what + (wl - dl)) != 0) {
        return 0;
    }
    if (wl == dl) {
        return 1;
    }
    /* Whole labels only: "good.com" must not match "nogood.com". */
    return domain[0] == '.' || what[wl - dl - 1] == '.';
}

int fx_cm_first_match(const apr_array_header_t *items, const fx_cm_client *c,
                      int *host_state, const char **host)
{
    int i;
    for (i = 0; items && i < items->nelts; i++) {
        const fx_cm_item *it = &APR_ARRAY_IDX(items, i, fx_cm_item);
        switch (it->type) {
        case FX_CM_ENV:
            if (c->env && c->env(c->baton, it->name)) {
                return i;
            }
            break;
        case FX_CM_NENV:
            if (!c->env || !c->env(c->baton, it->name)) {
                return i;
            }
            break;
        case FX_CM_ALL:
            return i;
        case FX_CM_IP:
            if (c->addr && apr_ipsubnet_test(it->ip, c->addr)) {
                return i;
            }
            break;
        case FX_CM_HOST:
            if (*host_state == 0) {
                *host = c->host ? c->host(c->baton) : NULL;
                *host_state = *host ? 2 : 1;
            }
            if (*host_state == 2 && fx_cm_in_domain(it->name, *host)) {
                return i;
            }
            break;
        }
    }
    return -1;
}

int fx_cm_denied(int order, int allow_matched, int deny_matched)
{
    switch (order) {
    case FX_CM_ALLOW_DENY:
        return !allow_matched || deny_matched;
    case FX_CM_DENY_ALLOW:
        return deny_matched && !allow_matched;
    default:
        return !(allow_matched && !deny_matched);
    }
}
