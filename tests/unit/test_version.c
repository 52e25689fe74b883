/* test_version.c — unit tests for the version comparison behind
 * fx_httpd_at_least (src/fx_version.h). */
#include "fx_version.h"
#include "unit.h"

int main(void)
{
    CHECK(fx_version_at_least(2, 4, 60, 2, 4, 60));
    CHECK(fx_version_at_least(2, 4, 71, 2, 4, 60));
    CHECK(!fx_version_at_least(2, 4, 59, 2, 4, 60));
    CHECK(fx_version_at_least(2, 5, 0, 2, 4, 60));
    CHECK(!fx_version_at_least(2, 3, 99, 2, 4, 0));
    CHECK(fx_version_at_least(3, 0, 0, 2, 4, 99));
    CHECK(!fx_version_at_least(1, 9, 99, 2, 0, 0));
    CHECK(!fx_version_at_least(2, 4, 47, 2, 4, 48));
    return unit_done();
}
