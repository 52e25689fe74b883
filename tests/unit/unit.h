/* unit.h — the checks every unit test uses, and the closing line the test
 * command prints for it ("unit: N checks, M failed"). */
#ifndef FX_UNIT_H
#define FX_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_checks, unit_failures;

#define CHECK(cond) do { unit_checks++; if (!(cond)) { unit_failures++; \
    fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_INT(a, b) do { long a_ = (long)(a), b_ = (long)(b); unit_checks++; \
    if (a_ != b_) { unit_failures++; fprintf(stderr, "FAIL %s:%d: got %ld want %ld\n", \
    __FILE__, __LINE__, a_, b_); } } while (0)

#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); unit_checks++; \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { unit_failures++; \
    fprintf(stderr, "FAIL %s:%d: got [%s] want [%s]\n", __FILE__, __LINE__, \
            a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)

/* Print the closing line; the exit status main() returns. */
static int unit_done(void)
{
    printf("unit: %d checks, %d failed\n", unit_checks, unit_failures);
    return unit_failures ? 1 : 0;
}

#endif
