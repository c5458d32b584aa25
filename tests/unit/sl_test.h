/* sl_test: a minimal unit-test harness. Each test is a function; CHECK
 * records a failure with file:line and goes on; the runner's exit status is
 * the number of failed tests (capped), so ctest sees a failure. */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <stdio.h>
#include <string.h>

static int sl_test_failed_checks;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                 \
            sl_test_failed_checks++;                                        \
        }                                                                   \
    } while (0)

#define CHECK_STR(got, want)                                                \
    do {                                                                    \
        const char *g_ = (got), *w_ = (want);                               \
        if (!g_ || strcmp(g_, w_) != 0) {                                   \
            fprintf(stderr, "%s:%d: got  \"%s\"\n%*swant \"%s\"\n",          \
                    __FILE__, __LINE__, g_ ? g_ : "(null)",                 \
                    (int)strlen(__FILE__) + 8, "", w_);                     \
            sl_test_failed_checks++;                                        \
        }                                                                   \
    } while (0)

/* Substring check, for error messages. */
#define CHECK_CONTAINS(hay, needle)                                         \
    do {                                                                    \
        const char *h_ = (hay), *n_ = (needle);                             \
        if (!h_ || !strstr(h_, n_)) {                                       \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n",       \
                    __FILE__, __LINE__, h_ ? h_ : "(null)", n_);            \
            sl_test_failed_checks++;                                        \
        }                                                                   \
    } while (0)

typedef struct sl_test_case {
    const char *name;
    void (*fn)(void);
} sl_test_case;

/* Run the NULL-terminated list; a test fails if any CHECK in it failed. */
static inline int sl_test_run(const sl_test_case *cases)
{
    int failed = 0, total = 0;
    for (const sl_test_case *c = cases; c->name; c++) {
        int before = sl_test_failed_checks;
        c->fn();
        total++;
        if (sl_test_failed_checks != before) {
            failed++;
            fprintf(stderr, "FAIL %s\n", c->name);
        } else {
            printf("ok   %s\n", c->name);
        }
    }
    printf("%d passed, %d failed\n", total - failed, failed);
    return failed > 100 ? 100 : failed;
}

#endif
