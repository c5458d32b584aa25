/* Torture tests for sl_gzip and a compressed batch piece (sl_torture.h):
 * sl_gzip_compress with allocation 1, 2, 3, ... failing (sticky and
 * transient, into an empty buffer and into one with room) fails with the
 * buffer empty and nothing leaked, or gives a member that inflates back
 * to the input; sl_batch_build of a gzip connector's pieces likewise
 * fails as "out of memory, try again later" and the next build gives the
 * right compressed body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sl_batch.h"
#include "sl_buf.h"
#include "sl_gzip.h"
#include "sl_spool.h"
#include "sl_test.h"
#include "sl_test_gunzip.h"
#include "sl_torture.h"

/* A JSON array of n records, as a batch body looks. */
static void json_body(sl_buf *b, size_t n)
{
    CHECK(sl_buf_putc(b, '[') == 0);
    for (size_t i = 0; i < n; i++)
        CHECK(sl_buf_printf(b, "%s{\"id\":%zu,\"email\":\"u%zu@example.com\"}",
                            i ? "," : "", i, i * 7919 % 10007) == 0);
    CHECK(sl_buf_putc(b, ']') == 0);
}

/* Does gz hold one gzip member of exactly want's bytes? */
static int inflates_to(const sl_buf *gz, const char *want, size_t len)
{
    size_t n = 0;
    unsigned char *back = sl_test_gunzip(gz->data, gz->len, &n);
    int ok = back && n == len && memcmp(back, want, len) == 0;
    free(back);
    return ok;
}

static void compress_loop(bool sticky, bool room)
{
    sl_buf in;
    sl_buf_init(&in, 0);
    json_body(&in, 4000);
    long live0 = sl_torture_live();
    unsigned long n = 1, failures = 0;
    for (; n < SL_TORTURE_MAX_N; n++) {
        sl_buf out;
        sl_buf_init(&out, 0);
        if (room)
            CHECK(sl_buf_reserve(&out, in.len * 2) == 0);
        sl_torture_arm(n, sticky);
        int rc = sl_gzip_compress(&out, in.data, in.len, 6);
        unsigned long failed = sl_torture_disarm();
        if (failed == 0) {
            CHECK(rc == 0 && inflates_to(&out, in.data, in.len));
            sl_buf_free(&out);
            break;
        }
        failures++;
        if (rc == 0) /* a transient failure it did not need */
            CHECK(!sticky && inflates_to(&out, in.data, in.len));
        else
            CHECK(out.len == 0);
        sl_buf_free(&out);
        SL_TORTURE_CHECK_LIVE(live0, n);
    }
    CHECK(failures >= 4); /* zlib's state, window, hash tables, pending */
    CHECK(n < SL_TORTURE_MAX_N);
    sl_torture_report(n, "gzip %zu bytes, %s, %s", in.len,
                      sticky ? "sticky" : "transient",
                      room ? "into a buffer with room" : "into an empty buffer");
    sl_buf_free(&in);
}

static void test_compress_sticky(void) { compress_loop(true, false); }
static void test_compress_transient(void) { compress_loop(false, false); }
static void test_compress_room(void) { compress_loop(true, true); }

/* ---- a compressed batch piece ------------------------------------------- */

static sl_spool *memory_spool(struct event_base *base)
{
    sl_spool_opts o = {.name = "test",
                       .durability = SL_DURABILITY_MEMORY,
                       .max_bytes = 1 << 20};
    char err[256] = "";
    sl_spool *s = sl_spool_open(base, &o, err, sizeof err);
    if (!s)
        fprintf(stderr, "sl_spool_open: %s\n", err);
    return s;
}

static void append(sl_spool *s, size_t nrec)
{
    sl_buf blk;
    sl_buf_init(&blk, 0);
    for (size_t i = 0; i < nrec; i++) {
        char rec[64];
        uint32_t len = (uint32_t)snprintf(rec, sizeof rec, "{\"i\":%zu}", i);
        sl_buf_append(&blk, (const char *)&len, 4);
        sl_buf_append(&blk, rec, len);
    }
    uint64_t ticket;
    CHECK(sl_spool_append(s, &blk, nrec, 100, &ticket) == SL_SPOOL_OK);
    sl_buf_free(&blk);
}

/* Build the current piece with allocation n failing (sticky): -1 and a
 * later build that works, or 0; either way the wire body then inflates
 * to the body. Returns whether an allocation was failed. */
static bool build_failing(sl_batch *b, unsigned long n)
{
    sl_torture_arm(n, true);
    int rc = sl_batch_build(b);
    unsigned long failed = sl_torture_disarm();
    if (failed)
        CHECK(rc == -1);
    else
        CHECK(rc == 0);
    CHECK(sl_batch_build(b) == 0); /* "try again later" */
    size_t blen, wlen;
    const char *body = sl_batch_body(b, &blen);
    const char *wire = sl_batch_wire_body(b, &wlen);
    sl_buf w = {(char *)wire, wlen, wlen, wlen};
    CHECK(inflates_to(&w, body, blen));
    return failed != 0;
}

static void test_batch_build(void)
{
    struct event_base *base = event_base_new();
    long live0 = sl_torture_live();
    sl_spool *s = memory_spool(base);
    sl_connector_conf c = {.name = "crm", .body = SL_BODY_ARRAY,
                           .batch_max_records = 100,
                           .batch_max_bytes = 1 << 20,
                           .compression = SL_COMPRESSION_GZIP,
                           .compression_level = 6};
    unsigned long n = 1;
    for (; n < SL_TORTURE_MAX_N; n++) {
        append(s, 10);
        sl_batch *b = sl_batch_new(&c);
        CHECK(sl_batch_take(b, s) == 1);
        /* the whole batch, then its first half (a body of its own) */
        bool failed = build_failing(b, n);
        CHECK(sl_batch_split(b) == 0);
        failed |= build_failing(b, n);
        CHECK(sl_batch_next(b) == 1);
        CHECK(sl_batch_next(b) == 0);
        sl_spool_done(s, sl_batch_cut(b));
        sl_batch_free(b);
        if (!failed)
            break;
    }
    CHECK(n < SL_TORTURE_MAX_N);
    sl_torture_report(n, "build a compressed piece and a half");
    sl_spool_close(s);
    CHECK(sl_torture_live() == live0);
    event_base_free(base);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"compress_sticky", test_compress_sticky},
        {"compress_transient", test_compress_transient},
        {"compress_room", test_compress_room},
        {"batch_build", test_batch_build},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    if (sl_torture_live() != 0) {
        fprintf(stderr, "%ld blocks still allocated at exit\n",
                sl_torture_live());
        rc = rc ? rc : 1;
    }
    return rc;
}
