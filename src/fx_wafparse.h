/* fx_wafparse.h — reads ModSecurity's "Access denied" error-log message:
 * status, phase and the rule's [file], [line], [id], [msg] tags.  Pure:
 * APR only, unit tested in tests/unit/test_wafparse.c. */
#ifndef FX_WAFPARSE_H
#define FX_WAFPARSE_H

#include <apr_pools.h>

typedef struct {
    int status;             /* "Access denied with code 403" */
    int phase;              /* "(phase 2)", 0 if absent */
    const char *file;       /* [file "..."] the rule's configuration file */
    int line;               /* [line "..."] */
    const char *id;         /* [id "..."] */
    const char *msg;        /* [msg "..."] */
    const char *match;      /* the text between "(phase N). " and the tags */
} fx_waf_info;

/* 1 when msg is a ModSecurity denial ("ModSecurity: Access denied with
 * code N"), filling out; 0 otherwise.  Tags absent from msg stay NULL/0. */
int fx_waf_parse(apr_pool_t *p, const char *msg, fx_waf_info *out);

/* The value of tag name (e.g. "id") in msg, unescaped, or NULL. */
const char *fx_waf_tag(apr_pool_t *p, const char *msg, const char *name);

#endif
