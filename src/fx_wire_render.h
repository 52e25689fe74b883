/* fx_wire_render.h — what an entry looks like on the wire: the value of the
 * Forbidden-Explain header (an RFC 8941 Dictionary), the RFC 9457 problem
 * document, and the default redaction of literals inside expressions.
 *
 * Pure: APR only (fx_entry, fx_sf), unit tested in tests/unit/test_sf.c. */
#ifndef FX_WIRE_RENDER_H
#define FX_WIRE_RENDER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "fx_entry.h"

/* Upper bounds of the header value and of the problem+json body. */
#define FX_WIRE_HEADER_BUDGET 4096
#define FX_WIRE_PROBLEM_BUDGET 16384

/* The Forbidden-Explain value: reason (token), module, phase, at
 * ("file:line"), then the entry's other string and integer facts in entry
 * order, detail, hint and last id (the request_id).  status, file, line and
 * pre-rendered (raw JSON) facts are left out.  At most budget bytes. */
char *fx_wire_header_value(apr_pool_t *p, const fx_entry *e,
                           apr_size_t budget);

/* The problem document: type "about:blank", title "Forbidden", status,
 * detail, instance "urn:forbidden-explain:<request id>", then every other
 * fact as an extension member under its log key.  Rendered by the entry
 * builder (fx_entry.h: its size policy, "truncated") in the standard
 * encoding: RFC 8259 JSON in UTF-8 (fx_json.h).  At most budget bytes. */
char *fx_wire_problem_json(apr_pool_t *p, const fx_entry *e,
                           apr_size_t budget);

/* Default redaction of secrets in expressions.  The literals of an
 * expression are the bodies of its quoted strings ('...', "...") and
 * regular expressions (/.../, m#...#); a wrapping pair of double quotes
 * (`Require expr "..."`) only delimits the expression.
 *
 * Collect into lits (const char *) the literals of every `Require [not]
 * expr` or `SSLRequire` expression in text, or of text itself when is_expr
 * (a bare expression). */
void fx_wire_collect_literals(apr_pool_t *p, const char *text, int is_expr,
                              apr_array_header_t *lits);
/* text with every occurrence of a literal replaced by [redacted]; with
 * json_raw, text is the module's pre-rendered JSON and only the insides of
 * its strings are searched, for the literals' encoded form.  Returns text
 * itself when nothing matched. */
const char *fx_wire_scrub(apr_pool_t *p, const char *text,
                          const apr_array_header_t *lits, int json_raw);
/* Both on one text. */
const char *fx_wire_redact_literals(apr_pool_t *p, const char *text);

#endif
