/* fuzz_wafparse.c — libFuzzer target for the ModSecurity message reader
 * (src/fx_wafparse.c).  Those messages carry request data (the matched
 * value, the URI) chosen by the client.  Oracles: a parse that succeeds
 * has a plausible status and non-negative phase/line, every tag read is a
 * NUL-terminated string no longer than the message; the splits of [data]
 * and the match's variable are no longer than what they were cut from.
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
        FZ_ASSERT(!w.data || strlen(w.data) <= len);
        FZ_ASSERT(!w.severity || strlen(w.severity) <= len);
        FZ_ASSERT(!w.unique_id || strlen(w.unique_id) <= len);
        FZ_ASSERT(w.kind == FX_WAF_DENIED || w.kind == FX_WAF_WARNING);
        FZ_ASSERT(w.tags && w.tags->nelts >= 0);
        for (k = 0; k < 4; k++) {
            const char *m, *v, *val;
            if (!fx_waf_split_data(p, w.data, (int)k, &m, &v, &val)) {
                break;
            }
            FZ_ASSERT(strlen(m) + strlen(v) <= strlen(w.data));
            FZ_ASSERT(!val || strlen(val) <= strlen(w.data));
        }
        {
            const char *mv = fx_waf_match_var(p, w.match);
            FZ_ASSERT(!mv || strlen(mv) <= strlen(w.match));
        }
        (void)fx_waf_total_score(w.msg);
        (void)fx_waf_threshold(w.match);
    }
    for (k = 0; k < sizeof(tags) / sizeof(tags[0]); k++) {
        const char *v = fx_waf_tag(p, msg, tags[k]);
        FZ_ASSERT(!v || strlen(v) <= len);
    }
    return 0;
}
