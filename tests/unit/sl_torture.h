/* sl_torture: failed allocations and short I/O on demand, for the torture
 * tests (tests/unit/torture_<mod>.c), as curl's torture tests do it.
 *
 * The torture executables are linked with -Wl,--wrap for malloc, calloc,
 * realloc, free, strdup, strndup, asprintf, vasprintf, pread, pwrite and
 * writev (tests/CMakeLists.txt): every such call in sluice_core and in the
 * test itself goes to __wrap_<name> in sl_torture.c, which counts it, fails
 * it when told to and otherwise calls __real_<name> (libc's, or ASan's
 * interceptor in the ASan build). Calls made inside shared libraries are
 * not wrapped; sl_torture_libevent routes libevent's through here too.
 *
 * A torture loop: for n = 1, 2, ...: set up, sl_torture_arm(n, true), run
 * the operation, sl_torture_disarm(); while that returns non-zero the
 * operation saw a failed allocation and must have failed cleanly; the
 * first n that fails nothing is the clean run, which must succeed. */
#ifndef SL_TORTURE_H
#define SL_TORTURE_H

#include <stdbool.h>
#include <stddef.h>

/* No torture loop runs past this many allocations (a runaway guard). */
#define SL_TORTURE_MAX_N 100000ul

/* From now on count allocation calls; fail the nth (1-based) and, when
 * sticky, every later one (curl's "memlimit": memory stays exhausted);
 * not sticky, only the nth (a transient failure). n == 0 counts only. */
void sl_torture_arm(unsigned long n, bool sticky);

/* Stop failing and counting. Returns how many allocations were failed
 * since sl_torture_arm. */
unsigned long sl_torture_disarm(void);

/* Allocation calls since the last sl_torture_arm, failed ones included
 * (0 when it was never armed). */
unsigned long sl_torture_calls(void);

/* Where (return address) the first failed allocation since the arm was
 * called from, for a failure message; NULL if none failed. */
void *sl_torture_failed_at(void);

/* Blocks allocated through the wrappers (armed or not) and not yet freed;
 * -1 if more were live at once than the tracking table holds. */
long sl_torture_live(void);

/* For a test built with sl_test.h: CHECK that `want` blocks are live
 * after run n, naming the run and where its first failed allocation was
 * called from (addr2line -e <test> <address>) when not. */
#define SL_TORTURE_CHECK_LIVE(want, n)                                      \
    do {                                                                    \
        long live_ = sl_torture_live(), want_ = (want);                     \
        if (live_ != want_) {                                               \
            fprintf(stderr, "%s:%d: allocation %lu failing (first failed "   \
                    "from %p): %ld blocks live, want %ld\n", __FILE__,       \
                    __LINE__, (unsigned long)(n), sl_torture_failed_at(),   \
                    live_, want_);                                          \
            sl_test_failed_checks++;                                        \
        }                                                                   \
    } while (0)

/* Print "     <what>: allocations 1..n-1 failed in turn, n clean", what
 * formatted from fmt (ctest -V shows how much each loop covered). */
void sl_torture_report(unsigned long n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* While held (nests), allocations are neither counted nor failed: for a
 * test's own bookkeeping inside a callback that the operation calls. */
void sl_torture_hold(void);
void sl_torture_release(void);

/* Send libevent's allocations through the same wrappers (counted, failed,
 * tracked). Call first in main, before any other libevent call. */
void sl_torture_libevent(void);

/* Short I/O: each pread, pwrite and writev moves at most `max` bytes
 * (0: as asked), and every `eintr_every`th call fails with EINTR first
 * (0: never). Applies until changed; independent of arm/disarm. */
void sl_torture_short_io(size_t max, unsigned eintr_every);

#endif
