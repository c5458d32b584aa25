/* sl_torture: the link-time wrappers behind sl_torture.h. Each allocation
 * call is counted and possibly failed (ENOMEM, nothing allocated); each
 * block handed out is kept in a table until freed, so that a test can see
 * what is still live. Short and interrupted I/O for pread, pwrite, writev.
 * Test support only: linked into the torture executables, never into
 * sluice. */
#include "sl_torture.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

/* the real functions (libc's, or ASan's interceptors) */
void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
ssize_t __real_pread(int fd, void *p, size_t n, off_t off);
ssize_t __real_pwrite(int fd, const void *p, size_t n, off_t off);
ssize_t __real_writev(int fd, const struct iovec *iov, int n);

/* what the core (and the test) calls instead */
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_asprintf(char **out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
ssize_t __wrap_pread(int fd, void *p, size_t n, off_t off);
ssize_t __wrap_pwrite(int fd, const void *p, size_t n, off_t off);
ssize_t __wrap_writev(int fd, const struct iovec *iov, int n);

/* The free() of the delete thread of a spool runs beside the loop
 * thread's allocations: one lock for all of the state below. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static struct {
    bool armed, sticky;
    unsigned long fail_at;   /* the nth call fails (0: none) */
    unsigned long calls;     /* since the arm */
    unsigned long failed;
    void *first_failed_from;
    size_t io_max;
    unsigned io_eintr, io_calls;
} st;

static _Thread_local int held;

/* ---- live blocks: open addressing, linear probing -----------------------
 * Keys are stored XORed with a mask, so that LeakSanitizer (which looks for
 * pointers in globals) does not take this table as a reference to the
 * blocks: a block the code leaks is still reported as leaked. */

#define TBL_BITS 18
#define TBL_SIZE ((size_t)1 << TBL_BITS)
#define TBL_MASK (TBL_SIZE - 1)
#define KEY_MASK ((uintptr_t)0xA5A5A5A5A5A5A5A5ull)

static uintptr_t tbl[TBL_SIZE]; /* 0: empty */
static size_t tbl_n;
static bool tbl_overflow;

static size_t slot_of(uintptr_t key)
{
    return (size_t)((key * (uintptr_t)0x9E3779B97F4A7C15ull) >>
                    (sizeof(uintptr_t) * 8 - TBL_BITS));
}

static void track_add(void *p)
{
    uintptr_t key = (uintptr_t)p ^ KEY_MASK;
    if (tbl_n >= TBL_SIZE / 4 * 3) {
        tbl_overflow = true;
        return;
    }
    size_t i = slot_of(key);
    while (tbl[i] && tbl[i] != key)
        i = (i + 1) & TBL_MASK;
    if (!tbl[i]) {
        tbl[i] = key;
        tbl_n++;
    }
}

/* Remove p if it is there (a block libc allocated for itself is not). The
 * entries after it in its run move back (Knuth's algorithm R). */
static void track_del(void *p)
{
    uintptr_t key = (uintptr_t)p ^ KEY_MASK;
    size_t i = slot_of(key);
    while (tbl[i] && tbl[i] != key)
        i = (i + 1) & TBL_MASK;
    if (!tbl[i])
        return;
    tbl[i] = 0;
    tbl_n--;
    for (size_t j = (i + 1) & TBL_MASK; tbl[j]; j = (j + 1) & TBL_MASK) {
        size_t home = slot_of(tbl[j]);
        /* move j back to the hole at i unless its home lies in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            tbl[i] = tbl[j];
            tbl[j] = 0;
            i = j;
        }
    }
}

/* ---- the countdown ------------------------------------------------------ */

static bool should_fail(void *from)
{
    if (held)
        return false;
    bool fail = false;
    pthread_mutex_lock(&mu);
    if (st.armed) {
        st.calls++;
        fail = st.fail_at &&
               (st.calls == st.fail_at || (st.sticky && st.calls > st.fail_at));
        if (fail && st.failed++ == 0)
            st.first_failed_from = from;
    }
    pthread_mutex_unlock(&mu);
    return fail;
}

static void *tracked(void *p)
{
    if (p) {
        pthread_mutex_lock(&mu);
        track_add(p);
        pthread_mutex_unlock(&mu);
    }
    return p;
}

static void untrack(void *p)
{
    if (p) {
        pthread_mutex_lock(&mu);
        track_del(p);
        pthread_mutex_unlock(&mu);
    }
}

void sl_torture_arm(unsigned long n, bool sticky)
{
    pthread_mutex_lock(&mu);
    st.armed = true;
    st.sticky = sticky;
    st.fail_at = n;
    st.calls = st.failed = 0;
    st.first_failed_from = NULL;
    pthread_mutex_unlock(&mu);
}

unsigned long sl_torture_disarm(void)
{
    pthread_mutex_lock(&mu);
    st.armed = false;
    unsigned long f = st.failed;
    pthread_mutex_unlock(&mu);
    return f;
}

unsigned long sl_torture_calls(void)
{
    pthread_mutex_lock(&mu);
    unsigned long c = st.calls;
    pthread_mutex_unlock(&mu);
    return c;
}

void *sl_torture_failed_at(void)
{
    pthread_mutex_lock(&mu);
    void *p = st.first_failed_from;
    pthread_mutex_unlock(&mu);
    return p;
}

long sl_torture_live(void)
{
    pthread_mutex_lock(&mu);
    long n = tbl_overflow ? -1 : (long)tbl_n;
    pthread_mutex_unlock(&mu);
    return n;
}

void sl_torture_report(unsigned long n, const char *fmt, ...)
{
    char what[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    printf("     %s: allocations 1..%lu failed in turn, %lu clean\n", what,
           n - 1, n);
}

void sl_torture_hold(void) { held++; }
void sl_torture_release(void) { held--; }

void sl_torture_libevent(void)
{
    event_set_mem_functions(__wrap_malloc, __wrap_realloc, __wrap_free);
}

void sl_torture_short_io(size_t max, unsigned eintr_every)
{
    pthread_mutex_lock(&mu);
    st.io_max = max;
    st.io_eintr = eintr_every;
    st.io_calls = 0;
    pthread_mutex_unlock(&mu);
}

/* ---- the allocators ----------------------------------------------------- */

#define FAIL_HERE() should_fail(__builtin_return_address(0))

void *__wrap_malloc(size_t n)
{
    if (FAIL_HERE()) {
        errno = ENOMEM;
        return NULL;
    }
    return tracked(__real_malloc(n));
}

void *__wrap_calloc(size_t k, size_t n)
{
    if (FAIL_HERE()) {
        errno = ENOMEM;
        return NULL;
    }
    return tracked(__real_calloc(k, n));
}

void *__wrap_realloc(void *p, size_t n)
{
    if (FAIL_HERE()) {
        errno = ENOMEM;
        return NULL; /* p is untouched, as after a real failure */
    }
    void *q = __real_realloc(p, n);
    if (q || n == 0) /* realloc(p, 0) may free p and return NULL */
        untrack(p);
    return tracked(q);
}

void __wrap_free(void *p)
{
    untrack(p);
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    if (FAIL_HERE()) {
        errno = ENOMEM;
        return NULL;
    }
    return tracked(__real_strdup(s));
}

char *__wrap_strndup(const char *s, size_t n)
{
    if (FAIL_HERE()) {
        errno = ENOMEM;
        return NULL;
    }
    return tracked(__real_strndup(s, n));
}

static int vasprintf_from(void *from, char **out, const char *fmt, va_list ap)
{
    if (should_fail(from)) {
        *out = NULL;
        errno = ENOMEM;
        return -1;
    }
    int n = __real_vasprintf(out, fmt, ap);
    if (n >= 0)
        tracked(*out);
    return n;
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    return vasprintf_from(__builtin_return_address(0), out, fmt, ap);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf_from(__builtin_return_address(0), out, fmt, ap);
    va_end(ap);
    return n;
}

/* ---- short and interrupted I/O ------------------------------------------ */

/* How many bytes this call may move (n: all); -1: fail it with EINTR. */
static ssize_t io_allow(size_t n)
{
    pthread_mutex_lock(&mu);
    bool intr = st.io_eintr && ++st.io_calls % st.io_eintr == 0;
    size_t max = st.io_max;
    pthread_mutex_unlock(&mu);
    if (intr) {
        errno = EINTR;
        return -1;
    }
    return (ssize_t)(max && n > max ? max : n);
}

ssize_t __wrap_pread(int fd, void *p, size_t n, off_t off)
{
    ssize_t k = io_allow(n);
    return k < 0 ? -1 : __real_pread(fd, p, (size_t)k, off);
}

ssize_t __wrap_pwrite(int fd, const void *p, size_t n, off_t off)
{
    ssize_t k = io_allow(n);
    return k < 0 ? -1 : __real_pwrite(fd, p, (size_t)k, off);
}

ssize_t __wrap_writev(int fd, const struct iovec *iov, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    ssize_t k = io_allow(total);
    if (k < 0)
        return -1;
    if ((size_t)k == total)
        return __real_writev(fd, iov, n);
    /* the first k bytes only: a copy of the vector cut there */
    struct iovec v[64];
    int m = 0;
    for (size_t left = (size_t)k; m < n && m < 64 && left > 0; m++) {
        v[m] = iov[m];
        if (v[m].iov_len > left)
            v[m].iov_len = left;
        left -= v[m].iov_len;
    }
    return __real_writev(fd, v, m);
}
