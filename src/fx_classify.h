/* fx_classify.h — maps "which module returned the 403 in which phase, and
 * which AH lines it wrote" to a reason of the documented vocabulary, with a
 * default sentence and hint.  Pure: unit tested in tests/unit. */
#ifndef FX_CLASSIFY_H
#define FX_CLASSIFY_H

typedef struct {
    const char *module;     /* "mod_authz_core.c" */
    const char *phase;      /* "access_checker_ex" */
    int returned_ok;        /* hook returned OK/DONE and left r->status 403 */
    const char *handler;    /* r->handler, may be NULL */
    const int *ahs;         /* AH numbers logged for the request */
    int n_ahs;
} fx_classify_in;

/* The reason word (see README "Reasons"). */
const char *fx_classify_reason(const fx_classify_in *in);

/* One sentence for a person and one hint, used until a subsystem proves
 * more.  Never NULL. */
const char *fx_classify_detail(const char *reason);
const char *fx_classify_hint(const char *reason);

#endif
