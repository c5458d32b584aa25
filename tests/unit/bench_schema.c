/* bench_schema: scan + check + encode cost per record for a realistic
 * 6-field record. Not a test (ctest does not run it). Build and run:
 *   gcc -std=c11 -O2 -D_GNU_SOURCE -Icore/util -Icore/record core/util/sl_buf.c core/util/sl_time.c \
 *       core/record/sl_json.c core/record/sl_schema*.c tests/unit/bench_schema.c -lm -o /tmp/bench_schema
 *   /tmp/bench_schema [records [single|array|reversed]]
 * Three cases: one NDJSON-style record per scanner (same bytes each time,
 * hot cache), a single JSON array of distinct records (like a real batch,
 * ~170 MB for 1M records), and that array with keys in reverse schema
 * order (the slow path: lookup by name, field-by-field encoding). Each is
 * timed ROUNDS times; min and median wall and thread-CPU time are printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_schema.h"

static double clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Wall time, and this thread's CPU time (which leaves out the time other
 * processes had the core: the code's own cost on a shared machine). */
typedef struct stamp {
    double wall, cpu;
} stamp;

static stamp now(void)
{
    return (stamp){clock_ns(CLOCK_MONOTONIC), clock_ns(CLOCK_THREAD_CPUTIME_ID)};
}

static stamp since(stamp t0)
{
    stamp t = now();
    return (stamp){t.wall - t0.wall, t.cpu - t0.cpu};
}

static sl_schema *contact_schema(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    char err[128];
    sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, sizeof err);
    sl_schema_add(s, "email", SL_TYPE_STRING, false, err, sizeof err);
    sl_schema_add(s, "name", SL_TYPE_STRING, false, err, sizeof err);
    sl_schema_add(s, "amount", SL_TYPE_NUMBER, true, err, sizeof err);
    sl_schema_add(s, "active", SL_TYPE_BOOLEAN, false, err, sizeof err);
    sl_schema_add(s, "created_at", SL_TYPE_DATETIME, false, err, sizeof err);
    return s;
}

static int record(char *p, size_t cap, long i, int reversed)
{
    if (reversed)
        return snprintf(p, cap,
                        "{\"created_at\":\"2024-05-%02ldT12:34:%02ld.123+02:00\","
                        "\"active\":%s,\"amount\":%ld.%02ld,"
                        "\"name\":\"Jane Q. Customer-%ld\","
                        "\"email\":\"jane.customer+%ld@example-shop.com\","
                        "\"id\":%ld}",
                        1 + i % 28, i % 60, i % 3 ? "true" : "false", i % 100000,
                        i % 100, i, i, 1000000 + i);
    return snprintf(p, cap,
                    "{\"id\":%ld,\"email\":\"jane.customer+%ld@example-shop.com\","
                    "\"name\":\"Jane Q. Customer-%ld\",\"amount\":%ld.%02ld,"
                    "\"active\":%s,\"created_at\":\"2024-05-%02ldT12:34:%02ld.123"
                    "+02:00\"}",
                    1000000 + i, i, i, i % 100000, i % 100,
                    i % 3 ? "true" : "false", 1 + i % 28, i % 60);
}

#define ROUNDS 9

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The machine may be shared: time ROUNDS passes and report the fastest
 * and the median, by wall clock and by CPU time. */
static void report(const char *what, stamp *st, long n, double bytes)
{
    double wall[ROUNDS], cpu[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        wall[r] = st[r].wall / (double)n;
        cpu[r] = st[r].cpu / (double)n;
    }
    qsort(wall, ROUNDS, sizeof wall[0], cmp_double);
    qsort(cpu, ROUNDS, sizeof cpu[0], cmp_double);
    printf("%s\n  cpu  min %6.1f ns/record, median %6.1f\n"
           "  wall min %6.1f ns/record, median %6.1f (%.0f MB/s at min)\n",
           what, cpu[0], cpu[ROUNDS / 2], wall[0], wall[ROUNDS / 2],
           bytes / (wall[0] * (double)n) * 1e3);
}

/* One record per scanner, like NDJSON lines (hot cache). */
static void bench_single(const sl_schema *s, long n)
{
    char rec[512], what[64];
    int len = record(rec, sizeof rec, 123456, 0);
    sl_buf out;
    sl_buf_init(&out, 0);
    sl_schema_error err;
    stamp st[ROUNDS];
    long ok = 0;
    for (int r = 0; r < ROUNDS; r++) {
        stamp t0 = now();
        for (long i = 0; i < n; i++) {
            sl_json js;
            sl_json_token t;
            sl_json_init(&js, rec, (size_t)len, 64);
            sl_json_next(&js, &t);
            ok += sl_schema_encode(s, &js, &t, &out, &err) == SL_SCHEMA_OK;
            if (out.len > 256 * 1024)
                sl_buf_reset(&out); /* a batch went out */
        }
        st[r] = since(t0);
    }
    if (ok != n * ROUNDS)
        printf("unexpected rejects: %ld of %ld ok\n", ok, n * ROUNDS);
    snprintf(what, sizeof what, "single %d-byte record x %ld", len, n);
    report(what, st, n, (double)len * (double)n);
    sl_buf_free(&out);
}

/* A JSON array of n distinct records, as one big request body. */
static void bench_array(const sl_schema *s, long n, int reversed)
{
    size_t cap = (size_t)n * 256 + 16, len = 0;
    char *doc = malloc(cap), what[64];
    doc[len++] = '[';
    for (long i = 0; i < n; i++) {
        if (i)
            doc[len++] = ',';
        len += (size_t)record(doc + len, cap - len, i, reversed);
    }
    doc[len++] = ']';
    sl_buf out;
    sl_buf_init(&out, 0);
    sl_schema_error err;
    stamp st[ROUNDS];
    long ok = 0;
    for (int r = 0; r < ROUNDS; r++) {
        sl_json js;
        sl_json_token t;
        stamp t0 = now();
        sl_json_init(&js, doc, len, 64);
        sl_json_next(&js, &t);
        while (sl_json_next(&js, &t) != SL_JSON_ARRAY_END) {
            ok += sl_schema_encode(s, &js, &t, &out, &err) == SL_SCHEMA_OK;
            if (out.len > 256 * 1024)
                sl_buf_reset(&out);
        }
        st[r] = since(t0);
    }
    if (ok != n * ROUNDS)
        printf("unexpected rejects: %ld of %ld ok\n", ok, n * ROUNDS);
    snprintf(what, sizeof what, "array of %ld records%s (%.0f B avg)", n,
             reversed ? ", keys reversed" : "", (double)len / (double)n);
    report(what, st, n, (double)len);
    sl_buf_free(&out);
    free(doc);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    const char *only = argc > 2 ? argv[2] : ""; /* single|array|reversed */
    sl_schema *s = contact_schema();
    if (!*only || strcmp(only, "single") == 0)
        bench_single(s, n);
    if (!*only || strcmp(only, "array") == 0)
        bench_array(s, n, 0);
    if (!*only || strcmp(only, "reversed") == 0)
        bench_array(s, n, 1);
    sl_schema_free(s);
    return 0;
}
