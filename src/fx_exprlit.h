/* fx_exprlit.h — which literals of an expression are compared with a value
 * the client chooses: a request header (cookies included), the query
 * string or the request line.  Those are where API keys and shared secrets
 * sit (`Require expr "%{HTTP:X-Api-Key} == 'k-7f3a9c'"`), so the log entry
 * redacts them by default; a literal compared with anything else (an
 * address range, a path, the time) stays readable.
 *
 * Pure: APR only, unit tested in tests/unit/test_exprlit.c.
 *
 * The expression is cut into clauses at `&&`, `||` and grouping
 * parentheses.  A clause that reads a request value (%{HTTP:...},
 * %{HTTP_*} but HTTPS, %{QUERY_STRING}, %{THE_REQUEST}, req(), http(),
 * req_novary()) gives away every literal in it — strings, regexes, list
 * members — except the name argument of a look-up function (the header
 * name in req('X-Api-Key')).  This errs towards redacting: a literal
 * concatenated with a header in one clause is redacted too. */
#ifndef FX_EXPRLIT_H
#define FX_EXPRLIT_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *written;    /* as in the text, delimiters included: 'k-7f' */
    const char *redacted;   /* the same with the body replaced: '[redacted]' */
} fx_exprlit;

/* Append to out (fx_exprlit) the compared literals of every `Require [not]
 * expr` or `SSLRequire` expression in text, or of text itself when is_expr
 * (a bare expression, possibly wrapped in one pair of double quotes). */
void fx_exprlit_collect(apr_pool_t *p, const char *text, int is_expr,
                        apr_array_header_t *out);

/* Where the expression of a `Require [not] expr` or `SSLRequire` starting
 * at text[i] begins, or 0 when none starts at i (fx_wire_render.c's
 * redaction scans with it too). */
apr_size_t fx_exprlit_expr_start(const char *text, apr_size_t i);

/* text with every occurrence of each written form replaced by its redacted
 * form (one left-to-right pass, the longest form first at each position).
 * Returns text itself when nothing matched. */
const char *fx_exprlit_scrub(apr_pool_t *p, const char *text,
                             const apr_array_header_t *lits);

#endif
