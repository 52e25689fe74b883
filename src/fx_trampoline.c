/* fx_trampoline.c — learns which module returned the error in which request
 * phase, also for modules that log nothing (server-context RewriteRule [F],
 * a backend's 403 passed through mod_proxy, mod_dir's index sub-request).
 *
 * In post_config every element of the request-phase hook arrays gets its
 * function pointer replaced, in place, by a trampoline that calls the
 * original and notes a non-OK/DECLINED result.  Arrays keep their length and
 * order (core's ap_setup_auth_internal counts auth hooks: reference §5.3
 * rule 1).  httpd rebuilds the arrays each generation and never sorts after
 * post_config, so this runs once per generation, in the parent, before any
 * child exists.  On the allowed path the cost is one indirect call and a
 * comparison per hook; nothing is allocated. */
#include <string.h>
#include "apr_strings.h"
#include "http_request.h"
#include "http_protocol.h"
#include "http_core.h"
#include "fx_private.h"

typedef int fx_request_hook_fn(request_rec *r);

/* Same layout for every int(request_rec *) hook (APR_DECLARE_EXTERNAL_HOOK). */
typedef struct {
    fx_request_hook_fn *pFunc;
    const char *szName;
    const char *const *aszPredecessors;
    const char *const *aszSuccessors;
    int nOrder;
} fx_hook_link;

typedef struct {
    fx_request_hook_fn *orig;
    const char *phase;
    const char *module;
    int is_handler;
} fx_slot;

#define FX_MAX_SLOTS 256
static fx_slot fx_slots[FX_MAX_SLOTS];

static void fx_note_origin(request_rec *r, const fx_slot *s, int rv,
                           const char *filename_in)
{
    fx_req_state *st;
    fx_origin *o;

    /* Require lines that all granted are still only on this thread. */
    fx_authz_keep_pending(r);
    st = fx_state_ensure(r);
    o = &st->origin;

    st->has_origin = 1;
    o->phase = s->phase;
    o->module = s->module;
    o->returned_ok = (rv == OK || rv == DONE);
    o->status = o->returned_ok ? r->status : rv;
    o->handler = r->handler;
    o->uri = r->uri;
    o->filename = r->filename;
    o->filename_in = filename_in;

    if (r->main) {
        /* A sub-request's pool dies with it (mod_dir destroys it at once):
         * copy what the main request may need into the main's pool. */
        request_rec *m = r->main;
        fx_req_state *mst = fx_state_ensure(m);
        fx_origin *so = &mst->sub_origin;
        mst->has_sub_origin = 1;
        *so = *o;
        so->handler = o->handler ? apr_pstrdup(m->pool, o->handler) : NULL;
        so->uri = o->uri ? apr_pstrdup(m->pool, o->uri) : NULL;
        so->filename = o->filename ? apr_pstrdup(m->pool, o->filename) : NULL;
        so->filename_in = o->filename_in ? apr_pstrdup(m->pool, o->filename_in)
                                         : NULL;
        fx_authz_subrequest_denied(r, mst);
    }
    fx_rewrite_origin_noted(r, o);
}

/* Anything but a plain OK/DECLINED: decide whether it produced a 403.
 * Kept out of line so the trampolines stay a call and a compare. */
static int __attribute__((noinline))
fx_after(int k, request_rec *r, int rv, const char *filename_in)
{
    const fx_slot *s = &fx_slots[k];

    if (rv == OK || rv == DONE) {
        /* A status set without being returned: proxied backends, CGI
         * "Status: 403", mod_dav's DONE responses.  (An ErrorDocument
         * request inherits the status it reports; it did not produce it.) */
        if (r->status == HTTP_FORBIDDEN && (s->is_handler || rv == DONE)
            && !(r->prev && r->prev->status == r->status)) {
            fx_note_origin(r, s, rv, filename_in);
        }
        return rv;
    }
    if (rv != SUSPENDED) {
        fx_note_origin(r, s, rv, filename_in);
    }
    return rv;
}

/* Three kinds of trampoline, by slot range: the handler phase must look at
 * r->status after OK; fixups keep the file name the hook started from (a
 * per-dir RewriteRule chain is replayed from it); every other phase only
 * tells OK/DECLINED from the rest. */
#define FX_FIXUPS_FIRST  0xC0
#define FX_HANDLER_FIRST 0xE0

static APR_INLINE int fx_run(int k, request_rec *r)
{
    if (k >= FX_HANDLER_FIRST) {
        int rv = fx_slots[k].orig(r);
        if (rv == DECLINED || (rv == OK && r->status != HTTP_FORBIDDEN)) {
            return rv;
        }
        return fx_after(k, r, rv, NULL);
    }
    if (k >= FX_FIXUPS_FIRST) {
        const char *filename_in = r->filename;
        int rv = fx_slots[k].orig(r);
        if (rv == DECLINED || rv == OK) {
            return rv;
        }
        return fx_after(k, r, rv, filename_in);
    }
    {
        int rv = fx_slots[k].orig(r);
        if (rv == DECLINED || rv == OK) {
            return rv;
        }
        return fx_after(k, r, rv, NULL);
    }
}

#define FX_T(x, y) \
    static int fx_tramp_##x##y(request_rec *r) { return fx_run(0x##x##y, r); }
#define FX_ROW(x) FX_T(x,0) FX_T(x,1) FX_T(x,2) FX_T(x,3) FX_T(x,4) FX_T(x,5) \
    FX_T(x,6) FX_T(x,7) FX_T(x,8) FX_T(x,9) FX_T(x,A) FX_T(x,B) FX_T(x,C)     \
    FX_T(x,D) FX_T(x,E) FX_T(x,F)
FX_ROW(0) FX_ROW(1) FX_ROW(2) FX_ROW(3) FX_ROW(4) FX_ROW(5) FX_ROW(6) FX_ROW(7)
FX_ROW(8) FX_ROW(9) FX_ROW(A) FX_ROW(B) FX_ROW(C) FX_ROW(D) FX_ROW(E) FX_ROW(F)

#define FX_P(x, y) fx_tramp_##x##y,
#define FX_PROW(x) FX_P(x,0) FX_P(x,1) FX_P(x,2) FX_P(x,3) FX_P(x,4) FX_P(x,5) \
    FX_P(x,6) FX_P(x,7) FX_P(x,8) FX_P(x,9) FX_P(x,A) FX_P(x,B) FX_P(x,C)     \
    FX_P(x,D) FX_P(x,E) FX_P(x,F)
static fx_request_hook_fn *const fx_tramps[FX_MAX_SLOTS] = {
    FX_PROW(0) FX_PROW(1) FX_PROW(2) FX_PROW(3) FX_PROW(4) FX_PROW(5)
    FX_PROW(6) FX_PROW(7) FX_PROW(8) FX_PROW(9) FX_PROW(A) FX_PROW(B)
    FX_PROW(C) FX_PROW(D) FX_PROW(E) FX_PROW(F)
};

typedef apr_array_header_t *fx_hook_getter(void);

static const struct {
    const char *phase;
    fx_hook_getter *get;
    int is_handler;
} fx_phases[] = {
    { "post_read_request", ap_hook_get_post_read_request, 0 },
    { "translate_name",    ap_hook_get_translate_name,    0 },
    { "map_to_storage",    ap_hook_get_map_to_storage,    0 },
    { "header_parser",     ap_hook_get_header_parser,     0 },
    { "access_checker",    ap_hook_get_access_checker,    0 },
    { "access_checker_ex", ap_hook_get_access_checker_ex, 0 },
    { "check_user_id",     ap_hook_get_check_user_id,     0 },
    { "auth_checker",      ap_hook_get_auth_checker,      0 },
    { "type_checker",      ap_hook_get_type_checker,      0 },
    { "fixups",            ap_hook_get_fixups,            0 },
    { "handler",           ap_hook_get_handler,           1 },
};

static int fx_is_trampoline(fx_request_hook_fn *fn)
{
    int i;
    for (i = 0; i < FX_MAX_SLOTS; i++) {
        if (fx_tramps[i] == fn) {
            return 1;
        }
    }
    return 0;
}

void fx_trampoline_install(apr_pool_t *pconf, server_rec *s)
{
    apr_size_t i;
    int skipped = 0, used = 0;
    /* next free slot of each range: other phases, fixups, handler */
    int next[3] = { 0, FX_FIXUPS_FIRST, FX_HANDLER_FIRST };
    const int end[3] = { FX_FIXUPS_FIRST, FX_HANDLER_FIRST, FX_MAX_SLOTS };

    (void)pconf;
    for (i = 0; i < sizeof(fx_phases) / sizeof(fx_phases[0]); i++) {
        apr_array_header_t *arr = fx_phases[i].get();
        int k, range = fx_phases[i].is_handler ? 2
                       : strcmp(fx_phases[i].phase, "fixups") == 0 ? 1 : 0;
        if (!arr) {
            continue;
        }
        for (k = 0; k < arr->nelts; k++) {
            fx_hook_link *link = &((fx_hook_link *)arr->elts)[k];
            int slot;
            if (!link->pFunc || fx_is_trampoline(link->pFunc)
                || (link->szName && strcmp(link->szName,
                                           forbidden_explain_module.name) == 0)) {
                continue;
            }
            if (next[range] >= end[range]) {
                skipped++;
                continue;
            }
            slot = next[range]++;
            fx_slots[slot].orig = link->pFunc;
            fx_slots[slot].phase = fx_phases[i].phase;
            fx_slots[slot].module = link->szName ? link->szName : "unknown";
            fx_slots[slot].is_handler = fx_phases[i].is_handler;
            link->pFunc = fx_tramps[slot];
            used++;
        }
    }
    if (skipped) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "forbidden_explain: %d request hooks left unobserved "
                     "(more than this module has trampolines for); 403s they "
                     "produce are explained without module and phase", skipped);
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "forbidden_explain: observing %d request hooks", used);
}
