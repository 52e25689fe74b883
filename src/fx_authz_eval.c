/* fx_authz_eval.c — replay of mod_authz_core's tree evaluation over the
 * rules a request really evaluated, and which of them decided (see
 * fx_authz_eval.h).  Pure: APR only. */
#include <string.h>
#include <apr_strings.h>
#include "fx_authz_eval.h"

fx_az_node *fx_az_leaf(apr_pool_t *p, int index, int raw, int negate)
{
    fx_az_node *n = apr_pcalloc(p, sizeof(*n));
    n->is_leaf = 1;
    n->index = index;
    n->raw = raw;
    n->negate = negate;
    n->inner = n->result = FX_AZ_NEUTRAL;
    return n;
}

fx_az_node *fx_az_container(apr_pool_t *p, int op, int negate,
                            const void *key)
{
    fx_az_node *n = apr_pcalloc(p, sizeof(*n));
    n->op = op;
    n->negate = negate;
    n->key = key;
    n->index = -1;
    n->inner = n->result = FX_AZ_NEUTRAL;
    return n;
}

void fx_az_append(fx_az_node *parent, fx_az_node *child)
{
    child->next = NULL;
    if (parent->last) {
        parent->last->next = child;
    }
    else {
        parent->first = child;
    }
    parent->last = child;
}

fx_az_node *fx_az_find_child(const fx_az_node *parent, const void *key)
{
    fx_az_node *c;
    for (c = parent->first; c; c = c->next) {
        if (!c->is_leaf && c->key == key) {
            return c;
        }
    }
    return NULL;
}

static int fx_az_negated(int r)
{
    if (r == FX_AZ_GRANTED) {
        return FX_AZ_DENIED;
    }
    if (r == FX_AZ_DENIED || r == FX_AZ_DENIED_NO_USER) {
        return FX_AZ_NEUTRAL;
    }
    return r;
}

/* Nodes a short-circuit skipped: "not evaluated" (neutral), so results
 * never depend on an earlier evaluation of the same tree. */
static void fx_az_skip(fx_az_node *n)
{
    for (; n; n = n->next) {
        n->inner = n->result = FX_AZ_NEUTRAL;
        fx_az_skip(n->first);
    }
}

int fx_az_evaluate(fx_az_node *n)
{
    fx_az_node *c;
    int r;

    if (n->is_leaf) {
        r = n->raw;
    }
    else {
        r = FX_AZ_NEUTRAL;
        for (c = n->first; c; c = c->next) {
            int cr = fx_az_evaluate(c);
            if (cr == FX_AZ_ERROR) {
                r = cr;
                fx_az_skip(c->next);
                break;
            }
            if (cr == FX_AZ_NEUTRAL) {
                continue;
            }
            if (n->op == FX_AZ_AND) {
                if (cr == FX_AZ_DENIED) {
                    r = cr;
                    fx_az_skip(c->next);
                    break;
                }
                if ((cr == FX_AZ_DENIED_NO_USER && r != FX_AZ_DENIED)
                    || r == FX_AZ_NEUTRAL) {
                    r = cr;
                }
            }
            else {
                if (cr == FX_AZ_GRANTED) {
                    r = cr;
                    fx_az_skip(c->next);
                    break;
                }
                if ((cr == FX_AZ_DENIED_NO_USER && r == FX_AZ_DENIED)
                    || r == FX_AZ_NEUTRAL) {
                    r = cr;
                }
            }
        }
    }
    n->inner = r;
    n->result = n->negate ? fx_az_negated(r) : r;
    return n->result;
}

static void fx_az_all(const fx_az_node *n, apr_array_header_t *out,
                      int skip_neutral)
{
    const fx_az_node *c;
    for (c = n->first; c; c = c->next) {
        if (!skip_neutral || c->result != FX_AZ_NEUTRAL) {
            fx_az_responsible(c, out);
        }
    }
}

void fx_az_responsible(const fx_az_node *n, apr_array_header_t *out)
{
    const fx_az_node *c;

    if (n->is_leaf) {
        APR_ARRAY_PUSH(out, int) = n->index;
        return;
    }
    switch (n->inner) {
    case FX_AZ_ERROR:
        for (c = n->first; c; c = c->next) {
            if (c->result == FX_AZ_ERROR) {
                fx_az_responsible(c, out);
                return;
            }
        }
        break;
    case FX_AZ_GRANTED:
        if (n->op == FX_AZ_OR) {
            /* The first granting child stopped the evaluation. */
            for (c = n->first; c; c = c->next) {
                if (c->result == FX_AZ_GRANTED) {
                    fx_az_responsible(c, out);
                    return;
                }
            }
        }
        fx_az_all(n, out, 1);
        break;
    case FX_AZ_DENIED:
    case FX_AZ_DENIED_NO_USER:
        if (n->op == FX_AZ_AND) {
            /* RequireAll: the denying child decided (for "no user yet",
             * the first child that needed one). */
            for (c = n->first; c; c = c->next) {
                if (c->result == n->inner) {
                    fx_az_responsible(c, out);
                    return;
                }
            }
        }
        /* RequireAny: nothing granted, every child that answered counts. */
        fx_az_all(n, out, 1);
        break;
    default:
        /* Neutral: no child had an opinion; all of them were tried. */
        fx_az_all(n, out, 0);
        break;
    }
}

static int fx_az_failed(int r)
{
    return r == FX_AZ_DENIED || r == FX_AZ_DENIED_NO_USER;
}

/* What made a granting node grant: the first granting child of an OR,
 * followed down; an AND granted through all its children, so itself. */
static const fx_az_node *fx_az_credit(const fx_az_node *n)
{
    const fx_az_node *c;
    if (n->is_leaf || n->op != FX_AZ_OR) {
        return n;
    }
    for (c = n->first; c; c = c->next) {
        if (c->result == FX_AZ_GRANTED) {
            return fx_az_credit(c);
        }
    }
    return n;
}

static const fx_az_node *fx_az_blame_r(const fx_az_node *n, int *active)
{
    const fx_az_node *c, *pick = NULL;
    int npick = 0, a;

    *active = 0;
    if (n->is_leaf) {
        *active = n->result == FX_AZ_DENIED && (n->negate || n->absolute);
        return n;
    }
    if (n->negate && n->result == FX_AZ_DENIED) {
        /* RequireNone / RequireNotAll: what matched inside made it refuse;
         * the matching rule is the one to name. */
        *active = 1;
        return n->inner == FX_AZ_GRANTED ? fx_az_credit(n) : n;
    }
    if (n->inner == FX_AZ_ERROR) {
        for (c = n->first; c; c = c->next) {
            if (c->result == FX_AZ_ERROR) {
                return fx_az_blame_r(c, active);
            }
        }
        return n;
    }
    if (!fx_az_failed(n->inner)) {
        return n;       /* neutral: nothing had an opinion */
    }
    if (n->op == FX_AZ_AND) {
        for (c = n->first; c; c = c->next) {
            if (c->result == n->inner) {
                return fx_az_blame_r(c, active);
            }
        }
        return n;
    }
    /* OR: nothing granted.  One active refusal among mere non-grants. */
    for (c = n->first; c; c = c->next) {
        if (fx_az_failed(c->result)) {
            const fx_az_node *b = fx_az_blame_r(c, &a);
            if (a) {
                pick = b;
                npick++;
            }
        }
    }
    if (npick == 1) {
        *active = 1;
        return pick;
    }
    if (npick > 1) {
        return n;
    }
    /* A lone failed child (the others neutral) decided on its own. */
    for (c = n->first; c; c = c->next) {
        if (fx_az_failed(c->result)) {
            pick = c;
            npick--;
        }
    }
    if (npick == -1) {
        return fx_az_blame_r(pick, active);
    }
    return n;
}

/* The granting leaves of a granting subtree (what a negation matched). */
static void fx_az_granting_leaves(const fx_az_node *n, apr_array_header_t *out)
{
    const fx_az_node *c;
    if (n->is_leaf) {
        if (n->result == FX_AZ_GRANTED) {
            APR_ARRAY_PUSH(out, int) = n->index;
        }
        return;
    }
    for (c = n->first; c; c = c->next) {
        if (c->result == FX_AZ_GRANTED) {
            fx_az_granting_leaves(c, out);
        }
    }
}

void fx_az_refusals(const fx_az_node *n, apr_array_header_t *out)
{
    const fx_az_node *c;
    if (!fx_az_failed(n->result)) {
        return;
    }
    if (n->is_leaf) {
        if (n->negate && n->inner == FX_AZ_GRANTED) {
            APR_ARRAY_PUSH(out, int) = n->index;
        }
        return;
    }
    if (n->negate) {
        /* RequireNone / RequireNotAll: what matched inside refused */
        if (n->inner == FX_AZ_GRANTED) {
            fx_az_granting_leaves(n, out);
        }
        return;
    }
    for (c = n->first; c; c = c->next) {
        fx_az_refusals(c, out);
    }
}

const fx_az_node *fx_az_blame(const fx_az_node *n, int *active)
{
    int a;
    const fx_az_node *b = fx_az_blame_r(n, &a);
    if (active) {
        *active = a;
    }
    return b;
}

fx_az_node *fx_az_parent(fx_az_node *root, const fx_az_node *n)
{
    fx_az_node *c, *found;
    if (root->is_leaf) {
        return NULL;
    }
    for (c = root->first; c; c = c->next) {
        if (c == n) {
            return root;
        }
        if ((found = fx_az_parent(c, n)) != NULL) {
            return found;
        }
    }
    return NULL;
}

int fx_az_grants_with(apr_pool_t *p, fx_az_node *root, fx_az_node *container)
{
    fx_az_node *g = fx_az_leaf(p, -1, FX_AZ_GRANTED, 0);
    fx_az_node *old_last = container->last;
    int r;

    fx_az_append(container, g);
    r = fx_az_evaluate(root);
    container->last = old_last;
    if (old_last) {
        old_last->next = NULL;
    }
    else {
        container->first = NULL;
    }
    fx_az_evaluate(root);
    return r == FX_AZ_GRANTED;
}

int fx_az_grants_if(fx_az_node *root, fx_az_node *leaf, int raw, int negate)
{
    int old_raw = leaf->raw, old_neg = leaf->negate, old_abs = leaf->absolute;
    int r;

    leaf->raw = raw;
    leaf->negate = negate;
    leaf->absolute = 0;
    r = fx_az_evaluate(root);
    leaf->raw = old_raw;
    leaf->negate = old_neg;
    leaf->absolute = old_abs;
    fx_az_evaluate(root);
    return r == FX_AZ_GRANTED;
}

static int fx_az_ends(const char *s, apr_size_t n, const char *suffix)
{
    apr_size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

static int fx_az_is_name(const char *s, apr_size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

const char *fx_az_protection_of(const char *path)
{
    static const char *const vcs[] = { ".git", ".svn", ".hg", ".bzr", "CVS",
                                       NULL };
    static const char *const backup[] = { "~", ".bak", ".old", ".orig",
        ".save", ".swp", ".sql", ".dump", ".tar", ".tgz", ".gz", ".zip",
        NULL };
    static const char *const secret_names[] = { "wp-config.php", "config.php",
        "settings.php", "configuration.php", "local.xml", ".env",
        ".htpasswd", NULL };
    static const char *const secret_ext[] = { ".key", ".pem", ".ini",
        ".conf", ".log", NULL };
    const char *c = path, *dot = NULL;
    const char *last = NULL;
    apr_size_t lastn = 0;
    int i;

    if (!path) {
        return NULL;
    }
    while (*c) {
        const char *e;
        apr_size_t n;
        while (*c == '/') {
            c++;
        }
        if (!*c) {
            break;
        }
        e = strchr(c, '/');
        n = e ? (apr_size_t)(e - c) : strlen(c);
        for (i = 0; vcs[i]; i++) {
            if (fx_az_is_name(c, n, vcs[i])) {
                return "vcs";
            }
        }
        if (*c == '.' && !dot && !fx_az_is_name(c, n, ".")
            && !fx_az_is_name(c, n, "..")
            && !fx_az_is_name(c, n, ".well-known")) {
            dot = c;
        }
        last = c;
        lastn = n;
        c += n;
    }
    if (last) {
        for (i = 0; secret_names[i]; i++) {
            if (fx_az_is_name(last, lastn, secret_names[i])) {
                return "secret-file";
            }
        }
        for (i = 0; backup[i]; i++) {
            if (fx_az_ends(last, lastn, backup[i])) {
                return "backup";
            }
        }
        for (i = 0; secret_ext[i]; i++) {
            if (fx_az_ends(last, lastn, secret_ext[i])) {
                return "secret-file";
            }
        }
    }
    return dot ? "dotfiles" : NULL;
}

const char *fx_az_target_dir(apr_pool_t *p, const char *filename, int is_dir)
{
    char *d = apr_pstrdup(p, filename ? filename : "/");
    apr_size_t n = strlen(d);
    char *slash;

    while (n > 1 && d[n - 1] == '/') {
        d[--n] = '\0';
    }
    if (is_dir) {
        return d;
    }
    slash = strrchr(d, '/');
    if (!slash) {
        return ".";
    }
    /* "/a//b" maps to "/a", never to "/a/" */
    while (slash > d && slash[-1] == '/') {
        slash--;
    }
    if (slash == d) {
        return "/";
    }
    *slash = '\0';
    return d;
}

int fx_az_is_ancestor(const char *dir, const char *path)
{
    apr_size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') {
        n--;
    }
    if (n == 1 && dir[0] == '/') {
        return path[0] == '/' && path[1] != '\0';
    }
    return strncmp(dir, path, n) == 0 && path[n] == '/' && path[n + 1];
}

const char *fx_az_result_name(int result)
{
    switch (result) {
    case FX_AZ_DENIED:         return "denied";
    case FX_AZ_GRANTED:        return "granted";
    case FX_AZ_NEUTRAL:        return "neutral";
    case FX_AZ_ERROR:          return "error";
    case FX_AZ_DENIED_NO_USER: return "denied-no-user";
    }
    return "unknown";
}
