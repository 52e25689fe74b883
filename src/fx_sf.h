/* fx_sf.h — the wire encodings of an explanation: an RFC 8941 (RFC 9651)
 * Dictionary for the Forbidden-Explain header, the string escaping shared
 * with fx_sf_json_string, and the Accept test for problem+json.  (The
 * problem+json body itself is standard JSON from the entry builder,
 * fx_entry.h / fx_json.h.)
 *
 * Wire text rule (the header): every byte of a value is sent as
 * itself when it is printable ASCII (0x20-0x7e) other than '%'; '%', control
 * bytes, DEL and every byte >= 0x80 are sent as %HH (uppercase hex).  On top
 * of that the container's own escaping applies: sf-string and JSON string
 * both write '"' as \" and '\' as \\.  So a reader parses the field or the
 * JSON, then percent-decodes, and gets the original bytes back exactly,
 * invalid UTF-8 included; a CR, LF or NUL can never reach the wire.
 *
 * Pure: APR only, unit tested in tests/unit/test_sf.c. */
#ifndef FX_SF_H
#define FX_SF_H

#include <apr_pools.h>
#include <apr_tables.h>

/* RFC 8941 grammar checks. */
int fx_sf_key_valid(const char *key);
int fx_sf_token_valid(const char *token);

/* The wire text of src[0..len): printable ASCII except '%' as is, the rest
 * %HH, and '"' / '\' preceded by a backslash.  At most max_out output bytes
 * (0 = no limit), never splitting an escape; *cut (if non-NULL) tells
 * whether src was shortened.  No surrounding quotes. */
char *fx_sf_escape(apr_pool_t *p, const char *src, apr_size_t len,
                   apr_size_t max_out, int *cut);

/* Dictionary builder.  Members keep the order they were added in; adding a
 * key twice replaces the value in place. */
typedef struct fx_sf_dict fx_sf_dict;

fx_sf_dict *fx_sf_dict_make(apr_pool_t *p);
/* Each returns 0 (and adds nothing) when key is not a valid sf key.
 * keep: the member is never shortened or dropped to meet the budget. */
int fx_sf_dict_string(fx_sf_dict *d, const char *key, const char *value,
                      int keep);
/* A token when value is a valid sf-token, otherwise an sf-string. */
int fx_sf_dict_token(fx_sf_dict *d, const char *key, const char *value,
                     int keep);
/* An sf-integer; values beyond 15 digits become strings. */
int fx_sf_dict_integer(fx_sf_dict *d, const char *key, apr_int64_t n,
                       int keep);

/* The serialized Dictionary, at most budget bytes (budget >= 128).  To fit,
 * string values are cut (longest limit first, halving) and their keys listed
 * in a final member truncated=(key ...); if that is not enough, members from
 * the end that are not kept are dropped and the list becomes truncated=?1.
 * The result is always a valid Dictionary of printable ASCII. */
char *fx_sf_dict_serialize(const fx_sf_dict *d, apr_pool_t *p,
                           apr_size_t budget);

/* The JSON string literal (with quotes) of src using the wire text rule,
 * at most max_out bytes between the quotes (0 = no limit). */
char *fx_sf_json_string(apr_pool_t *p, const char *src, apr_size_t max_out,
                        int *cut);

/* Does an Accept header value ask for application/problem+json (with a
 * non-zero q)?  Wildcards do not count: only an explicit request does. */
int fx_sf_accepts_problem_json(const char *accept);

#endif
