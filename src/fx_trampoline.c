/* fx_trampoline.c — learns which module returned the error in which request
 * phase, also for modules that log nothing (server-context RewriteRule [F],
 * a backend's 403 passed through mod_proxy, mod_dir's index sub-request).
 *
 * In post_config each request-phase hook array is taken over in place,
 * keeping its order and names, and its length wherever something reads it
 * (core's ap_setup_auth_internal counts the auth hooks: reference §5.3
 * rule 1; mod_info lists the names):
 * element 0 gets this phase's runner, which calls every original function
 * in order itself, exactly as httpd's RUN_FIRST / RUN_ALL loop would, and
 * notes the one that returned something other than OK/DECLINED; elements
 * 1..n-1 get a function that returns DECLINED, which both loop kinds step
 * over (and, where no mod_info reads the arrays, httpd's loop is told the
 * array holds the runner alone: same calls, no stand-ins).  One runner
 * per phase, whatever the number of modules: there is no cap and nothing
 * is left unobserved.  The originals sit in a pconf table
 * per generation: httpd rebuilds the arrays each generation and never sorts
 * after post_config, so this runs once per generation, in the parent,
 * before any child exists.  On the allowed path the cost is one call per
 * phase and a call and a comparison per hook (plus n-1 stand-ins where the
 * length is kept); nothing is allocated. */
#include <string.h>
#include "apr_strings.h"
#include "ap_mmn.h"
#include "http_request.h"
#include "http_protocol.h"
#include "http_core.h"
#include "fx_private.h"
#include "fx_reportonly.h"

typedef fx_hook_fn fx_request_hook_fn;

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
    int ours;                       /* forbidden_explain's own hook */
} fx_slot;

static void fx_note_origin(request_rec *r, const fx_slot *s, int rv)
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
        fx_authz_subrequest_denied(r, mst);
    }
    fx_rewrite_origin_noted(r, o);
    fx_reportonly_denied(r, s->phase);  /* would the candidate deny too? */
}

/* Anything but a plain OK/DECLINED: decide whether it produced a 403.
 * Kept out of line so the runners stay a call and a compare per hook. */
static int __attribute__((noinline))
fx_after(const fx_slot *s, request_rec *r, int rv)
{
    if (rv == OK || rv == DONE) {
        /* A status set without being returned: proxied backends, CGI
         * "Status: 403", mod_dav's DONE responses.  (An ErrorDocument
         * request inherits the status it reports; it did not produce it.) */
        if (r->status == HTTP_FORBIDDEN && (s->is_handler || rv == DONE)
            && !(r->prev && r->prev->status == r->status)) {
            fx_note_origin(r, s, rv);
        }
        return rv;
    }
    /* Only a 403 is explained: redirects, 401s and 404s keep nothing. */
    if (rv == HTTP_FORBIDDEN) {
        fx_note_origin(r, s, rv);
    }
    return rv;
}

typedef apr_array_header_t *fx_hook_getter(void);

/* The phases, with the loop httpd runs them with: RUN_ALL goes on after OK
 * (server/request.c, protocol.c, config.c of 2.4.x).  sim: a simulated
 * request (fx_whatif.c) runs differently here -- or, map_to_storage, the
 * first phase every sub-request runs, its sub-requests become simulated
 * there; elsewhere a simulated request runs the phase as any other does. */
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 109)
#define FX_NPHASES 12               /* pre_translate_name: 2.4.49 */
#else
#define FX_NPHASES 11
#endif
/* pre: what the runner does before the phase's first hook, in place of a
 * hook of this module's own (which would cost the allowed path a slot). */
enum { FX_PRE_NONE, FX_PRE_AUTHZ_BEGIN, FX_PRE_AUTHZ_SECOND };
static const struct {
    const char *phase;
    fx_hook_getter *get;
    int is_handler;
    int run_all;
    int is_fixups;                  /* which mod_rewrite hook to wrap */
    int rewrite_wrap;               /* mod_rewrite's hook: fx_rewrite_wrap */
    int pre;
    int sim;
} fx_phases[FX_NPHASES] = {
    { "post_read_request", ap_hook_get_post_read_request, 0, 1, 0, 0, 0, 0 },
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 109)
    { "pre_translate_name", ap_hook_get_pre_translate_name, 0, 0, 0, 0, 0, 0 },
#endif
    { "translate_name",    ap_hook_get_translate_name,    0, 0, 0, 1, 0, 1 },
    { "map_to_storage",    ap_hook_get_map_to_storage,    0, 0, 0, 0, 0, 1 },
    { "header_parser",     ap_hook_get_header_parser,     0, 1, 0, 0, 0, 0 },
    { "access_checker",    ap_hook_get_access_checker,    0, 1, 0, 0, 0, 1 },
    { "access_checker_ex", ap_hook_get_access_checker_ex, 0, 0, 0, 0,
      FX_PRE_AUTHZ_BEGIN, 1 },
    { "check_user_id",     ap_hook_get_check_user_id,     0, 0, 0, 0, 0, 1 },
    { "auth_checker",      ap_hook_get_auth_checker,      0, 0, 0, 0,
      FX_PRE_AUTHZ_SECOND, 1 },
    { "type_checker",      ap_hook_get_type_checker,      0, 0, 0, 0, 0, 0 },
    { "fixups",            ap_hook_get_fixups,            0, 1, 1, 1, 0, 0 },
    { "handler",           ap_hook_get_handler,           1, 0, 0, 0, 0, 1 },
};

/* type_checker: authorization is over (report-only rules run here). */
#define FX_PH_TYPE_CHECKER (FX_NPHASES - 3)

/* Per generation (pconf), written in post_config only. */
static fx_slot *fx_slots[FX_NPHASES];
static int fx_nslots[FX_NPHASES];

/* httpd's loop for phase ph over the originals, observed.  The handler
 * phase also looks at r->status after OK.  (The per-dir RewriteRule replay
 * starts from the inputs fx_rewrite.c's wrapper captured, not from
 * anything kept here.)
 * The slots end with a NULL orig, and an installed phase has at least one
 * hook: no count is loaded and no end computed.  A RUN_FIRST phase stops
 * at anything but DECLINED, so its hooks cost one comparison each. */
static APR_INLINE int fx_run_loop(int ph, request_rec *r)
{
    const fx_slot *s = fx_slots[ph];
    const int run_all = fx_phases[ph].run_all;
    const int is_handler = fx_phases[ph].is_handler;

    do {
        int rv = s->orig(r);
        if (rv == DECLINED) {
            continue;
        }
        if (rv == OK && !(is_handler && r->status == HTTP_FORBIDDEN)) {
            if (run_all) {
                continue;
            }
            return OK;
        }
        if (!s->ours) {
            rv = fx_after(s, r, rv);
        }
        if (rv == OK && run_all) {
            continue;
        }
        return rv;
    } while ((++s)->orig);
    return DECLINED;    /* RUN_FIRST: all declined; RUN_ALL: same as OK */
}

/* What runs before a phase's hooks. */
static APR_INLINE void fx_run_pre(int ph, request_rec *r)
{
    /* mod_authz_core evaluates Require in these two phases (fx_authz.c) */
    if (fx_phases[ph].pre == FX_PRE_AUTHZ_BEGIN) {
        fx_authz_begin(r);
    }
    else if (fx_phases[ph].pre == FX_PRE_AUTHZ_SECOND) {
        fx_authz_second_pass(r);
    }
    else if (ph == FX_PH_TYPE_CHECKER) {
        fx_reportonly_point(r);     /* one pointer test unless covered */
    }
}

/* The ordinary run of a phase, for a simulated request's runner. */
static int __attribute__((noinline)) fx_run_plain(int ph, request_rec *r)
{
    fx_run_pre(ph, r);
    return fx_run_loop(ph, r);
}

/* A simulated request (fx_whatif.c): authentication is skipped when the
 * probe names a user (authorization then runs for that user), the Require
 * trail is kept even when every rule granted, the handler never runs.
 * Returns -2 to let the ordinary loop run the phase. */
static int __attribute__((noinline))
fx_run_simulated(int ph, request_rec *r, fx_req_state *st)
{
    const char *phase = fx_phases[ph].phase;
    int rv;

    if (!st) {
        /* a sub-request of a simulated request is simulated too */
        fx_req_state *mst = fx_state_get(r->main);
        if (!mst->simulated) {
            return -2;
        }
        st = fx_state_ensure(r);
        st->simulated = 1;
        st->sim_user = mst->sim_user;
        st->sim_server = mst->sim_server;
        st->sim_real = mst->sim_real;
        if (st->sim_real && r->server == st->sim_real) {
            r->server = st->sim_server;     /* made while translate ran */
        }
    }
    if (fx_phases[ph].is_handler) {
        return DECLINED;
    }
    if (!strcmp(phase, "access_checker")
        && (rv = fx_whatif_access_gate(r)) != DECLINED) {
        return rv;
    }
    if (!strcmp(phase, "check_user_id") && st->sim_user) {
        r->user = (char *)st->sim_user;
        return OK;
    }
    st->simulated = -1;         /* the ordinary loop, once */
    if (!strcmp(phase, "translate_name") && st->sim_real
        && r->server == st->sim_server) {
        /* mod_rewrite tells a vhost without rewrite directives by its
         * server record's address: translate_name sees the real one, and
         * what it would log goes nowhere (a silent LogLevel) */
        static const struct ap_logconf silent = { NULL, -1 };
        const struct ap_logconf *keep = r->log;
        r->server = st->sim_real;
        r->log = &silent;
        rv = fx_run_plain(ph, r);
        r->server = st->sim_server;
        r->log = keep;
    }
    else {
        rv = fx_run_plain(ph, r);
    }
    st->simulated = 1;
    if (!strcmp(phase, "access_checker_ex") || !strcmp(phase, "auth_checker")) {
        fx_authz_keep_pending(r);
        if (r->main) {
            fx_whatif_sub_authorized(r);
        }
    }
    return rv;
}

/* A phase with one hook (lean configurations have several: header_parser,
 * access_checker, type_checker...) is one call and one comparison: the
 * loop and its saved registers are out of line. */
static APR_INLINE int fx_run_one(int ph, request_rec *r)
{
    int rv = fx_slots[ph][0].orig(r);
    if (rv == DECLINED
        || (rv == OK && !(fx_phases[ph].is_handler
                          && r->status == HTTP_FORBIDDEN))) {
        return rv;          /* what the loop returns, as httpd reads it */
    }
    if (!fx_slots[ph][0].ours) {
        rv = fx_after(&fx_slots[ph][0], r, rv);
    }
    return rv;
}

static APR_INLINE int fx_run_ordinary(int ph, request_rec *r,
                                      int (*loop)(request_rec *))
{
    fx_run_pre(ph, r);
    if (fx_nslots[ph] == 1) {
        return fx_run_one(ph, r);
    }
    return loop(r);
}

/* While a probe runs in this process (fx_whatif.c): is r simulated, or a
 * sub-request of a simulated request? */
static int __attribute__((noinline))
fx_run_maybe_simulated(int ph, request_rec *r, int (*loop)(request_rec *))
{
    fx_req_state *st = fx_state_get(r);
    if ((st && st->simulated > 0)
        || (!st && r->main && fx_state_get(r->main))) {
        int rv = fx_run_simulated(ph, r, st);
        if (rv != -2) {
            return rv;
        }
    }
    return fx_run_ordinary(ph, r, loop);
}

/* Each phase has two runners, and post_config installs the one that fits
 * the number of hooks it found (fx_runner_for), so the runner does not
 * test it on every request: fx_one_N calls the single hook itself,
 * fx_many_N goes to the loop.  A phase without a pre-step and without
 * the simulator gets its loop installed directly.  Either runner spends
 * one load and branch for the simulator in its phases while no probe runs
 * in this process; the rest is out of line, so the runner needs no
 * frame. */
#define FX_SIM_ACTIVE(i) \
    (fx_phases[i].sim && __builtin_expect(fx_sim_active != 0, 0))
#define FX_RUNNER(i) \
    static int __attribute__((noinline)) fx_loop_##i(request_rec *r)       \
    { return fx_run_loop(i, r); }                                          \
    static int fx_one_##i(request_rec *r)                                  \
    {                                                                      \
        if (FX_SIM_ACTIVE(i)) {                                            \
            return fx_run_maybe_simulated(i, r, fx_loop_##i);              \
        }                                                                  \
        fx_run_pre(i, r);                                                  \
        return fx_run_one(i, r);                                           \
    }                                                                      \
    static int fx_many_##i(request_rec *r)                                 \
    {                                                                      \
        if (FX_SIM_ACTIVE(i)) {                                            \
            return fx_run_maybe_simulated(i, r, fx_loop_##i);              \
        }                                                                  \
        fx_run_pre(i, r);                                                  \
        return fx_loop_##i(r);                                             \
    }
FX_RUNNER(0) FX_RUNNER(1) FX_RUNNER(2) FX_RUNNER(3) FX_RUNNER(4) FX_RUNNER(5)
FX_RUNNER(6) FX_RUNNER(7) FX_RUNNER(8) FX_RUNNER(9) FX_RUNNER(10)
#if FX_NPHASES > 11
FX_RUNNER(11)
#endif
#define FX_RUNNERS(i) { fx_one_##i, fx_many_##i, fx_loop_##i }
static fx_request_hook_fn *const fx_runners[FX_NPHASES][3] = {
    FX_RUNNERS(0), FX_RUNNERS(1), FX_RUNNERS(2), FX_RUNNERS(3),
    FX_RUNNERS(4), FX_RUNNERS(5), FX_RUNNERS(6), FX_RUNNERS(7),
    FX_RUNNERS(8), FX_RUNNERS(9), FX_RUNNERS(10),
#if FX_NPHASES > 11
    FX_RUNNERS(11)
#endif
};

/* The runner for phase ph with n hooks. */
static fx_request_hook_fn *fx_runner_for(int ph, int n)
{
    if (n == 1) {
        return fx_runners[ph][0];
    }
    if (!fx_phases[ph].sim && fx_phases[ph].pre == FX_PRE_NONE
        && ph != FX_PH_TYPE_CHECKER) {
        return fx_runners[ph][2];       /* nothing to do before the loop */
    }
    return fx_runners[ph][1];
}

static int fx_is_runner(int ph, fx_request_hook_fn *fn)
{
    return fn == fx_runners[ph][0] || fn == fx_runners[ph][1]
           || fn == fx_runners[ph][2];
}

/* What elements 1..n-1 become: both loops step over DECLINED, and the
 * runner in element 0 has already called what they held. */
static int fx_stand_in(request_rec *r)
{
    (void)r;
    return DECLINED;
}

/* core's ap_setup_auth_internal counts these phases' hooks (it runs in
 * core's post_config, before this one, but the count is theirs to keep). */
static int fx_is_auth_phase(int ph)
{
    return fx_phases[ph].get == ap_hook_get_access_checker
        || fx_phases[ph].get == ap_hook_get_access_checker_ex
        || fx_phases[ph].get == ap_hook_get_check_user_id
        || fx_phases[ph].get == ap_hook_get_auth_checker;
}

void fx_trampoline_install(apr_pool_t *pconf, server_rec *s)
{
    int ph, used = 0;
    /* mod_info lists every module of every hook array: with it loaded the
     * arrays keep their length (the stand-ins are stepped over); without
     * it, only httpd's own loops read the request-phase arrays. */
    int keep_length = ap_find_linked_module("mod_info.c") != NULL;

    fx_rewrite_unwrap();
    for (ph = 0; ph < FX_NPHASES; ph++) {
        apr_array_header_t *arr = fx_phases[ph].get();
        fx_hook_link *links;
        int k;

        fx_slots[ph] = NULL;
        fx_nslots[ph] = 0;
        if (!arr || arr->nelts == 0) {
            continue;
        }
        links = (fx_hook_link *)arr->elts;
        if (fx_is_runner(ph, links[0].pFunc)) {
            continue;   /* already taken over (cannot happen: defensive) */
        }
        /* one more, zeroed: the NULL orig that ends fx_run_loop */
        fx_slots[ph] = apr_pcalloc(pconf, sizeof(fx_slot) * (arr->nelts + 1));
        for (k = 0; k < arr->nelts; k++) {
            fx_slot *slot = &fx_slots[ph][k];
            slot->orig = links[k].pFunc ? links[k].pFunc : fx_stand_in;
            if (fx_phases[ph].rewrite_wrap && links[k].szName
                && !strcmp(links[k].szName, "mod_rewrite.c")) {
                /* notes what the hook is given (fx_rewrite.c) */
                slot->orig = fx_rewrite_wrap(fx_phases[ph].is_fixups,
                                             slot->orig, s);
            }
            slot->phase = fx_phases[ph].phase;
            slot->module = links[k].szName ? links[k].szName : "unknown";
            slot->is_handler = fx_phases[ph].is_handler;
            slot->ours = links[k].szName
                         && strcmp(links[k].szName,
                                   forbidden_explain_module.name) == 0;
            used += !slot->ours;
        }
        fx_nslots[ph] = arr->nelts;
        /* Only after the table is complete: nothing runs meanwhile (the
         * parent, before any child), but keep the order obvious. */
        links[0].pFunc = fx_runner_for(ph, arr->nelts);
        for (k = 1; k < arr->nelts; k++) {
            links[k].pFunc = fx_stand_in;
        }
        if (!keep_length && !fx_is_auth_phase(ph)) {
            /* Nobody reads this array but httpd's loop: let it call the
             * runner alone, not the runner and n-1 stand-ins. */
            arr->nelts = 1;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "forbidden_explain: observing %d request hooks", used);
}
