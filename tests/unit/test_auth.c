/* Unit tests for sl_auth (intake keys). */
#include <stdlib.h>
#include <string.h>

#include "sl_auth.h"
#include "sl_test.h"

static void test_keys(void)
{
    const char *keys[] = {"old-key-0123456789abcdef", "new-key-fedcba9876543210"};
    sl_auth *a = sl_auth_new(keys, 2);
    CHECK(a != NULL);
    if (!a)
        return;
    CHECK(sl_auth_check(a, "Bearer old-key-0123456789abcdef") == SL_AUTH_OK);
    CHECK(sl_auth_check(a, "Bearer new-key-fedcba9876543210") == SL_AUTH_OK);
    CHECK(sl_auth_check(a, "bearer  new-key-fedcba9876543210 ") == SL_AUTH_OK);
    CHECK(sl_auth_check(a, "BEARER\told-key-0123456789abcdef") == SL_AUTH_OK);
    /* a prefix, a longer key, another case: wrong */
    CHECK(sl_auth_check(a, "Bearer old-key-0123456789abcde") == SL_AUTH_WRONG);
    CHECK(sl_auth_check(a, "Bearer old-key-0123456789abcdef0") == SL_AUTH_WRONG);
    CHECK(sl_auth_check(a, "Bearer OLD-key-0123456789abcdef") == SL_AUTH_WRONG);
    CHECK(sl_auth_check(a, "Bearer x") == SL_AUTH_WRONG);
    /* no key presented the right way: missing */
    CHECK(sl_auth_check(a, NULL) == SL_AUTH_MISSING);
    CHECK(sl_auth_check(a, "") == SL_AUTH_MISSING);
    CHECK(sl_auth_check(a, "Bearer") == SL_AUTH_MISSING);
    CHECK(sl_auth_check(a, "Bearer   ") == SL_AUTH_MISSING);
    CHECK(sl_auth_check(a, "Basic b2xkLWtleQ==") == SL_AUTH_MISSING);
    CHECK(sl_auth_check(a, "Bearerold-key-0123456789abcdef") == SL_AUTH_MISSING);
    CHECK(sl_auth_check(a, "old-key-0123456789abcdef") == SL_AUTH_MISSING);
    sl_auth_free(a);
    sl_auth_free(NULL);
}

static void test_hostile_header(void)
{
    const char *keys[] = {"k-0123456789abcdef"};
    sl_auth *a = sl_auth_new(keys, 1);
    CHECK(a != NULL);
    if (!a)
        return;
    size_t n = 1 << 20;
    char *big = malloc(n + 8);
    CHECK(big != NULL);
    if (big) {
        memcpy(big, "Bearer ", 7);
        memset(big + 7, 'A', n);
        big[n + 7] = '\0';
        CHECK(sl_auth_check(a, big) == SL_AUTH_WRONG);
        free(big);
    }
    CHECK(sl_auth_check(a, "Bearer k-0123456789abcdef\r\nX: y") == SL_AUTH_WRONG);
    sl_auth_free(a);
}

/* Basic credentials carry the key as the password (a browser's prompt);
 * anything malformed is wrong, never a crash or a match. */
static void test_browser_basic(void)
{
    const char *keys[] = {"k-0123456789abcdef"};
    sl_auth *a = sl_auth_new(keys, 1);
    CHECK(a != NULL);
    if (!a)
        return;
    /* "op:k-0123456789abcdef", ":k-...", "op:k-...x", "k-..." */
    CHECK(sl_auth_check_browser(a, "Basic b3A6ay0wMTIzNDU2Nzg5YWJjZGVm") == SL_AUTH_OK);
    CHECK(sl_auth_check_browser(a, "basic   b3A6ay0wMTIzNDU2Nzg5YWJjZGVm  ") == SL_AUTH_OK);
    CHECK(sl_auth_check_browser(a, "Basic OmstMDEyMzQ1Njc4OWFiY2RlZg==") == SL_AUTH_OK);
    CHECK(sl_auth_check_browser(a, "Basic b3A6ay0wMTIzNDU2Nzg5YWJjZGVmeA==") == SL_AUTH_WRONG);
    CHECK(sl_auth_check_browser(a, "Basic ay0wMTIzNDU2Nzg5YWJjZGVm") == SL_AUTH_WRONG);
    CHECK(sl_auth_check_browser(a, "Basic b3A6") == SL_AUTH_WRONG); /* "op:" */
    CHECK(sl_auth_check_browser(a, "Basic b3A6ay0wMTIzNDU2Nzg5YWJjZGVmAHg=") == SL_AUTH_WRONG); /* NUL */
    CHECK(sl_auth_check_browser(a, "Basic ****") == SL_AUTH_WRONG);
    CHECK(sl_auth_check_browser(a, "Basic abc") == SL_AUTH_WRONG);
    CHECK(sl_auth_check_browser(a, "Basic ") == SL_AUTH_WRONG);
    CHECK(sl_auth_check_browser(a, "Basic b3A6ay0wMTIzNDU2Nzg5YWJjZGVm x") == SL_AUTH_WRONG);
    /* Bearer still works; plain sl_auth_check does not take Basic */
    CHECK(sl_auth_check_browser(a, "Bearer k-0123456789abcdef") == SL_AUTH_OK);
    CHECK(sl_auth_check_browser(a, NULL) == SL_AUTH_MISSING);
    CHECK(sl_auth_check(a, "Basic b3A6ay0wMTIzNDU2Nzg5YWJjZGVm") == SL_AUTH_MISSING);
    size_t n = 1 << 16;
    char *big = malloc(n + 8);
    CHECK(big != NULL);
    if (big) {
        memcpy(big, "Basic ", 6);
        memset(big + 6, 'A', n);
        big[n + 6] = '\0';
        CHECK(sl_auth_check_browser(a, big) == SL_AUTH_WRONG);
        free(big);
    }
    sl_auth_free(a);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"keys", test_keys},
        {"hostile_header", test_hostile_header},
        {"browser_basic", test_browser_basic},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
