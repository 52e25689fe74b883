/* fuzz_wafparse.c — libFuzzer target for the ModSecurity message reader
 * (src/fx_wafparse.c).  Those messages carry request data (the matched
 * value, the URI) chosen by the client.  Oracles: a parse that succeeds
 * has a plausible status and non-negative phase/line, every tag read is a
 * NUL-terminated string no longer than the message.
 * FUZZ_SOURCES: src/fx_wafparse.c */
#include "fuzz_util.h"
#include "fx_wafparse.h"

static const char *const tags[] = { "id", "msg", "file", "line", "data",
                                    "severity", "tag", "uri", "" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    char *msg = apr_pstrmemdup(p, (const char *)data, size);
    size_t len = strlen(msg);
    fx_waf_info w;
    unsigned k;

    memset(&w, 0x5a, sizeof(w));
    if (fx_waf_parse(p, msg, &w)) {
        FZ_ASSERT(w.phase >= 0 && w.line >= 0);
        FZ_ASSERT(!w.file || strlen(w.file) <= len);
        FZ_ASSERT(!w.id || strlen(w.id) <= len);
        FZ_ASSERT(!w.msg || strlen(w.msg) <= len);
        FZ_ASSERT(!w.match || strlen(w.match) <= len);
    }
    for (k = 0; k < sizeof(tags) / sizeof(tags[0]); k++) {
        const char *v = fx_waf_tag(p, msg, tags[k]);
        FZ_ASSERT(!v || strlen(v) <= len);
    }
    return 0;
}
