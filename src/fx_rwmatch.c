/* fx_rwmatch.c — replays a mod_rewrite rule set (see fx_rwmatch.h).  The
 * control flow follows mod_rewrite.c's apply_rewrite_list: rule pattern
 * first, then its conditions with [OR] chaining, [C] chains, [S=n], [L],
 * [END], [N], [NS], and the first rule carrying a status flag ([F], [G],
 * [R=4xx]) ends the list with that status. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include "fx_rwmatch.h"

#define FX_RW_MAX_ROUNDS 100

enum {
    RWF_NOCASE = 1 << 0, RWF_CHAIN = 1 << 1, RWF_LAST = 1 << 2,
    RWF_END = 1 << 3, RWF_NEWROUND = 1 << 4, RWF_NOSUBREQ = 1 << 5,
    RWF_PROXY = 1 << 6, RWF_PASSTHROUGH = 1 << 7, RWF_REDIRECT = 1 << 8,
    RWF_STATUS = 1 << 9, RWF_NOSUB = 1 << 10, RWF_QSAPPEND = 1 << 11,
    RWF_QSDISCARD = 1 << 12, RWF_QSLAST = 1 << 13, RWF_ALLOW3F = 1 << 14,
    RWF_ESCAPEBR = 1 << 15, RWF_NOTMATCH = 1 << 16, RWF_DPI = 1 << 17,
    RWF_QSNONE = 1 << 18, RWF_UNC = 1 << 19
};

enum {
    CF_NOCASE = 1, CF_ORNEXT = 2, CF_NOTMATCH = 4
};

typedef enum {
    CP_REGEX, CP_FILE, CP_STR_LT, CP_STR_LE, CP_STR_EQ, CP_STR_GT, CP_STR_GE,
    CP_INT_LT, CP_INT_LE, CP_INT_EQ, CP_INT_GT, CP_INT_GE, CP_UNSUPPORTED
} fx_cond_type;

typedef struct {
    int line;
    const char *test_string;
    const char *pattern_as_written;
    const char *pattern;
    fx_cond_type type;
    char fileop;
    int flags;
} fx_cond;

typedef struct {
    int line;
    const char *pattern;
    const char *output;
    int flags;
    int status;                 /* forced response code */
    int skip;
    const char *bad;            /* unsupported flag, if any */
    apr_array_header_t *conds;  /* fx_cond */
    apr_array_header_t *env;    /* const char *: [E=...] values as written */
} fx_rule;

typedef struct {
    apr_pool_t *p;
    const fx_rw_ops *ops;
    const char *perdir;
    const char *filename;
    const char *path_info;
    const char *args;
    fx_rw_caps rr, rc;          /* backreferences $N and %N */
    int have_rr, have_rc;
    const char *unknown;        /* first thing that could not be replayed */
    apr_table_t *env;           /* [E=] changes the replay made; unset: "" in
                                 * env_unset too */
    apr_table_t *env_unset;
    int args_rule;              /* line of the rule that last set args */
} fx_ctx;

int fx_rw_split(apr_pool_t *p, const char *args, char *words[3])
{
    char *s = apr_pstrdup(p, args ? args : "");
    int n = 0;

    while (n < 3) {
        char quote;
        while (apr_isspace(*s)) {
            s++;
        }
        if (!*s) {
            break;
        }
        quote = (*s == '"' || *s == '\'') ? *s++ : '\0';
        words[n++] = s;
        for (; *s; s++) {
            if ((apr_isspace(*s) && !quote) || (quote && *s == quote)) {
                break;
            }
            if (*s == '\\' && apr_isspace(s[1])) {
                s++;
            }
        }
        if (!*s) {
            break;
        }
        *s++ = '\0';
    }
    return n;
}

static int fx_status_is_redirect(int st)
{
    return st >= 300 && st <= 399;
}

/* The flags field "[F,NC]" (mod_rewrite's cmd_parseflagfield). */
static void fx_parse_rule_flags(apr_pool_t *p, fx_rule *ru, const char *field)
{
    char *s, *tok, *last;
    size_t len;

    if (!field || *field != '[') {
        ru->bad = field;
        return;
    }
    s = apr_pstrdup(p, field + 1);
    len = strlen(s);
    if (!len || s[len - 1] != ']') {
        ru->bad = field;
        return;
    }
    s[len - 1] = '\0';
    for (tok = apr_strtok(s, ",", &last); tok;
         tok = apr_strtok(NULL, ",", &last)) {
        char *val = strchr(tok, '=');
        while (apr_isspace(*tok)) {
            tok++;
        }
        if (val) {
            *val++ = '\0';
        }
        if (!strcasecmp(tok, "F") || !strcasecmp(tok, "forbidden")) {
            ru->flags |= RWF_STATUS | RWF_NOSUB;
            ru->status = 403;
        }
        else if (!strcasecmp(tok, "G") || !strcasecmp(tok, "gone")) {
            ru->flags |= RWF_STATUS | RWF_NOSUB;
            ru->status = 410;
        }
        else if (!strcasecmp(tok, "R") || !strcasecmp(tok, "redirect")) {
            ru->flags |= RWF_REDIRECT;
            if (val && *val) {
                int st = 302;
                if (!strcasecmp(val, "permanent")) {
                    st = 301;
                }
                else if (!strcasecmp(val, "temp")) {
                    st = 302;
                }
                else if (!strcasecmp(val, "seeother")) {
                    st = 303;
                }
                else if (apr_isdigit(*val)) {
                    st = atoi(val);
                    if (!fx_status_is_redirect(st)) {
                        ru->flags |= RWF_STATUS | RWF_NOSUB;
                    }
                }
                ru->status = st;
            }
        }
        else if (!strcasecmp(tok, "L") || !strcasecmp(tok, "last")) {
            ru->flags |= RWF_LAST;
        }
        else if (!strcasecmp(tok, "END")) {
            ru->flags |= RWF_END;
        }
        else if (!strcasecmp(tok, "C") || !strcasecmp(tok, "chain")) {
            ru->flags |= RWF_CHAIN;
        }
        else if (!strcasecmp(tok, "N") || !strcasecmp(tok, "next")) {
            ru->flags |= RWF_NEWROUND;
        }
        else if (!strcasecmp(tok, "NC") || !strcasecmp(tok, "nocase")) {
            ru->flags |= RWF_NOCASE;
        }
        else if (!strcasecmp(tok, "NS") || !strcasecmp(tok, "nosubreq")) {
            ru->flags |= RWF_NOSUBREQ;
        }
        else if (!strcasecmp(tok, "P") || !strcasecmp(tok, "proxy")) {
            ru->flags |= RWF_PROXY;
        }
        else if (!strcasecmp(tok, "PT") || !strcasecmp(tok, "passthrough")) {
            ru->flags |= RWF_PASSTHROUGH;
        }
        else if (!strcasecmp(tok, "S") || !strcasecmp(tok, "skip")) {
            ru->skip = val ? atoi(val) : 0;
        }
        else if (!strcasecmp(tok, "QSA") || !strcasecmp(tok, "qsappend")) {
            ru->flags |= RWF_QSAPPEND;
        }
        else if (!strcasecmp(tok, "QSD") || !strcasecmp(tok, "qsdiscard")) {
            ru->flags |= RWF_QSDISCARD;
        }
        else if (!strcasecmp(tok, "QSL") || !strcasecmp(tok, "qslast")) {
            ru->flags |= RWF_QSLAST;
        }
        else if (!strcasecmp(tok, "UnsafeAllow3F")) {
            ru->flags |= RWF_ALLOW3F;
        }
        else if (!strcasecmp(tok, "B")) {
            ru->flags |= RWF_ESCAPEBR;
        }
        else if (!strcasecmp(tok, "E") || !strcasecmp(tok, "env")) {
            /* Carried: later conditions may read %{ENV:...}. */
            if (!ru->env) {
                ru->env = apr_array_make(p, 2, sizeof(const char *));
            }
            APR_ARRAY_PUSH(ru->env, const char *) = val ? val : "";
        }
        else if (!strcasecmp(tok, "UNC")) {
            ru->flags |= RWF_UNC;
        }
        else if (!strcasecmp(tok, "DPI") || !strcasecmp(tok, "discardpath")) {
            ru->flags |= RWF_DPI;
        }
        /* Flags that change nothing the replay looks at: cookies, types,
         * handlers, escaping of the output. */
        else if (!strcasecmp(tok, "CO") || !strcasecmp(tok, "cookie")
                 || !strcasecmp(tok, "T") || !strcasecmp(tok, "type")
                 || !strcasecmp(tok, "H") || !strcasecmp(tok, "handler")
                 || !strcasecmp(tok, "NE") || !strcasecmp(tok, "noescape")
                 || !strcasecmp(tok, "BNP") || !strcasecmp(tok, "BCTLS")
                 || !strcasecmp(tok, "BNE")
                 || !strcasecmp(tok, "UnsafePrefixStat")) {
        }
        else {
            ru->bad = apr_pstrdup(p, tok);
        }
    }
}

static void fx_parse_cond(apr_pool_t *p, fx_cond *c, char **w, int nw)
{
    const char *a2;
    char *tok, *last, *s;

    c->test_string = w[0];
    c->pattern_as_written = w[1];
    c->type = CP_REGEX;
    if (nw > 2 && w[2][0] == '[') {
        s = apr_pstrndup(p, w[2] + 1, strlen(w[2]) - 1);
        if (*s && s[strlen(s) - 1] == ']') {
            s[strlen(s) - 1] = '\0';
        }
        for (tok = apr_strtok(s, ",", &last); tok;
             tok = apr_strtok(NULL, ",", &last)) {
            if (!strcasecmp(tok, "NC") || !strcasecmp(tok, "nocase")) {
                c->flags |= CF_NOCASE;
            }
            else if (!strcasecmp(tok, "OR") || !strcasecmp(tok, "ornext")) {
                c->flags |= CF_ORNEXT;
            }
        }
    }
    a2 = w[1];
    if (*a2 == '!') {
        c->flags |= CF_NOTMATCH;
        a2++;
    }
    if (!strcasecmp(w[0], "expr")) {
        c->type = CP_UNSUPPORTED;
    }
    else if (a2[0] && a2[1]) {
        if (a2[0] == '-') {
            if (!a2[2]) {
                switch (a2[1]) {
                case 'f': case 's': case 'd': case 'x':
                    c->type = CP_FILE;
                    c->fileop = a2[1];
                    break;
                case 'h': case 'L': case 'l':
                    c->type = CP_FILE;
                    c->fileop = 'l';
                    break;
                case 'U': case 'F':
                    c->type = CP_UNSUPPORTED;
                    break;
                }
            }
            else if (a2[3]) {
                if (!strncmp(a2, "-lt", 3)) { c->type = CP_INT_LT; a2 += 3; }
                else if (!strncmp(a2, "-le", 3)) { c->type = CP_INT_LE; a2 += 3; }
                else if (!strncmp(a2, "-gt", 3)) { c->type = CP_INT_GT; a2 += 3; }
                else if (!strncmp(a2, "-ge", 3)) { c->type = CP_INT_GE; a2 += 3; }
                else if (!strncmp(a2, "-eq", 3)) { c->type = CP_INT_EQ; a2 += 3; }
                else if (!strncmp(a2, "-ne", 3)) {
                    c->type = CP_INT_EQ;
                    c->flags ^= CF_NOTMATCH;
                    a2 += 3;
                }
            }
        }
        else if (a2[0] == '>') {
            a2++;
            c->type = CP_STR_GT;
            if (*a2 == '=') {
                a2++;
                c->type = CP_STR_GE;
            }
        }
        else if (a2[0] == '<') {
            a2++;
            c->type = CP_STR_LT;
            if (*a2 == '=') {
                a2++;
                c->type = CP_STR_LE;
            }
        }
        else if (a2[0] == '=') {
            a2++;
            c->type = CP_STR_EQ;
            if (!strcmp(a2, "\"\"")) {
                a2 += 2;
            }
        }
    }
    if (c->type != CP_REGEX && (c->type < CP_STR_LT || c->type > CP_STR_GE)) {
        c->flags &= ~CF_NOCASE;     /* as mod_rewrite (AH00665) */
    }
    c->pattern = a2;
}

/* Rules in order, each with the conditions of its group written before it. */
static apr_array_header_t *fx_parse_rules(apr_pool_t *p,
                                          const fx_rw_line *lines, int n,
                                          const char **err)
{
    apr_array_header_t *rules = apr_array_make(p, 8, sizeof(fx_rule));
    apr_array_header_t *pending = apr_array_make(p, 4, sizeof(fx_cond));
    int i, pending_group = -1;

    for (i = 0; i < n; i++) {
        char *w[3] = { NULL, NULL, NULL };
        int nw = fx_rw_split(p, lines[i].args, w);
        if (lines[i].group != pending_group) {
            pending = apr_array_make(p, 4, sizeof(fx_cond));
            pending_group = lines[i].group;
        }
        if (!strcasecmp(lines[i].name, "RewriteCond")) {
            fx_cond *c = apr_array_push(pending);
            memset(c, 0, sizeof(*c));
            if (nw < 2) {
                *err = apr_psprintf(p, "cannot parse RewriteCond %s",
                                    lines[i].args);
                return NULL;
            }
            c->line = i;
            fx_parse_cond(p, c, w, nw);
        }
        else if (!strcasecmp(lines[i].name, "RewriteRule")) {
            fx_rule *ru = apr_array_push(rules);
            memset(ru, 0, sizeof(*ru));
            if (nw < 2) {
                *err = apr_psprintf(p, "cannot parse RewriteRule %s",
                                    lines[i].args);
                return NULL;
            }
            ru->line = i;
            ru->status = 302;
            ru->pattern = w[0];
            if (*ru->pattern == '!') {
                ru->flags |= RWF_NOTMATCH;
                ru->pattern++;
            }
            ru->output = w[1];
            if (nw > 2) {
                fx_parse_rule_flags(p, ru, w[2]);
            }
            if (!strcmp(ru->output, "-")) {
                ru->flags |= RWF_NOSUB;
            }
            /* cmd_rewriterule: a literal '?' ending the substitution means
             * "no query string" (with [QSA]: split at the last '?'); [QSD]
             * without any '?' drops it. */
            if (*ru->output && ru->output[strlen(ru->output) - 1] == '?') {
                if (ru->flags & RWF_QSAPPEND) {
                    ru->flags |= RWF_QSLAST;
                }
                else {
                    ru->flags |= RWF_QSNONE;
                    ru->output = apr_pstrndup(p, ru->output,
                                              strlen(ru->output) - 1);
                }
            }
            else if ((ru->flags & RWF_QSDISCARD) && !strchr(ru->output, '?')) {
                ru->flags |= RWF_QSNONE;
            }
            ru->conds = pending;
            pending = apr_array_make(p, 4, sizeof(fx_cond));
        }
    }
    return rules;
}

static const char *fx_closing_curly(const char *s)
{
    int depth = 1;
    for (; *s; s++) {
        if (*s == '}' && --depth == 0) {
            return s;
        }
        if (*s == '{') {
            depth++;
        }
    }
    return NULL;
}

/* %{name}: a variable an earlier [E=] of this replay set or unset has the
 * replay's value; everything else is the request's. */
static const char *fx_lookup(fx_ctx *x, const char *name)
{
    if (!strncasecmp(name, "ENV:", 4) && name[4]) {
        const char *v = apr_table_get(x->env, name + 4);
        if (v) {
            return v;
        }
    }
    return x->ops->var(x->ops->baton, name, x->filename, x->args);
}

static const char *fx_expand(fx_ctx *x, const char *in, int escape_br,
                             int *unsafe_qmark);

/* ${map:key|default}: the key and default are expanded first, as
 * mod_rewrite does; a map the callback cannot answer stops the replay. */
static const char *fx_map_lookup(fx_ctx *x, const char *inner)
{
    const char *colon = strchr(inner, ':');
    const char *bar, *name, *key, *dflt = "", *v, *why = NULL;
    if (!colon) {
        return "";
    }
    name = apr_pstrmemdup(x->p, inner, colon - inner);
    bar = strchr(colon + 1, '|');
    key = bar ? apr_pstrmemdup(x->p, colon + 1, bar - colon - 1) : colon + 1;
    if (bar) {
        dflt = fx_expand(x, bar + 1, 0, NULL);
    }
    key = fx_expand(x, key, 0, NULL);
    if (!x->ops->map) {
        why = "no RewriteMap is known to the replay";
        v = NULL;
    }
    else {
        v = x->ops->map(x->ops->baton, name, key, &why);
    }
    if (why) {
        if (!x->unknown) {
            x->unknown = apr_psprintf(x->p, "RewriteMap lookup ${%s} cannot "
                                      "be reproduced: %s", inner, why);
        }
        return "";
    }
    return v ? v : dflt;
}

/* mod_rewrite's do_expand: \c, %{VAR}, ${map:key}, $N and %N.  Sets
 * *unsafe_qmark to 1 when the first '?' of the result came from an
 * expansion (the AH10508 test), 0 when from the literal text. */
static const char *fx_expand(fx_ctx *x, const char *in, int escape_br,
                             int *unsafe_qmark)
{
    apr_array_header_t *out = apr_array_make(x->p, 64, 1);
    const char *s = in;
    int qmark_seen = 0;

    while (*s) {
        const char *piece = NULL;
        apr_size_t plen = 0;
        int expanded = 0;

        if (*s == '\\') {
            piece = s[1] ? s + 1 : s;
            plen = 1;
            s += s[1] ? 2 : 1;
        }
        else if ((*s == '%' || *s == '$') && s[1] == '{') {
            const char *end = fx_closing_curly(s + 2);
            if (!end) {
                piece = s;
                plen = 2;
                s += 2;
            }
            else if (*s == '%') {
                char *name = apr_pstrmemdup(x->p, s + 2, end - s - 2);
                const char *v = fx_lookup(x, name);
                if (!v) {
                    if (!x->unknown) {
                        x->unknown = apr_psprintf(x->p, "the value of "
                                                  "%%{%s} cannot be "
                                                  "reproduced", name);
                    }
                    v = "";
                }
                piece = v;
                plen = strlen(v);
                expanded = 1;
                s = end + 1;
            }
            else {
                piece = fx_map_lookup(x, apr_pstrmemdup(x->p, s + 2,
                                                        end - s - 2));
                plen = strlen(piece);
                expanded = 1;
                s = end + 1;
            }
        }
        else if ((*s == '$' || *s == '%') && apr_isdigit(s[1])) {
            int n = s[1] - '0';
            const fx_rw_caps *c = (*s == '$') ? &x->rr : &x->rc;
            int have = (*s == '$') ? x->have_rr : x->have_rc;
            if (have && c->source && c->eo[n] > c->so[n]) {
                piece = c->source + c->so[n];
                plen = c->eo[n] - c->so[n];
                /* [B] escapes the reference: no '?' can come from it. */
                if (escape_br && memchr(piece, '?', plen)) {
                    piece = apr_pstrmemdup(x->p, piece, plen);
                    expanded = 0;
                    while (memchr(piece, '?', plen)) {
                        char *q = memchr(piece, '?', plen);
                        piece = apr_pstrcat(x->p, apr_pstrmemdup(x->p, piece,
                                                                 q - piece),
                                            "%3f", q + 1, NULL);
                        plen = strlen(piece);
                    }
                }
                else {
                    expanded = 1;
                }
            }
            s += 2;
        }
        else {
            piece = s++;
            plen = 1;
        }
        if (unsafe_qmark && !qmark_seen && plen
            && memchr(piece, '?', plen)) {
            qmark_seen = 1;
            *unsafe_qmark = expanded;
        }
        while (plen--) {
            *(char *)apr_array_push(out) = *piece++;
        }
    }
    *(char *)apr_array_push(out) = '\0';
    return out->elts;
}

static int fx_lexcmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) {
        return la < lb ? -1 : 1;
    }
    return strcmp(a, b);
}

static int fx_cond_apply(fx_ctx *x, const fx_cond *c, fx_rw_cond_eval *ev)
{
    const char *in;
    int rc = 0, cmp;
    fx_rw_caps caps;

    if (c->type == CP_UNSUPPORTED) {
        x->unknown = apr_psprintf(x->p, "RewriteCond pattern '%s' (expr, -U "
                                  "or -F) cannot be replayed",
                                  c->pattern_as_written);
        return 0;
    }
    in = fx_expand(x, c->test_string, 0, NULL);
    ev->tested = in;
    switch (c->type) {
    case CP_FILE:
        rc = x->ops->filetest(x->ops->baton, c->fileop, in);
        if (rc < 0) {
            x->unknown = apr_psprintf(x->p, "file test -%c on %s cannot be "
                                      "replayed", c->fileop, in);
            rc = 0;
        }
        break;
    case CP_STR_EQ:
        rc = (c->flags & CF_NOCASE) ? !strcasecmp(in, c->pattern)
                                    : !strcmp(in, c->pattern);
        break;
    case CP_STR_LT: case CP_STR_LE: case CP_STR_GT: case CP_STR_GE:
        cmp = (c->flags & CF_NOCASE) ? strcasecmp(in, c->pattern)
                                     : fx_lexcmp(in, c->pattern);
        rc = c->type == CP_STR_LT ? cmp < 0 : c->type == CP_STR_LE ? cmp <= 0
             : c->type == CP_STR_GT ? cmp > 0 : cmp >= 0;
        break;
    case CP_INT_LT: rc = atoi(in) < atoi(c->pattern); break;
    case CP_INT_LE: rc = atoi(in) <= atoi(c->pattern); break;
    case CP_INT_EQ: rc = atoi(in) == atoi(c->pattern); break;
    case CP_INT_GT: rc = atoi(in) > atoi(c->pattern); break;
    case CP_INT_GE: rc = atoi(in) >= atoi(c->pattern); break;
    default:
        rc = x->ops->match(x->ops->baton, c->pattern,
                           (c->flags & CF_NOCASE) != 0, in, &caps);
        if (rc < 0) {
            x->unknown = apr_psprintf(x->p, "pattern '%s' does not compile",
                                      c->pattern);
            rc = 0;
        }
        if (rc && !(c->flags & CF_NOTMATCH)) {
            x->rc = caps;
            x->rc.source = in;
            x->have_rc = 1;
        }
        break;
    }
    if (c->flags & CF_NOTMATCH) {
        rc = !rc;
    }
    ev->result = rc;
    return rc;
}

/* do_expand_env: [E=name:value] sets, [E=!name] unsets, both expanded. */
static void fx_apply_env(fx_ctx *x, const fx_rule *ru)
{
    int i;
    for (i = 0; ru->env && i < ru->env->nelts; i++) {
        char *name = apr_pstrdup(x->p, fx_expand(x, APR_ARRAY_IDX(ru->env, i,
                                                 const char *), 0, NULL));
        char *val;
        if (*name == '!') {
            apr_table_set(x->env, name + 1, "");
            apr_table_set(x->env_unset, name + 1, "1");
            continue;
        }
        val = strchr(name, ':');
        if (val) {
            *val++ = '\0';
        }
        apr_table_set(x->env, name, val ? val : "");
        apr_table_unset(x->env_unset, name);
    }
}

/* splitout_queryargs: the query string of the substitution moves into
 * args, as [QSA], [QSD], [QSL] and a trailing '?' say. */
static const char *fx_split_query(fx_ctx *x, const fx_rule *ru,
                                  const char *newuri)
{
    const char *q;
    const char *old = x->args;

    if (ru->flags & RWF_QSNONE) {
        x->args = NULL;
        x->args_rule = ru->line;
        return newuri;
    }
    if (ru->flags & RWF_QSDISCARD) {
        x->args = NULL;
    }
    q = (ru->flags & RWF_QSLAST) ? strrchr(newuri, '?') : strchr(newuri, '?');
    if (q) {
        char *args;
        apr_size_t len;
        if (ru->flags & RWF_QSAPPEND) {
            args = *(q + 1) ? apr_pstrcat(x->p, q + 1, "&", x->args, NULL)
                            : (char *)x->args;
        }
        else {
            args = apr_pstrdup(x->p, q + 1);
        }
        if (args) {
            len = strlen(args);
            if (!len) {
                args = NULL;
            }
            else if (args[len - 1] == '&') {
                args = apr_pstrndup(x->p, args, len - 1);
            }
        }
        x->args = args;
        newuri = apr_pstrmemdup(x->p, newuri, q - newuri);
    }
    if (x->args != old) {
        x->args_rule = ru->line;
    }
    return newuri;
}

/* is_absolute_uri, for the schemes that matter here */
static int fx_is_absolute(const char *u)
{
    const char *c = strstr(u, "://");
    const char *s;
    if (!c || c == u) {
        return 0;
    }
    for (s = u; s < c; s++) {
        if (!apr_isalnum(*s) && *s != '+' && *s != '-' && *s != '.') {
            return 0;
        }
    }
    return 1;
}

typedef enum { R_NOMATCH, R_MATCH, R_NOSUB, R_STATUS_SET } fx_rule_rc;

static fx_rule_rc fx_rule_apply(fx_ctx *x, const fx_rule *ru,
                                apr_array_header_t *evals,
                                const char **subject)
{
    const char *uri = x->filename;
    fx_rw_caps caps;
    int rc, i, prefixed = 0;
    const char *newuri = NULL;

    if (x->perdir) {
        size_t dl = strlen(x->perdir);
        if (x->path_info && *x->path_info) {
            uri = apr_pstrcat(x->p, uri, x->path_info, NULL);
        }
        if (strlen(uri) >= dl && !strncmp(uri, x->perdir, dl)) {
            uri += dl;
        }
    }
    *subject = uri;
    rc = x->ops->match(x->ops->baton, ru->pattern,
                       (ru->flags & RWF_NOCASE) != 0, uri, &caps);
    if (rc < 0) {
        x->unknown = apr_psprintf(x->p, "pattern '%s' does not compile",
                                  ru->pattern);
        return R_NOMATCH;
    }
    if (!((rc && !(ru->flags & RWF_NOTMATCH))
          || (!rc && (ru->flags & RWF_NOTMATCH)))) {
        return R_NOMATCH;
    }
    x->have_rc = 0;
    x->have_rr = !(ru->flags & RWF_NOTMATCH);
    if (x->have_rr) {
        x->rr = caps;
        x->rr.source = uri;
    }

    for (i = 0; i < ru->conds->nelts; i++) {
        const fx_cond *c = &APR_ARRAY_IDX(ru->conds, i, fx_cond);
        fx_rw_cond_eval *ev = apr_array_push(evals);
        ev->line = c->line;
        ev->test_string = c->test_string;
        ev->pattern = c->pattern_as_written;
        ev->tested = NULL;
        rc = fx_cond_apply(x, c, ev);
        if (x->unknown) {
            return R_NOMATCH;
        }
        if (c->flags & CF_ORNEXT) {
            if (rc) {
                /* The rest of this [OR] chain is not evaluated. */
                while (i < ru->conds->nelts
                       && (APR_ARRAY_IDX(ru->conds, i, fx_cond).flags
                           & CF_ORNEXT)) {
                    i++;
                }
            }
        }
        else if (!rc) {
            return R_NOMATCH;
        }
    }

    if (!(ru->flags & RWF_NOSUB)) {
        int unsafe = -1;
        newuri = fx_expand(x, ru->output, (ru->flags & RWF_ESCAPEBR) != 0,
                           ((ru->flags & RWF_ALLOW3F) || x->ops->no_3f_check)
                               ? NULL : &unsafe);
        if (unsafe > 0) {
            return R_STATUS_SET;
        }
    }
    fx_apply_env(x, ru);
    if (ru->flags & RWF_NOSUB) {
        return R_NOSUB;
    }

    if (!(x->perdir == NULL && (ru->flags & (RWF_PROXY | RWF_REDIRECT)))
        && *newuri != '/' && !strstr(newuri, "://")) {
        newuri = apr_pstrcat(x->p, x->perdir ? x->perdir : "/", newuri, NULL);
        prefixed = 1;
    }
    if (x->perdir && (ru->flags & RWF_DPI)) {
        x->path_info = NULL;
    }
    newuri = fx_split_query(x, ru, newuri);
    /* Leading slashes merge unless the substitution wrote them, a prefix
     * was added or [UNC] says so. */
    if (!(ru->flags & (RWF_PROXY | RWF_REDIRECT | RWF_UNC)) && !prefixed
        && !(ru->output[0] == '/' && ru->output[1] == '/')) {
        while (newuri[0] == '/' && newuri[1] == '/') {
            newuri++;
        }
    }
    /* fully_qualify_uri: [P] and [R] make the name an absolute URL (the
     * rules after an [R] without [L] see it so) */
    if ((ru->flags & (RWF_PROXY | RWF_REDIRECT)) && !fx_is_absolute(newuri)) {
        if (!x->ops->self_url) {
            x->unknown = "the server's own URL for an [R] or [P] rule is not "
                         "known";
        }
        else {
            newuri = apr_pstrcat(x->p, x->ops->self_url,
                                 *newuri == '/' ? "" : "/", newuri, NULL);
        }
    }
    if (ru->flags & RWF_PROXY) {
        newuri = apr_pstrcat(x->p, "proxy:", newuri, NULL);
    }
    x->filename = newuri;
    return R_MATCH;
}

/* What the list left behind, for the checks hook_uri2file and hook_fixup
 * make after it (AH10410/AH10411, AH00669/AH10160). */
static void fx_rw_finish(const fx_ctx *x, fx_rw_result *out)
{
    out->final_filename = x->filename;
    out->final_args = x->args;
    out->args_rule = x->args_rule;
    out->env = x->env;
}

void fx_rw_evaluate(apr_pool_t *p, const fx_rw_line *lines, int nlines,
                    const char *perdir, const char *filename,
                    const char *path_info, const char *args, int is_subreq,
                    const fx_rw_ops *ops, fx_rw_result *out)
{
    fx_ctx x;
    const char *err = NULL;
    apr_array_header_t *rules = fx_parse_rules(p, lines, nlines, &err);
    int i, round = 1;

    memset(out, 0, sizeof(*out));
    out->outcome = FX_RW_NONE;
    out->rule = -1;
    out->args_rule = -1;
    out->end_rule = -1;
    if (!rules) {
        out->outcome = FX_RW_UNKNOWN;
        out->why = err;
        return;
    }
    memset(&x, 0, sizeof(x));
    x.p = p;
    x.ops = ops;
    x.perdir = perdir;
    x.filename = filename ? filename : "";
    x.path_info = path_info;
    x.args = args;
    x.env = apr_table_make(p, 4);
    x.env_unset = apr_table_make(p, 2);
    x.args_rule = -1;
    out->args_rule = -1;
    out->end_rule = -1;

loop:
    for (i = 0; i < rules->nelts; i++) {
        const fx_rule *ru = &APR_ARRAY_IDX(rules, i, fx_rule);
        apr_array_header_t *evals = apr_array_make(p, 4,
                                                   sizeof(fx_rw_cond_eval));
        const char *subject = NULL;
        fx_rule_rc rc;

        if (is_subreq && (ru->flags & (RWF_NOSUBREQ | RWF_REDIRECT))) {
            continue;
        }
        if (ru->bad) {
            out->outcome = FX_RW_UNKNOWN;
            out->why = apr_psprintf(p, "RewriteRule flag '%s' cannot be "
                                    "replayed", ru->bad);
            return;
        }
        rc = fx_rule_apply(&x, ru, evals, &subject);
        if (x.unknown) {
            out->outcome = FX_RW_UNKNOWN;
            out->why = x.unknown;
            out->rule = ru->line;
            out->conds = evals;
            out->subject = subject;
            return;
        }
        if (rc != R_NOMATCH) {
            if (rc == R_STATUS_SET || (ru->flags & RWF_STATUS)) {
                out->outcome = FX_RW_FOUND;
                out->rule = ru->line;
                out->status = rc == R_STATUS_SET ? 403 : ru->status;
                out->unsafe_qmark = (rc == R_STATUS_SET);
                out->subject = subject;
                out->conds = evals;
                fx_rw_finish(&x, out);
                return;
            }
            if (rc != R_NOSUB) {
                out->changed = 1;
            }
            if (ru->flags & (RWF_PASSTHROUGH | RWF_END | RWF_PROXY
                             | RWF_LAST)) {
                out->end_rule = ru->line;
                out->proxy = (ru->flags & RWF_PROXY) != 0;
                break;
            }
            if (ru->flags & RWF_NEWROUND) {
                if (++round >= FX_RW_MAX_ROUNDS) {
                    fx_rw_finish(&x, out);
                    out->outcome = FX_RW_UNKNOWN;
                    out->why = "too many [N] rounds to replay";
                    return;
                }
                goto loop;
            }
            i += ru->skip;
        }
        else {
            while (i < rules->nelts
                   && (APR_ARRAY_IDX(rules, i, fx_rule).flags & RWF_CHAIN)) {
                i++;
            }
        }
    }
    fx_rw_finish(&x, out);
}

/* ------------------------------------------------------------------ */
/* recognised protections                                              */

/* strcasestr without httpd */
static const char *fx_strcasestr(const char *h, const char *n)
{
    apr_size_t ln = strlen(n);
    for (; *h; h++) {
        if (!strncasecmp(h, n, ln)) {
            return h;
        }
    }
    return ln ? NULL : h;
}

/* A segment of subject (a path) for which pred holds. */
static const char *fx_segment(apr_pool_t *p, const char *subject,
                              int (*pred)(const char *seg))
{
    char *s = apr_pstrdup(p, subject), *seg, *last;
    for (seg = apr_strtok(s, "/", &last); seg;
         seg = apr_strtok(NULL, "/", &last)) {
        if (pred(seg)) {
            return seg;
        }
    }
    return NULL;
}

static int fx_is_vcs(const char *seg)
{
    return !strcasecmp(seg, ".git") || !strcasecmp(seg, ".svn")
           || !strcasecmp(seg, ".hg") || !strcasecmp(seg, ".bzr")
           || !strcmp(seg, "CVS") || !strcmp(seg, "_darcs");
}

static int fx_is_dot(const char *seg)
{
    return seg[0] == '.' && strcmp(seg, ".") && strcmp(seg, "..");
}

static const char *const fx_backup_ext[] = {
    "bak", "old", "orig", "save", "swp", "swo", "tmp", "sql", "dist",
    "backup", "bk", "dump", NULL
};

static int fx_is_backup(const char *seg)
{
    const char *dot = strrchr(seg, '.');
    int i;
    if (*seg && seg[strlen(seg) - 1] == '~') {
        return 1;
    }
    for (i = 0; dot && fx_backup_ext[i]; i++) {
        if (!strcasecmp(dot + 1, fx_backup_ext[i])) {
            return 1;
        }
    }
    return 0;
}

/* Does the pattern anchor "\." to the start of a path segment: after ^, /,
 * or the (, | and ) of an alternation such as (^|/)? */
static int fx_dot_at_segment_start(const char *pat)
{
    const char *d;
    for (d = strstr(pat, "\\."); d; d = strstr(d + 2, "\\.")) {
        if (d > pat && strchr("^/(|)", d[-1])) {
            return 1;
        }
    }
    return 0;
}

/* What a condition's TestString is about, for the classification below. */
enum {
    FX_CV_OTHER,                /* decides, but names no known protection */
    FX_CV_SCOPE,                /* which files or host the rule covers */
    FX_CV_REFERER, FX_CV_AGENT, FX_CV_QUERY
};

static int fx_cond_var(const fx_rw_cond_eval *ev)
{
    static const char *const scope[] = {
        "%{REQUEST_FILENAME}", "%{SCRIPT_FILENAME}", "%{REQUEST_URI}",
        "%{HTTP_HOST}", "%{SERVER_NAME}", "%{HTTPS}", "%{SERVER_PORT}",
        "%{DOCUMENT_ROOT}", NULL
    };
    const char *ts = ev->test_string ? ev->test_string : "";
    const char *pat = ev->pattern ? ev->pattern : "";
    int i;

    pat += (*pat == '!');
    if (pat[0] == '-' && pat[1] && !pat[2]) {
        return FX_CV_SCOPE;     /* -f, -d, -s, ...: a file test */
    }
    /* a TestString may join several variables (the classic
     * %{HTTP_HOST}@@%{HTTP_REFERER} hotlink test): the Referer wins */
    if (fx_strcasestr(ts, "HTTP_REFERER") || fx_strcasestr(ts, "HTTP:Referer")) {
        return FX_CV_REFERER;
    }
    if (fx_strcasestr(ts, "HTTP_USER_AGENT")
        || fx_strcasestr(ts, "HTTP:User-Agent")) {
        return FX_CV_AGENT;
    }
    if (fx_strcasestr(ts, "QUERY_STRING")
        || fx_strcasestr(ts, "THE_REQUEST")) {
        /* the request line holds the query: a filter of it refuses the
         * request, not the URL (6G's and BulletProof Security's shape) */
        return FX_CV_QUERY;
    }
    if (!strncasecmp(ts, "%{ENV:", 6) && strchr(ts, '}')
        && !strchr(ts, '}')[1]) {
        return FX_CV_SCOPE;     /* %{ENV:REDIRECT_STATUS} ^$ and the like */
    }
    for (i = 0; scope[i]; i++) {
        if (!strcasecmp(ts, scope[i])) {
            return FX_CV_SCOPE;
        }
    }
    return FX_CV_OTHER;
}

/* Does a regex pattern (no '!') match about anything: "", ".*", "^(.*)$",
 * "." and "(.+)" decide nothing. */
static int fx_pattern_trivial(const char *pat)
{
    char buf[16];
    apr_size_t n = 0;
    for (; *pat && n < sizeof(buf) - 1; pat++) {
        if (!strchr("^$()", *pat)) {
            buf[n++] = *pat;
        }
    }
    if (*pat) {
        return 0;
    }
    buf[n] = '\0';
    return !strcmp(buf, "") || !strcmp(buf, ".*") || !strcmp(buf, ".+")
           || !strcmp(buf, ".");
}

/* A positive Referer pattern that only says "some URL" (^https?://, ^http,
 * .): the "not empty" half of an allow-list, it names no site. */
static int fx_referer_generic(const char *pat)
{
    if (*pat == '^') {
        pat++;
    }
    if (!strncasecmp(pat, "http", 4)) {
        pat += 4;
        if (!strncmp(pat, "(s)?", 4)) {
            pat += 4;
        }
        else if (!strncmp(pat, "s?", 2)) {
            pat += 2;
        }
        else if (*pat == 's') {
            pat++;
        }
        if (!strncmp(pat, "://", 3)) {
            pat += 3;
        }
        else if (!strncmp(pat, "\\:\\/\\/", 6)) {
            pat += 6;
        }
    }
    return fx_pattern_trivial(pat);
}

/* The protection the conditions that held make of the rule, from which of
 * them decided: a condition that held without '!' on a specific pattern
 * decided; one that held with '!' only did not exempt the request, except
 * that a negated Referer pattern (other than the empty-Referer exemption
 * !^$) is the allow-list of a hotlink protection.  Conditions on the file,
 * URL path or host only scope the rule.  NULL: the conditions make no
 * protection of it (the rule's pattern may). */
static const char *fx_conds_kind(const apr_array_header_t *conds,
                                 int *decided)
{
    int i, allow_list = -1, agent = -1;

    for (i = 0; conds && i < conds->nelts; i++) {
        const fx_rw_cond_eval *ev = &APR_ARRAY_IDX(conds, i, fx_rw_cond_eval);
        const char *pat = ev->pattern ? ev->pattern : "";
        int neg = (*pat == '!'), var;

        if (!ev->result) {
            continue;           /* an [OR] alternative that did not hold */
        }
        var = fx_cond_var(ev);
        pat += neg;
        if (var == FX_CV_SCOPE) {
            continue;
        }
        if (neg) {
            /* !^$ of a Referer: the empty-Referer exemption */
            if (var == FX_CV_REFERER && allow_list < 0 && strcmp(pat, "^$")
                && !fx_pattern_trivial(pat)) {
                allow_list = i;
            }
            if (var == FX_CV_AGENT && agent < 0) {
                agent = i;      /* an allow-list of agents */
            }
            continue;           /* else: the request is not exempted */
        }
        if (fx_pattern_trivial(pat)
            || (var == FX_CV_REFERER && fx_referer_generic(pat))) {
            continue;
        }
        *decided = i;
        return var == FX_CV_QUERY ? "query-filter"
             : var == FX_CV_AGENT ? "bad-bot"
             : var == FX_CV_REFERER ? "referrer-blacklist"
             : NULL;            /* a method, a cookie, an address, ... */
    }
    if (allow_list >= 0) {
        *decided = allow_list;
        return "hotlink";
    }
    if (agent >= 0) {
        *decided = agent;
        return "bad-bot";
    }
    return NULL;
}

const char *fx_rw_protection_kind(apr_pool_t *p, const char *pat,
                                  const char *subject,
                                  const apr_array_header_t *conds,
                                  int *decided)
{
    const char *seg, *kind;
    int dummy;

    if (!decided) {
        decided = &dummy;
    }
    *decided = -1;
    kind = fx_conds_kind(conds, decided);
    if (kind) {
        return kind;
    }
    if (*pat == '!') {
        return NULL;            /* a rule for everything else */
    }
    seg = fx_segment(p, subject, fx_is_vcs);
    if (seg && fx_strcasestr(pat, seg + (seg[0] == '.'))) {
        return "vcs";
    }
    seg = fx_segment(p, subject, fx_is_dot);
    if (seg && fx_dot_at_segment_start(pat)) {
        return "dotfiles";
    }
    seg = fx_segment(p, subject, fx_is_backup);
    if (seg) {
        const char *dot = strrchr(seg, '.');
        if ((seg[strlen(seg) - 1] == '~' && strchr(pat, '~'))
            || (dot && fx_strcasestr(pat, dot + 1))) {
            return "backup";
        }
    }
    return NULL;
}
