/* fx_json.h — the log-safe JSON string encoding used for every value the
 * module writes (error log, ForbiddenExplainLog, request note).
 *
 * httpd escapes error-log messages itself: it doubles every backslash and
 * writes control characters and bytes outside printable ASCII as \xHH.  A
 * JSON escape such as \" would therefore reach the file as \\" and break the
 * object.  So the module never emits a backslash: inside a string value the
 * bytes  "  \  %  , control bytes, DEL and every byte >= 0x80 are written as
 * %HH (uppercase hex).  The result is plain printable ASCII that httpd leaves
 * untouched, any JSON parser accepts, and percent-decoding restores exactly.
 *
 * Pure functions: no httpd dependency, unit tested in tests/unit.
 */
#ifndef FX_JSON_H
#define FX_JSON_H

#include <apr_pools.h>
#include <apr_strings.h>

/* 1 when httpd's error-log escaping would leave s[0..len) unchanged:
 * printable ASCII only, no backslash.  Everything this file encodes is. */
int fx_json_is_log_safe(const char *s, apr_size_t len);

/* Encoded length of src[0..len) without quotes. */
apr_size_t fx_json_encoded_len(const char *src, apr_size_t len);

/* Append the encoded form of src (at most len bytes) to dst, which has room
 * for cap bytes including the terminating NUL.  Never splits an escape.
 * Returns the number of source bytes consumed; *written gets the output
 * length. */
apr_size_t fx_json_encode_into(char *dst, apr_size_t cap, const char *src,
                               apr_size_t len, apr_size_t *written);

/* The encoded string as a quoted JSON string, allocated from p.  When the
 * encoding is longer than max_out bytes (quotes excluded, 0 = no limit) it is
 * cut on an escape boundary and *truncated is set (if non-NULL). */
char *fx_json_quote(apr_pool_t *p, const char *src, apr_size_t max_out,
                    int *truncated);

/* Decode %HH sequences (inverse of the encoding); for tests and tools. */
char *fx_json_decode(apr_pool_t *p, const char *src, apr_size_t *out_len);

#endif
