/* fx_json.h — the two JSON string encodings the module writes, and the
 * checks on pre-rendered ("raw") JSON values.
 *
 * The log-safe encoding (the error-log line and the request note):
 * httpd escapes error-log messages itself: it doubles every backslash and
 * writes control characters and bytes outside printable ASCII as \xHH.  A
 * JSON escape such as \" would therefore reach the file as \\" and break the
 * object.  So that encoding never emits a backslash: inside a string value
 * the bytes  "  \  %  , control bytes, DEL and every byte >= 0x80 are
 * written as %HH (uppercase hex).  The result is plain printable ASCII that
 * httpd leaves untouched, any JSON parser accepts, and percent-decoding
 * restores exactly (invalid UTF-8 included).
 *
 * The standard encoding (ForbiddenExplainLog, problem+json: nobody escapes
 * them after the module): RFC 8259 strings in UTF-8.  " and \ are written
 * \" and \\, \b \f \n \r \t as such, the other control bytes and DEL as
 * \u00hh; a well-formed UTF-8 character is written as its bytes; every
 * maximal ill-formed subsequence (a stray continuation byte, a truncated
 * sequence, an overlong form, a surrogate, C0/C1/F5..FF) becomes one
 * \ufffd, as the WHATWG decoder and Python's errors="replace" do.  Valid
 * UTF-8 round-trips exactly; the exact bytes of invalid UTF-8 are in the
 * error log's %HH form.
 *
 * Cuts (a max_out or a cap) never split an escape, nor, in either encoding,
 * a well-formed UTF-8 character.
 *
 * Pure functions: no httpd dependency, unit tested in tests/unit.
 */
#ifndef FX_JSON_H
#define FX_JSON_H

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

/* 1 when httpd's error-log escaping would leave s[0..len) unchanged:
 * printable ASCII only, no backslash.  Everything this file encodes is. */
int fx_json_is_log_safe(const char *s, apr_size_t len);

/* --- log-safe (%HH) encoding --- */

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
/* The same for src[0..len) (NUL bytes included). */
char *fx_json_quote_len(apr_pool_t *p, const char *src, apr_size_t len,
                        apr_size_t max_out, int *truncated);

/* Decode %HH sequences (inverse of the encoding); for tests and tools. */
char *fx_json_decode(apr_pool_t *p, const char *src, apr_size_t *out_len);

/* --- standard (RFC 8259, UTF-8) encoding --- */

apr_size_t fx_json_std_encoded_len(const char *src, apr_size_t len);
apr_size_t fx_json_std_encode_into(char *dst, apr_size_t cap, const char *src,
                                   apr_size_t len, apr_size_t *written);
char *fx_json_std_quote(apr_pool_t *p, const char *src, apr_size_t max_out,
                        int *truncated);
char *fx_json_std_quote_len(apr_pool_t *p, const char *src, apr_size_t len,
                            apr_size_t max_out, int *truncated);

/* --- raw values: JSON that producers build from fx_json_quote strings --- */

/* 1 when s[0..len) is one JSON value (RFC 8259 grammar, spaces allowed
 * between tokens) that is log-safe. */
int fx_json_raw_valid(const char *s, apr_size_t len);

/* When s[0..len) is one JSON array (the grammar of fx_json_raw_valid; its
 * log-safety is the caller's to check): pushes (offset, length) pairs
 * (apr_size_t) of its items onto spans and returns 1; otherwise 0 (spans
 * may then hold some pairs). */
int fx_json_raw_items(const char *s, apr_size_t len, apr_array_header_t *spans);

/* The valid raw value s rendered with every string token re-encoded: in the
 * standard encoding when std, else kept in the log-safe one; each string
 * longer than max_out (encoded, 0 = no limit) is cut and *truncated set.
 * *longest (if non-NULL) gets the encoded length of its longest string as
 * rendered. */
const char *fx_json_raw_render(apr_pool_t *p, const char *s, apr_size_t len,
                               int std, apr_size_t max_out, int *truncated,
                               apr_size_t *longest);

/* Length of the well-formed UTF-8 sequence at s[0..len) (Unicode table
 * 3-7: no overlongs, no surrogates, nothing above U+10FFFF), or 0 when
 * there is none; then *bad (when not NULL) gets the length of its maximal
 * subpart, the bytes one U+FFFD replaces. */
apr_size_t fx_utf8_len(const unsigned char *s, apr_size_t len,
                       apr_size_t *bad);

#endif
