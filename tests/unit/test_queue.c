/* Unit tests for sl_queue (in-memory queue) and sl_buf. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_queue.h"
#include "sl_test.h"

typedef struct collect {
    sl_buf out;
    size_t limit_bytes; /* refuse a record that would pass this */
} collect;

static int emit(void *ud, const char *rec, size_t len)
{
    collect *c = ud;
    if (c->limit_bytes && c->out.len + len + 1 > c->limit_bytes)
        return 1;
    sl_buf_append(&c->out, rec, len);
    sl_buf_putc(&c->out, '|');
    return 0;
}

static void block_of(sl_buf *b, const char *const *recs, size_t n)
{
    sl_buf_init(b, 0);
    for (size_t i = 0; i < n; i++)
        CHECK(sl_queue_frame(b, recs[i], strlen(recs[i])) == 0);
}

static void test_fifo_across_blocks(void)
{
    sl_queue *q = sl_queue_new(1 << 20);
    const char *a[] = {"a1", "a22", "a333"};
    const char *b[] = {"b1"};
    sl_buf blk;
    block_of(&blk, a, 3);
    CHECK(sl_queue_append(q, &blk, 3, 100) == SL_QUEUE_OK);
    CHECK(blk.data == NULL && blk.len == 0); /* ownership moved */
    block_of(&blk, b, 1);
    CHECK(sl_queue_append(q, &blk, 1, 200) == SL_QUEUE_OK);
    CHECK(sl_queue_count(q) == 4);
    CHECK(sl_queue_bytes(q) == 2 + 3 + 4 + 2);
    CHECK(sl_queue_oldest_ms(q) == 100);

    collect c = {.limit_bytes = 0};
    sl_buf_init(&c.out, 0);
    CHECK(sl_queue_take(q, 2, emit, &c) == 2);
    CHECK_STR(sl_buf_cstr(&c.out), "a1|a22|");
    CHECK(sl_queue_oldest_ms(q) == 100); /* a333 is still from block 1 */
    sl_buf_reset(&c.out);
    CHECK(sl_queue_take(q, 10, emit, &c) == 2);
    CHECK_STR(sl_buf_cstr(&c.out), "a333|b1|");
    CHECK(sl_queue_count(q) == 0 && sl_queue_bytes(q) == 0);
    CHECK(sl_queue_oldest_ms(q) == 0);
    CHECK(sl_queue_take(q, 10, emit, &c) == 0);
    sl_buf_free(&c.out);
    sl_queue_free(q);
}

static void test_emit_refusal_keeps_record(void)
{
    sl_queue *q = sl_queue_new(1 << 20);
    const char *a[] = {"0123456789", "abcdefghij", "KLMNOPQRST"};
    sl_buf blk;
    block_of(&blk, a, 3);
    CHECK(sl_queue_append(q, &blk, 3, 1) == SL_QUEUE_OK);
    collect c = {.limit_bytes = 23}; /* room for two records of 10 + '|' */
    sl_buf_init(&c.out, 0);
    CHECK(sl_queue_take(q, 10, emit, &c) == 2);
    CHECK(sl_queue_count(q) == 1);
    sl_buf_reset(&c.out);
    CHECK(sl_queue_take(q, 10, emit, &c) == 1);
    CHECK_STR(sl_buf_cstr(&c.out), "KLMNOPQRST|");
    sl_buf_free(&c.out);
    sl_queue_free(q);
}

static void test_full_is_all_or_nothing(void)
{
    sl_queue *q = sl_queue_new(10);
    const char *a[] = {"12345", "678"};
    const char *b[] = {"abc"};
    sl_buf blk;
    block_of(&blk, a, 2);
    CHECK(sl_queue_append(q, &blk, 2, 1) == SL_QUEUE_OK);
    block_of(&blk, b, 1);
    CHECK(sl_queue_append(q, &blk, 1, 2) == SL_QUEUE_FULL);
    CHECK(blk.data != NULL && blk.len == 4 + 3); /* still the caller's */
    CHECK(sl_queue_count(q) == 2);
    CHECK(sl_queue_has_room(q, 2));
    CHECK(!sl_queue_has_room(q, 3));
    sl_buf_free(&blk);
    sl_queue_free(q); /* frees queued chunks too (ASan checks) */
}

static void test_frame_cap(void)
{
    sl_buf b;
    sl_buf_init(&b, 8);
    CHECK(sl_queue_frame(&b, "abcd", 4) == 0);
    CHECK(sl_queue_frame(&b, "x", 1) == -1);
    CHECK(b.len == 8); /* unchanged by the failed frame */
    sl_buf_free(&b);
}

static void test_buf_cap_and_json_string(void)
{
    sl_buf b;
    sl_buf_init(&b, 16);
    CHECK(sl_buf_append(&b, "0123456789", 10) == 0);
    CHECK(sl_buf_append(&b, "0123456789", 10) == -1);
    CHECK(b.len == 10);
    CHECK(sl_buf_printf(&b, "%d", 123456) == 0);
    CHECK(sl_buf_printf(&b, "%d", 1) == -1);
    CHECK_STR(sl_buf_cstr(&b), "0123456789123456");
    sl_buf_free(&b);

    sl_buf_init(&b, 0);
    CHECK(sl_buf_json_string(&b, "a\"b\\c\n\x01", 7) == 0);
    CHECK_STR(sl_buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
    sl_buf_free(&b);

    /* a long printf goes through the slow path */
    sl_buf_init(&b, 0);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(sl_buf_printf(&b, "<%s>", big) == 0);
    CHECK(b.len == 1001);
    sl_buf_free(&b);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"fifo_across_blocks", test_fifo_across_blocks},
        {"emit_refusal_keeps_record", test_emit_refusal_keeps_record},
        {"full_is_all_or_nothing", test_full_is_all_or_nothing},
        {"frame_cap", test_frame_cap},
        {"buf_cap_and_json_string", test_buf_cap_and_json_string},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
