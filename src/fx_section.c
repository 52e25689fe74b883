/* fx_section.c — how an entry names where a directive sits: "file:line",
 * and the chain of sections around it, outermost first, e.g.
 * "<Directory /srv> (site.conf:12) > <RequireAll> (:14)".
 *
 * Pure: reads ap_directive_t nodes only (no running server), unit tested
 * and fuzzed in tests/.  No fixed-size buffer: a chain is as deep as the
 * configuration nests it. */
#include <string.h>
#include "apr_strings.h"
#include "apr_tables.h"
#include "fx_section.h"

const char *fx_directive_at(apr_pool_t *p, const ap_directive_t *d)
{
    if (!d || !d->filename) {
        return NULL;
    }
    return apr_psprintf(p, "%s:%d", d->filename, d->line_num);
}

const char *fx_section_chain(apr_pool_t *p, const ap_directive_t *d)
{
    const ap_directive_t *s;
    const char *prev_file = NULL;
    apr_array_header_t *parts;
    const ap_directive_t **stack;
    int n = 0, i;

    if (!d) {
        return NULL;
    }
    for (s = d->parent; s; s = s->parent) {
        n++;
    }
    if (!n) {
        return NULL;
    }
    /* However deep the nesting: sized from the chain itself. */
    stack = apr_palloc(p, n * sizeof(*stack));
    for (i = 0, s = d->parent; s; s = s->parent) {
        stack[i++] = s;
    }
    parts = apr_array_make(p, n * 9, sizeof(const char *));
    /* "<Directory /srv> (site.conf:12) > <RequireAll> (:14)": the file is
     * named again only when it changes. */
    for (i = n - 1; i >= 0; i--) {
        const char *args;
        int same_file;
        s = stack[i];
        args = s->args ? s->args : "";
        same_file = prev_file && s->filename && strcmp(prev_file, s->filename) == 0;
        if (i != n - 1) {
            APR_ARRAY_PUSH(parts, const char *) = " > ";
        }
        APR_ARRAY_PUSH(parts, const char *) = s->directive;
        /* a container without arguments keeps ">" as its args */
        if (*args && strcmp(args, ">") != 0) {
            APR_ARRAY_PUSH(parts, const char *) = " ";
        }
        APR_ARRAY_PUSH(parts, const char *) = args;
        APR_ARRAY_PUSH(parts, const char *) = same_file ? " (:" : " (";
        if (!same_file) {
            APR_ARRAY_PUSH(parts, const char *) = s->filename ? s->filename : "?";
            APR_ARRAY_PUSH(parts, const char *) = ":";
        }
        APR_ARRAY_PUSH(parts, const char *) = apr_itoa(p, s->line_num);
        APR_ARRAY_PUSH(parts, const char *) = ")";
        prev_file = s->filename;
    }
    return apr_array_pstrcat(p, parts, 0);
}
