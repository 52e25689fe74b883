/* fx_alias.c — owns the 403s of mod_alias: which `Redirect 403`,
 * `RedirectMatch 403` (or a section's status-only `Redirect 403`) answered.
 * mod_alias logs nothing for them at any LogLevel, so the line is found by
 * replaying what mod_alias did, from the records fx_conftree.c keeps
 * (file, line, sections) and the URI its hook was given (the origin's).
 *
 * mod_alias (2.4), as replayed here:
 *   translate_name  the per-dir redirect of the sections merged so far
 *                   (<Location>, <If>: a status-only `Redirect 403`), else
 *                   the server's list: the virtual host's lines, then the
 *                   main server's, each in file order;
 *   fixups          the per-dir redirect of the whole merge, else the
 *                   per-dir list: the innermost (last merged) section's
 *                   lines first, each section in file order.
 * The first line of a list whose prefix (Redirect) or regex (RedirectMatch)
 * matches r->uri answers with its status.  A line is named only when the
 * replay finds that first match and its status is 403; otherwise the entry
 * says why no line is named.  Allowed requests never reach this file: it
 * runs once a 403 returned by mod_alias's hook is certain. */
#include <string.h>
#include "apr_strings.h"
#include "apr_lib.h"
#include "httpd.h"
#include "http_core.h"
#include "ap_regex.h"
#include "fx_private.h"
#include "fx_protect.h"

typedef enum {
    FX_AL_LIST,         /* a line of a redirect list: prefix or regex */
    FX_AL_SET,          /* sets the section's own redirect (try_redirect) */
    FX_AL_BROKEN        /* a line mod_alias could not have used as read */
} fx_al_kind;

typedef struct {
    const fx_shadow_rec *rec;
    fx_al_kind kind;
    int status;
    int regex;          /* RedirectMatch */
    int expr;           /* FX_AL_SET with an expression (a 3xx target) */
    const char *fake;   /* FX_AL_LIST: the prefix or the pattern */
    int perdir;         /* in a section or .htaccess (cmd->path set) */
    int section;        /* its section's rank in mod_alias's order */
} fx_al_line;

static int fx_al_is_redirect_name(const char *name)
{
    return !strcasecmp(name, "Redirect") || !strcasecmp(name, "RedirectMatch")
           || !strcasecmp(name, "RedirectTemp")
           || !strcasecmp(name, "RedirectPermanent");
}

/* One record read as mod_alias's add_redirect_internal reads its
 * arguments: the status a first word names, then whether the line sets
 * the section's redirect (per-dir only) or joins a list. */
static void fx_al_parse(apr_pool_t *p, const fx_shadow_rec *rec,
                        fx_al_line *l)
{
    const char *a = rec->args ? rec->args : "";
    const char *w[3] = { NULL, NULL, NULL };
    int i, grok = 1, two = !strcasecmp(rec->name, "RedirectTemp")
                           || !strcasecmp(rec->name, "RedirectPermanent");

    for (i = 0; i < 3 && *a; i++) {
        w[i] = ap_getword_conf(p, &a);
    }
    l->rec = rec;
    l->regex = !strcasecmp(rec->name, "RedirectMatch");
    l->perdir = rec->dir_path != NULL || rec->in_htaccess;
    l->status = !strcasecmp(rec->name, "RedirectPermanent")
                ? HTTP_MOVED_PERMANENTLY : HTTP_MOVED_TEMPORARILY;
    l->kind = FX_AL_BROKEN;
    if (!w[0] || (two && w[2])) {
        return;
    }
    if (!strcasecmp(w[0], "permanent")) {
        l->status = HTTP_MOVED_PERMANENTLY;
    }
    else if (!strcasecmp(w[0], "temp")) {
        l->status = HTTP_MOVED_TEMPORARILY;
    }
    else if (!strcasecmp(w[0], "seeother")) {
        l->status = HTTP_SEE_OTHER;
    }
    else if (!strcasecmp(w[0], "gone")) {
        l->status = HTTP_GONE;
        grok = -1;
    }
    else if (apr_isdigit(*w[0])) {
        l->status = atoi(w[0]);
        if (!ap_is_HTTP_REDIRECT(l->status)) {
            grok = -1;
        }
    }
    else {
        grok = 0;
    }
    if (w[2] && !grok) {
        return;                 /* refused at startup */
    }
    if (l->perdir && ((grok > 0 && w[1] && !w[2]) || (!grok && !w[1]))) {
        l->kind = FX_AL_SET;    /* `Redirect [status] expr` */
        l->expr = 1;
        return;
    }
    if (l->perdir && grok < 0 && !w[1]) {
        l->kind = FX_AL_SET;    /* `Redirect 403`, `Redirect gone` */
        return;
    }
    l->fake = (!w[2] && !grok) ? w[0] : w[1];
    if (l->fake) {
        l->kind = FX_AL_LIST;
    }
}

/* mod_alias's order: a merge node's inner (add) sections before its outer
 * (base) ones, since merge_alias_dir_config and merge_alias_config append
 * the base's list after the override's; one section's lines in file order. */
static void fx_al_collect(apr_pool_t *p, const fx_shadow_list *l,
                          apr_array_header_t *out, int *section)
{
    int had = 0;
    for (; l; l = l->next) {
        if (!l->rec) {
            fx_al_collect(p, l->add, out, section);
            fx_al_collect(p, l->base, out, section);
            continue;
        }
        if (fx_al_is_redirect_name(l->rec->name)) {
            fx_al_line *al = apr_array_push(out);
            memset(al, 0, sizeof(*al));
            fx_al_parse(p, l->rec, al);
            al->section = *section;
            had = 1;
        }
    }
    if (had) {
        ++*section;
    }
}

/* Redirect's prefix test, as mod_alias makes it: each run of '/' in the
 * prefix stands for a run of one or more in the URI, other bytes compare
 * exactly, and the prefix ends at a path-component boundary.  The number
 * of URI bytes it covers, 0 when it does not match. */
static apr_size_t fx_al_prefix(const char *uri, const char *prefix)
{
    const char *u = uri, *f = prefix;

    if (!*f) {
        return 0;
    }
    while (*f) {
        if (*f == '/') {
            if (*u != '/') {
                return 0;
            }
            while (*f == '/') {
                f++;
            }
            while (*u == '/') {
                u++;
            }
        }
        else if (*u++ != *f++) {
            return 0;
        }
    }
    if (f[-1] != '/' && *u && *u != '/') {
        return 0;
    }
    return (apr_size_t)(u - uri);
}

/* Does the list line match uri?  1, 0, or -1: its pattern does not
 * compile here (mod_alias would have refused it at startup). */
static int fx_al_matches(apr_pool_t *p, const fx_al_line *l, const char *uri)
{
    if (l->regex) {
        ap_regex_t *re = ap_pregcomp(p, l->fake, AP_REG_EXTENDED);
        if (!re) {
            return -1;
        }
        return ap_regexec(re, uri, 0, NULL, 0) == 0;
    }
    return fx_al_prefix(uri, l->fake) > 0;
}

static const char *fx_al_text(apr_pool_t *p, const fx_shadow_rec *rec)
{
    return rec->args && *rec->args
           ? apr_pstrcat(p, rec->name, " ", rec->args, NULL) : rec->name;
}

static const char *fx_al_section(apr_pool_t *p, const fx_shadow_rec *rec)
{
    const char *chain = fx_section_chain(p, rec->where);
    return chain ? chain
           : rec->in_htaccess ? apr_pstrcat(p, ".htaccess of ",
                                            rec->dir_path ? rec->dir_path : "",
                                            NULL)
           : "server config";
}

static const char *fx_al_at(apr_pool_t *p, const fx_shadow_rec *rec)
{
    return rec->file ? apr_psprintf(p, " (%s:%d)", rec->file, rec->line) : "";
}

/* No line is named: the entry says what the replay found instead. */
static void fx_al_untold(request_rec *r, const fx_origin *cause, fx_entry *e,
                         const char *why)
{
    fx_entry_set(e, "detail", apr_psprintf(r->pool, "mod_alias answered 403 "
                 "in the %s phase (a Redirect or RedirectMatch with status "
                 "403; mod_alias logs nothing for it), but %s, so no line is "
                 "named.", cause->phase, why));
    fx_entry_set(e, "hint", "Look for the `Redirect 403` and `RedirectMatch "
                 "403` lines that apply to this URL: they refuse on purpose, "
                 "and narrowing one is the administrator's decision.");
    fx_entry_set_raw(e, "hint_verified", "false");
    fx_entry_set(e, "hint_unverified", "no line was named, so no change "
                 "was proposed or re-evaluated");
}

/* The line that answered: directive, file, line, section, the protection
 * it is, and a hint that keeps it. */
static void fx_al_name(request_rec *r, fx_entry *e, const fx_al_line *l,
                       const char *uri, const char *detail)
{
    apr_pool_t *p = r->pool;
    const char *alt = NULL;
    const char *prot = l->kind == FX_AL_LIST
                       ? fx_protect_classify(uri, l->fake, &alt) : NULL;
    const char *text = fx_al_text(p, l->rec);

    fx_entry_set(e, "directive", text);
    if (l->rec->file) {
        fx_entry_set(e, "file", l->rec->file);
        fx_entry_set_int(e, "line", l->rec->line);
    }
    fx_entry_set(e, "section", fx_al_section(p, l->rec));
    fx_entry_set(e, "detail", detail);
    /* every Redirect 403 is a refusal someone wrote on purpose: a
     * recognised kind (backup, vcs, ...) by its pattern, else a URL block */
    fx_entry_set(e, "protection", prot ? prot : "url-block");
    fx_entry_set(e, "hint", apr_psprintf(p, "`%s`%s refuses on purpose what "
                 "%s; it works as intended. If %s should be served, "
                 "narrowing %s so that it no longer covers this path (mod_"
                 "alias has no line that lets a request through) is the "
                 "administrator's decision; do not remove the line.%s%s",
                 text, fx_al_at(p, l->rec),
                 l->kind == FX_AL_SET ? "its section covers"
                 : l->regex ? "its pattern matches" : "its prefix covers",
                 uri, l->kind == FX_AL_SET ? "the section"
                      : l->regex ? "the pattern" : "the prefix",
                 alt ? " " : "", alt ? alt : ""));
    fx_entry_set_raw(e, "hint_verified", "false");
    fx_entry_set(e, "hint_unverified", "a deliberate refusal (mod_alias "
                 "Redirect with status 403): no change is proposed, so "
                 "none was re-evaluated");
}

/* The section's own redirect in effect (try_redirect runs before any
 * list): the first section in mod_alias's order that sets one, its last
 * such line.  NULL when none does. */
static const fx_al_line *fx_al_set_in_effect(apr_array_header_t *lines)
{
    const fx_al_line *set = NULL;
    int i;
    for (i = 0; i < lines->nelts; i++) {
        const fx_al_line *l = &APR_ARRAY_IDX(lines, i, fx_al_line);
        if (l->kind != FX_AL_SET || !l->perdir) {
            continue;
        }
        if (set && l->section != set->section) {
            break;
        }
        set = l;
    }
    return set;
}

static void fx_al_replay(request_rec *r, request_rec *failed,
                         const fx_origin *cause, fx_entry *e)
{
    apr_pool_t *p = r->pool;
    const fx_req_state *fst;
    const fx_shadow_list *recs = fx_dir_explained(failed);
    apr_array_header_t *lines = apr_array_make(p, 16, sizeof(fx_al_line));
    const fx_al_line *set;
    const char *uri = cause->uri;
    int server = !strcmp(cause->phase, "translate_name");
    int section = 0, tried = 0, i;

    fst = fx_state_get(failed);
    if (!fst || !fst->explained_traced) {
        fx_al_untold(r, cause, e, "the configuration sections this request "
                     "merged could not be traced");
        return;
    }
    if (!uri) {
        fx_al_untold(r, cause, e, "the URI its hook was given was not kept");
        return;
    }
    fx_al_collect(p, recs, lines, &section);
    for (i = 0; i < lines->nelts; i++) {
        const fx_al_line *l = &APR_ARRAY_IDX(lines, i, fx_al_line);
        if (l->kind == FX_AL_BROKEN && l->perdir != server) {
            fx_al_untold(r, cause, e, apr_psprintf(p, "`%s`%s could not be "
                         "read as mod_alias reads it", fx_al_text(p, l->rec),
                         fx_al_at(p, l->rec)));
            return;
        }
    }
    set = fx_al_set_in_effect(lines);
    if (set) {
        if (set->status != HTTP_FORBIDDEN || set->expr) {
            fx_al_untold(r, cause, e, apr_psprintf(p, "the redirect in effect "
                         "here, `%s`%s, answers %d, not 403",
                         fx_al_text(p, set->rec), fx_al_at(p, set->rec),
                         set->status));
            return;
        }
        fx_al_name(r, e, set, uri, apr_psprintf(p, "`%s` in %s answers every "
                   "request its section applies to with 403, before any "
                   "Redirect list is tried (mod_alias's %s; it logs nothing "
                   "for it). This request, %s, is in that section.",
                   fx_al_text(p, set->rec), fx_al_section(p, set->rec),
                   cause->phase, uri));
        return;
    }
    if (!server && strcmp(cause->phase, "fixups") != 0) {
        fx_al_untold(r, cause, e, "mod_alias answers only in translate_name "
                     "and fixups");
        return;
    }
    for (i = 0; i < lines->nelts; i++) {
        const fx_al_line *l = &APR_ARRAY_IDX(lines, i, fx_al_line);
        int m;
        if (l->kind != FX_AL_LIST || l->perdir == server) {
            continue;
        }
        m = fx_al_matches(p, l, uri);
        if (m < 0) {
            fx_al_untold(r, cause, e, apr_psprintf(p, "the pattern of `%s`%s "
                         "does not compile here", fx_al_text(p, l->rec),
                         fx_al_at(p, l->rec)));
            return;
        }
        if (!m) {
            tried++;
            continue;
        }
        if (l->status != HTTP_FORBIDDEN) {
            fx_al_untold(r, cause, e, apr_psprintf(p, "the first line that "
                         "matches '%s' in mod_alias's order, `%s`%s, answers "
                         "%d, not 403", uri, fx_al_text(p, l->rec),
                         fx_al_at(p, l->rec), l->status));
            return;
        }
        fx_al_name(r, e, l, uri, apr_psprintf(p, "%s %d %s matched the path "
                   "'%s'%s. In %s mod_alias tries %s in order, and the first "
                   "that matches answers with its status; %d line%s before it "
                   "did not match. mod_alias logs nothing for it.",
                   l->rec->name, l->status, l->fake, uri,
                   l->regex ? "" : " (a prefix, whole path components)",
                   cause->phase,
                   !server ? "the Redirect lines of the sections merged for "
                             "this request, the innermost section's first,"
                   : failed->server->is_virtual
                   ? "the server's Redirect lines, the virtual host's before "
                     "the main server's,"
                   : "the server's Redirect lines",
                   tried, tried == 1 ? "" : "s"));
        return;
    }
    fx_al_untold(r, cause, e, apr_psprintf(p, "no %s Redirect line replayed "
                 "here matches '%s'", server ? "server-level" : "per-directory",
                 uri));
}

void fx_alias_explain(request_rec *r, request_rec *failed, fx_req_state *st,
                      fx_entry *e)
{
    int via_subreq = 0;
    const fx_origin *cause = fx_state_cause(st, &via_subreq);

    if (!cause || cause->returned_ok || !cause->module || !cause->phase
        || strcmp(cause->module, "mod_alias.c") != 0
        || cause->status != HTTP_FORBIDDEN) {
        return;
    }
    fx_entry_set(e, "reason", "alias");
    if (via_subreq) {
        /* the sub-request's sections died with its pool */
        fx_al_untold(r, cause, e, apr_psprintf(r->pool, "it refused the "
                     "sub-request for %s, whose configuration sections are "
                     "not kept", cause->uri ? cause->uri : "?"));
        return;
    }
    fx_al_replay(r, failed, cause, e);
}
