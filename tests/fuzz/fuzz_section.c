/* fuzz_section.c — libFuzzer target for the section chain (src/fx_section.c).
 * The input builds a chain of nested sections of any depth with arbitrary
 * names, arguments and file names (NULL ones too).  Oracles: every level's
 * directive appears in order, there is one " > " fewer than levels (when no
 * text holds a '>'), and the top level gives NULL.
 * FUZZ_SOURCES: src/fx_section.c */
#include "fuzz_util.h"
#include "fx_section.h"

static const char *fz_text(apr_pool_t *p, fz_in *in)
{
    unsigned len = fz_byte(in) % 24, i;
    char *s = apr_palloc(p, len + 1);
    for (i = 0; i < len; i++) {
        unsigned c = fz_byte(in);
        s[i] = (char)(c ? c : 'x');
    }
    s[len] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fz_pool();
    fz_in in = { data, size };
    ap_directive_t *d = NULL, **levels;
    unsigned depth = (fz_byte(&in) << 2 | (fz_byte(&in) & 3)) % 600, i;
    const char *chain, *at;
    int plain = 1;

    levels = apr_pcalloc(p, (depth + 1) * sizeof(*levels));
    for (i = 0; i <= depth; i++) {
        ap_directive_t *n = apr_pcalloc(p, sizeof(*n));
        unsigned flags = fz_byte(&in);
        n->directive = apr_pstrcat(p, "<S", apr_itoa(p, (int)i), "_",
                                   fz_text(p, &in), NULL);
        n->args = (flags & 1) ? NULL : fz_text(p, &in);
        n->filename = (flags & 2) ? NULL : fz_text(p, &in);
        n->line_num = (int)fz_byte(&in);
        n->parent = d;
        if (strchr(n->directive + 1, '>') || (n->args && strchr(n->args, '>'))
            || (n->filename && strchr(n->filename, '>'))) {
            plain = 0;
        }
        levels[i] = d = n;
    }
    chain = fx_section_chain(p, d);
    FZ_ASSERT((depth == 0) == (chain == NULL));
    if (!chain) {
        return 0;
    }
    /* every enclosing level, outermost first */
    at = chain;
    for (i = 0; i < depth; i++) {
        const char *hit = strstr(at, levels[i]->directive);
        FZ_ASSERT(hit != NULL);
        at = hit + strlen(levels[i]->directive);
    }
    if (plain) {
        unsigned seps = 0;
        for (at = strstr(chain, " > "); at; at = strstr(at + 1, " > ")) {
            seps++;
        }
        FZ_ASSERT(seps == depth - 1);
    }
    return 0;
}
