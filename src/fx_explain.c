/* fx_explain.c — assembles the entry for a 403 that is certain: the facts
 * every entry has (status, module, phase, request, client), the default
 * reason, then each subsystem's proof on top.  Runs once per 403. */
#include "apr_strings.h"
#include "http_core.h"
#include "http_request.h"
#include "apr_file_info.h"
#include "fx_private.h"
#include "fx_classify.h"
#include "fx_reportonly.h"

static const char *fx_origin_module(const fx_origin *o)
{
    return o->module ? o->module : "unknown";
}

/* Say so when the sections a request merged could not be traced from
 * httpd's walk caches: its directives were then not named at all. */
static void fx_explain_untraced(request_rec *failed, fx_entry *e)
{
    const fx_req_state *fst = failed ? fx_state_get(failed) : NULL;
    if (fst && fst->explained_done && !fst->explained_traced) {
        fx_entry_set(e, "directives_untraced",
                     "the configuration sections this request merged could "
                     "not be traced from httpd's walk caches, so no Options, "
                     "Order/Allow/Deny, rewrite or SSL line is named");
    }
}

/* Does the directory r maps to hold a file DirectoryIndex names (the last
 * DirectoryIndex in effect, else mod_dir's default index.html)? */
static int fx_has_index_file(request_rec *r)
{
    apr_array_header_t *di = fx_records_find(r->pool, r, "DirectoryIndex");
    const char *names = di->nelts
        ? APR_ARRAY_IDX(di, di->nelts - 1, const fx_shadow_rec *)->args
        : "index.html";
    const char *dir = r->filename;
    while (*names) {
        const char *name = ap_getword_conf(r->pool, &names);
        apr_finfo_t fi;
        if (*name && *name != '/'
            && apr_stat(&fi, apr_pstrcat(r->pool, dir,
                                         dir[strlen(dir) - 1] == '/' ? "" : "/",
                                         name, NULL),
                        APR_FINFO_TYPE, r->pool) == APR_SUCCESS
            && fi.filetype == APR_REG) {
            return 1;
        }
    }
    return 0;
}

/* What runs after authorization, replayed or examined once a 403 of an
 * authorization phase is certain (issue 13: every blocker). */
typedef struct {
    int rw;                     /* per-dir RewriteRules: 1 deny, 0 not, -1 ? */
    const char *rw_json, *rw_text;
    int fs;                     /* the server user's read of the file */
    const char *fs_json, *fs_text;
    const char *waf_ids;        /* ModSecurity rules matched so far */
} fx_after_authz;

static int fx_is_authz_phase(const char *phase)
{
    return phase && (!strcmp(phase, "access_checker")
                     || !strcmp(phase, "access_checker_ex")
                     || !strcmp(phase, "check_user_id")
                     || !strcmp(phase, "auth_checker"));
}

/* A hint verified by an explainer that replays only its own phase still
 * leaves the phases after it: what those could deny that the replays here
 * did not clear (NULL: nothing). */
static const char *fx_later_phases_unchecked(request_rec *failed,
                                             const char *phase,
                                             const fx_after_authz *aa)
{
    if (!failed || !fx_is_authz_phase(phase)) {
        return NULL;
    }
    if (aa->rw == 1) {
        return apr_pstrcat(failed->pool, "with the change applied, ",
                           aa->rw_text, " would still deny this request "
                           "(the per-directory RewriteRules replayed)", NULL);
    }
    if (aa->fs == 1) {
        return apr_pstrcat(failed->pool, "with the change applied, ",
                           aa->fs_text, ", so the file would still be "
                           "refused", NULL);
    }
    if (ap_find_linked_module("mod_security2.c")) {
        return "ModSecurity's phase 2, which runs after authorization, was "
               "not re-evaluated with the change applied";
    }
    if (aa->rw < 0) {
        return apr_pstrcat(failed->pool, "the per-directory RewriteRules in "
                           "effect here run after authorization and could "
                           "not be replayed with the change applied: ",
                           aa->rw_text, NULL);
    }
    if (aa->fs < 0) {
        return aa->fs_text;
    }
    if (failed->finfo.filetype == APR_DIR && !fx_has_index_file(failed)) {
        return "the target is a directory without an index file: what "
               "mod_dir and mod_autoindex make of it was not re-evaluated "
               "with the change applied";
    }
    return NULL;
}

static const char *fx_count_word(apr_pool_t *p, int n)
{
    static const char *const w[] = { "no", "one", "two", "three", "four" };
    return n < 5 ? w[n] : apr_itoa(p, n);
}

/* The blockers of the phases after authorization join the entry's
 * "blockers", and the hint names every one ("two protections deny this
 * request: 1) ... 2) ..."). */
static void fx_explain_after_authz(request_rec *failed, fx_req_state *st,
                                   fx_entry *e, fx_after_authz *aa)
{
    apr_pool_t *p = failed->pool;
    const char *blk = fx_entry_get(e, "blockers"), *dir, *file, *line;
    const char *hint = fx_entry_get(e, "hint"), *add = NULL, *words = "";
    int n = 0, had = 0;

    memset(aa, 0, sizeof(*aa));
    if (!fx_is_authz_phase(fx_entry_get(e, "phase"))) {
        return;
    }
    aa->rw = fx_rewrite_perdir_would_deny(failed, &aa->rw_json, &aa->rw_text);
    aa->fs = fx_fs_read_would_deny(failed, &aa->fs_json, &aa->fs_text);
    if (ap_find_linked_module("mod_security2.c")) {
        aa->waf_ids = fx_waf_matched_ids(failed, st);
    }
    if (blk) {
        const char *c;
        for (c = blk; (c = strstr(c, "\"mechanism\"")) != NULL; c++) {
            had++;
        }
    }
    if (aa->rw == 1) {
        add = aa->rw_json;
        words = apr_psprintf(p, " %d) %s, replayed with the change applied",
                             had + ++n, aa->rw_text);
    }
    if (aa->fs == 1) {
        add = apr_pstrcat(p, add ? add : "", add ? "," : "", aa->fs_json,
                          NULL);
        words = apr_psprintf(p, "%s %d) %s", words, had + ++n, aa->fs_text);
    }
    if (aa->waf_ids) {
        add = apr_pstrcat(p, add ? add : "", add ? "," : "",
                          "{\"mechanism\":\"waf (not re-evaluated)\","
                          "\"module\":\"mod_security2.c\",\"rule_ids\":",
                          aa->waf_ids, "}", NULL);
        words = apr_psprintf(p, "%s %d) ModSecurity, whose later phases were "
                             "not re-evaluated, where rules %s matched this "
                             "request already", words, had + ++n, aa->waf_ids);
    }
    if (!n) {
        return;
    }
    fx_entry_set_raw(e, "blockers", blk
                     ? apr_pstrcat(p, apr_pstrndup(p, blk, strlen(blk) - 1),
                                   ",", add, "]", NULL)
                     : apr_pstrcat(p, "[", add, "]", NULL));
    dir = fx_entry_get(e, "directive");
    file = fx_entry_get(e, "file");
    line = fx_entry_get(e, "line");
    if (had > 1) {
        /* the hint already counts the blockers of its own phase */
        fx_entry_set(e, "hint", apr_psprintf(p, "%s Once those are changed, "
                     "this request is still denied by:%s.", hint ? hint : "",
                     words));
        return;
    }
    fx_entry_set(e, "hint", apr_psprintf(p, "%s protections deny this "
                 "request: 1) %s%s%s%s%s.%s%s", fx_count_word(p, 1 + n),
                 dir ? "`" : "the Require rules in effect",
                 dir ? dir : "", dir ? "`" : "",
                 dir && file ? apr_psprintf(p, " (%s:%s)", file,
                                            line ? line : "?") : "",
                 words, hint ? " For 1): " : "", hint ? hint : ""));
}

/* mod_dir answered the 403 of its index sub-request (subrequest_uri, via
 * mod_dir.c): the hint frees the sub-request, but the directory itself may
 * still be refused -- no index file and no listing.  That refusal joins
 * the blockers and the hint, and a verified hint is verified no more. */
static void fx_explain_after_index_subrequest(request_rec *failed,
                                              fx_entry *e)
{
    apr_pool_t *p = failed->pool;
    const char *via = fx_entry_get(e, "via"), *json, *text, *blk, *hint;

    if (!fx_entry_get(e, "subrequest_uri") || !via
        || strncmp(via, "mod_dir.c", 9) != 0
        || fx_fs_listing_would_deny(failed, fx_has_index_file(failed),
                                    &json, &text) != 1) {
        return;
    }
    blk = fx_entry_get(e, "blockers");
    fx_entry_set_raw(e, "blockers", blk && blk[0] == '[' && blk[1] != ']'
                     ? apr_pstrcat(p, apr_pstrndup(p, blk, strlen(blk) - 1),
                                   ",", json, "]", NULL)
                     : apr_pstrcat(p, "[", json, "]", NULL));
    hint = fx_entry_get(e, "hint");
    fx_entry_set(e, "hint", apr_pstrcat(p, hint ? hint : "", hint ? " " : "",
                 "Once that is changed, this request is still denied by ",
                 text, ".", NULL));
    fx_entry_set_raw(e, "hint_verified", "false");
    fx_entry_set(e, "hint_unverified", apr_pstrcat(p, "with the change "
                 "applied, mod_dir finds no index file and the directory is "
                 "still refused: ", text, NULL));
}

static void fx_explain_verified_whole(request_rec *failed, fx_req_state *st,
                                      fx_entry *e)
{
    const char *v = fx_entry_get(e, "hint_verified");
    const char *why;
    fx_after_authz aa;

    if (!failed || fx_cheap(failed)) {
        /* blockers and the hint's verification are no part of the cause
         * (fx_repeat_tab.c): a repeat does not replay the later phases */
        return;
    }
    fx_explain_after_authz(failed, st, e, &aa);
    fx_explain_after_index_subrequest(failed, e);
    if (v && !strcmp(v, "true")
        && (why = fx_later_phases_unchecked(failed, fx_entry_get(e, "phase"),
                                            &aa))) {
        fx_entry_set_raw(e, "hint_verified", "false");
        fx_entry_set(e, "hint_unverified", why);
    }
}

/* The facts of the request itself: method, uri, the client address (and
 * the peer's when mod_remoteip changed it), the user of at or of the
 * request it was redirected from.  Returns that user, or NULL. */
const char *fx_explain_request_facts(request_rec *r, request_rec *at,
                                     fx_entry *e)
{
    const request_rec *rr;
    const char *user = NULL;

    fx_entry_set(e, "method", r->method);
    fx_entry_set(e, "uri", r->uri);
    fx_entry_set(e, "client_ip", r->useragent_ip);
    if (r->connection->client_ip && r->useragent_ip
        && strcmp(r->connection->client_ip, r->useragent_ip) != 0) {
        fx_entry_set(e, "peer_ip", r->connection->client_ip);
    }
    for (rr = at; rr && !user; rr = rr->prev) {
        user = rr->user;
    }
    fx_entry_set(e, "user", user);
    return user;
}

fx_entry *fx_explain(request_rec *r, request_rec *failed, fx_req_state *st)
{
    fx_entry *e = fx_entry_make(r->pool);
    const fx_origin *o = st->has_origin ? &st->origin : NULL;
    const fx_origin *cause = fx_state_cause(st, NULL);
    fx_classify_in in;
    int ahs[FX_MAX_LOGGED], i, n = 0;
    const char *reason, *user;

    for (i = 0; i < st->n_logged; i++) {
        ahs[n++] = st->logged[i].ah;
    }

    in.module = cause ? cause->module : NULL;
    in.phase = cause ? cause->phase : NULL;
    in.returned_ok = cause ? cause->returned_ok : 0;
    in.handler = cause ? cause->handler : NULL;
    in.ahs = ahs;
    in.n_ahs = n;
    reason = fx_classify_reason(&in);

    fx_entry_set_int(e, "status", HTTP_FORBIDDEN);
    fx_entry_set(e, "reason", reason);
    if (cause) {
        fx_entry_set(e, "module", fx_origin_module(cause));
        fx_entry_set(e, "phase", cause->phase);
    }
    else {
        fx_entry_set(e, "module", "unknown");
        fx_entry_set(e, "phase", "unknown");
    }
    if (cause != o) {
        fx_entry_set(e, "subrequest_uri", cause->uri);
        fx_entry_set(e, "via", apr_pstrcat(r->pool, o->module, " (", o->phase,
                                           ")", NULL));
    }
    if (cause && cause->filename) {
        fx_entry_set(e, "path", cause->filename);
    }
    user = fx_explain_request_facts(r, failed, e);
    if (!user) {
        fx_entry_set(e, "user", r->user);
    }
    fx_entry_set(e, "request_id", fx_request_id(r, st));
    if (cause && cause->returned_ok && cause->handler) {
        fx_entry_set(e, "handler", cause->handler);
    }
    for (i = st->n_logged - 1; i >= 0; i--) {
        if (st->logged[i].ah) {
            fx_entry_set(e, "ah", apr_psprintf(r->pool, "AH%05d",
                                                st->logged[i].ah));
            break;
        }
    }
    fx_authz_explain(r, failed, st, e);
    fx_fs_explain(r, failed, st, e);
    fx_rewrite_explain(r, failed, st, e);
    fx_alias_explain(r, failed, st, e);
    fx_ssl_explain(r, failed, st, e);
    fx_waf_explain(r, failed, st, e);
    fx_upstream_explain(r, failed, st, e);
    fx_api_explain(r, failed, st, e);
    fx_reportonly_explain(r, failed, e);    /* would the candidate deny? */
    fx_explain_untraced(failed, e);
    fx_explain_verified_whole(failed, st, e);

    /* The reason's general wording, where no subsystem proved more. */
    reason = fx_entry_get(e, "reason");
    if (!fx_entry_get(e, "detail")) {
        fx_entry_set(e, "detail", !cause
                     ? "No request hook returned 403; the status was set "
                       "outside the phases this module observes."
                     : (!cause->returned_ok && strcmp(reason, "module") == 0)
                     ? apr_psprintf(r->pool, "%s returned 403 in the %s "
                                    "phase without stating a reason.",
                                    fx_origin_module(cause), cause->phase)
                     : fx_classify_detail(reason));
    }
    if (!fx_entry_get(e, "hint")) {
        fx_entry_set(e, "hint", fx_classify_hint(reason));
    }
    /* Every entry says whether its hint was checked; where no subsystem
     * re-evaluated the request, it was not. */
    if (!fx_entry_get(e, "hint_verified")) {
        fx_entry_set_raw(e, "hint_verified", "false");
        if (!fx_entry_get(e, "hint_unverified")) {
            fx_entry_set(e, "hint_unverified", apr_pstrcat(r->pool, "the "
                         "module does not re-evaluate a 403 of ",
                         fx_entry_get(e, "module"), " in the ",
                         fx_entry_get(e, "phase"), " phase with the hint "
                         "applied", NULL));
        }
    }
    return e;
}
