/* Unit tests for sl_gzip: what it makes is checked by zlib's inflate
 * (round trips of empty, small, large and incompressible bodies at every
 * level, around each window size), the gzip header, the same bytes for
 * the same input, the buffer cap, a level out of range and a buffer
 * reused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "sl_buf.h"
#include "sl_gzip.h"
#include "sl_test.h"
#include "sl_test_gunzip.h"

/* Compress at `level` and inflate again: CHECK that the bytes come back. */
static size_t round_trip(const void *src, size_t len, int level)
{
    sl_buf gz;
    sl_buf_init(&gz, 0);
    CHECK(sl_gzip_compress(&gz, src, len, level) == 0);
    size_t n = 0;
    unsigned char *back = sl_test_gunzip(gz.data, gz.len, &n);
    CHECK(back != NULL);
    CHECK(n == len);
    CHECK(back && (len == 0 || memcmp(back, src, len) == 0));
    CHECK(gz.len >= 18); /* 10 header + 8 trailer bytes at least */
    CHECK((unsigned char)gz.data[0] == 0x1f &&
          (unsigned char)gz.data[1] == 0x8b && gz.data[2] == 8);
    free(back);
    size_t out = gz.len;
    sl_buf_free(&gz);
    return out;
}

/* A JSON array of n records, as a batch body looks. */
static char *json_body(size_t n, size_t *len)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++)
        sl_buf_printf(&b, "%s{\"id\":%zu,\"email\":\"user%zu@example.com\","
                      "\"amount\":%zu.%02zu,\"active\":%s}", i ? "," : "", i,
                      i * 7919 % 100003, i * 31 % 1000, i % 100,
                      i % 3 ? "true" : "false");
    sl_buf_putc(&b, ']');
    *len = b.len;
    return b.data;
}

static void test_empty(void)
{
    CHECK(round_trip(NULL, 0, 6) == 20); /* header, empty block, trailer */
    CHECK(round_trip("", 0, 1) > 0);
}

static void test_small_every_level(void)
{
    const char *rec = "{\"id\":1,\"email\":\"a@example.com\"}";
    for (int level = SL_GZIP_LEVEL_MIN; level <= SL_GZIP_LEVEL_MAX; level++)
        round_trip(rec, strlen(rec), level);
}

/* Around each window size (the window grows with the input): every
 * length still round-trips, and a repeat 300 bytes back in a body just
 * past a window's reach is still found by a larger window. */
static void test_window_sizes(void)
{
    size_t len;
    char *body = json_body(600, &len); /* ~40 KiB */
    for (int wbits = 9; wbits <= 15; wbits++) {
        size_t edge = ((size_t)1 << wbits) - 262;
        for (size_t l = edge - 1; l <= edge + 1 && l <= len; l++)
            round_trip(body, l, 6);
    }
    round_trip(body, len, 6);
    free(body);
    /* a 400-byte block repeated: the second copy is a match 400 back */
    char rep[800];
    for (size_t i = 0; i < 400; i++)
        rep[i] = rep[400 + i] = (char)('a' + (i * 7919) % 26);
    size_t once = round_trip(rep, 400, 6), twice = round_trip(rep, 800, 6);
    CHECK(twice < once + 20);
}

static void test_levels_compress_more(void)
{
    size_t len;
    char *body = json_body(20000, &len);
    size_t fast = round_trip(body, len, 1);
    size_t def = round_trip(body, len, SL_GZIP_LEVEL_DEFAULT);
    size_t best = round_trip(body, len, 9);
    CHECK(fast < len / 3);
    CHECK(def <= fast);
    CHECK(best <= def);
    free(body);
}

static void test_large_body(void)
{
    size_t len;
    char *body = json_body(150000, &len); /* ~10 MiB */
    CHECK(len > 8u << 20);
    CHECK(round_trip(body, len, 6) < len / 3);
    free(body);
}

static void test_incompressible(void)
{
    size_t len = 1 << 20;
    unsigned char *noise = malloc(len);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise[i] = (unsigned char)x;
    }
    /* stored blocks: a little larger, never more than deflateBound */
    size_t n = round_trip(noise, len, 9);
    CHECK(n > len && n < len + len / 100);
    free(noise);
}

static void test_deterministic(void)
{
    size_t len;
    char *body = json_body(500, &len);
    sl_buf a, b;
    sl_buf_init(&a, 0);
    sl_buf_init(&b, 0);
    CHECK(sl_gzip_compress(&a, body, len, 6) == 0);
    CHECK(sl_gzip_compress(&b, body, len, 6) == 0);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    /* no time in the header: MTIME (bytes 4..7) is 0 */
    CHECK(a.data[4] == 0 && a.data[5] == 0 && a.data[6] == 0 && a.data[7] == 0);
    sl_buf_free(&a);
    sl_buf_free(&b);
    free(body);
}

static void test_reuse_replaces(void)
{
    sl_buf gz;
    sl_buf_init(&gz, 0);
    size_t len;
    char *body = json_body(1000, &len);
    CHECK(sl_gzip_compress(&gz, body, len, 6) == 0);
    CHECK(sl_gzip_compress(&gz, "[]", 2, 6) == 0); /* replaces, not appends */
    size_t n = 0;
    unsigned char *back = sl_test_gunzip(gz.data, gz.len, &n);
    CHECK(back && n == 2 && memcmp(back, "[]", 2) == 0);
    free(back);
    sl_buf_free(&gz);
    free(body);
}

static void test_cap_and_bad_level(void)
{
    size_t len;
    char *body = json_body(1000, &len);
    sl_buf gz;
    sl_buf_init(&gz, 64); /* less than deflateBound of the body */
    CHECK(sl_gzip_compress(&gz, body, len, 6) == -1);
    CHECK(gz.len == 0);
    sl_buf_free(&gz);
    sl_buf_init(&gz, 0);
    CHECK(sl_gzip_compress(&gz, "x", 1, 6) == 0);
    CHECK(sl_gzip_compress(&gz, body, len, 0) == -1);
    CHECK(gz.len == 0);
    CHECK(sl_gzip_compress(&gz, body, len, 10) == -1);
    CHECK(sl_gzip_compress(&gz, body, len, -1) == -1);
    sl_buf_free(&gz);
    free(body);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"empty", test_empty},
        {"small_every_level", test_small_every_level},
        {"window_sizes", test_window_sizes},
        {"levels_compress_more", test_levels_compress_more},
        {"large_body", test_large_body},
        {"incompressible", test_incompressible},
        {"deterministic", test_deterministic},
        {"reuse_replaces", test_reuse_replaces},
        {"cap_and_bad_level", test_cap_and_bad_level},
        {NULL, NULL}};
    return sl_test_run(cases);
}
