/* Unit tests for sl_graves: pieces kept with copies of their strings, the
 * response cut to SL_DLQ_ENTRY_RESPONSE_MAX, every record of every piece
 * written in one append with its piece's fields, NULL and "no store". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sl_batch.h"
#include "sl_buf.h"
#include "sl_dlq.h"
#include "sl_graves.h"
#include "sl_spool.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static void test_null_and_no_store(void)
{
    char err[64];
    CHECK(sl_graves_records(NULL) == 0);
    CHECK(sl_graves_write(NULL, NULL, NULL, err, sizeof err) == 0);
    sl_graves_free(NULL);
    sl_graves *g = NULL;
    sl_graves_piece p = {.from = 0, .n = 3, .reason = "x", .key = "k"};
    CHECK(sl_graves_add(&g, &p) == 0 && g);
    CHECK(sl_graves_records(g) == 3);
    /* no dead-letter store (a test or a gateway without one): nothing */
    CHECK(sl_graves_write(g, NULL, NULL, err, sizeof err) == 0);
    sl_graves_free(g);
}

typedef struct seen {
    int n;
    char lines[8][2048];
    sl_dlq_stored e[8];
} seen;

static int on_entry(void *ud, const sl_dlq_stored *e, const char *line,
                    size_t n)
{
    seen *s = ud;
    if (s->n < 8) {
        snprintf(s->lines[s->n], sizeof s->lines[0], "%.*s", (int)n, line);
        s->e[s->n] = *e;
    }
    s->n++;
    return 0;
}

static void test_written_with_their_piece(void)
{
    struct event_base *base = event_base_new();
    sl_spool_opts o = {.name = "t", .durability = SL_DURABILITY_MEMORY,
                       .max_bytes = 1 << 20};
    char err[256] = "";
    sl_spool *s = sl_spool_open(base, &o, err, sizeof err);
    CHECK(s);
    const char *recs[] = {"{\"i\":0}", "{\"i\":1}", "{\"i\":2}"};
    sl_buf blk;
    sl_buf_init(&blk, 0);
    for (size_t i = 0; i < 3; i++) {
        uint32_t len = (uint32_t)strlen(recs[i]);
        sl_buf_append(&blk, (const char *)&len, 4);
        sl_buf_append(&blk, recs[i], len);
    }
    uint64_t ticket;
    CHECK(s && sl_spool_append(s, &blk, 3, 100, &ticket) == SL_SPOOL_OK);
    sl_buf_free(&blk);
    sl_connector_conf c = {.name = "t", .body = SL_BODY_ARRAY,
                           .batch_max_records = 10,
                           .batch_max_bytes = 1 << 20};
    sl_batch *b = sl_batch_new(&c);
    CHECK(b && s && sl_batch_take(b, s) == 1);

    char dir[256];
    sl_test_dir_fresh(dir, sizeof dir, "graves");
    sl_dlq *dlq = sl_dlq_open(dir, err, sizeof err);
    CHECK(dlq);
    char big[SL_DLQ_ENTRY_RESPONSE_MAX + 100];
    memset(big, 'r', sizeof big);
    char reason[32] = "HTTP 422";
    sl_graves *g = NULL;
    sl_graves_piece p1 = {.from = 2, .n = 1, .status = 422, .attempts = 1,
                          .first_ms = 1000, .last_ms = 2000,
                          .reason = reason, .response = big,
                          .response_len = sizeof big,
                          .url = "http://h/x", .key = "t-0-2-1"};
    CHECK(sl_graves_add(&g, &p1) == 0);
    strcpy(reason, "changed"); /* copied: the caller's may go */
    sl_graves_piece p2 = {.from = 0, .n = 2, .status = 0, .attempts = 7,
                          .reason = "timeout", .key = "t-0-0-2"};
    CHECK(sl_graves_add(&g, &p2) == 0);
    CHECK(sl_graves_records(g) == 3);
    CHECK(dlq && sl_graves_write(g, b, dlq, err, sizeof err) == 0);
    sl_dlq_close(dlq);

    seen sn = {0};
    size_t bad = 1;
    CHECK(sl_dlq_each(dir, -1, NULL, 0, on_entry, &sn, &bad, err,
                      sizeof err) == 0);
    CHECK(sn.n == 3 && bad == 0);
    CHECK_CONTAINS(sn.lines[0], "\"record\":{\"i\":2}");
    CHECK_CONTAINS(sn.lines[0], "\"reason\":\"HTTP 422\"");
    CHECK_CONTAINS(sn.lines[0], "\"url\":\"http://h/x\"");
    CHECK(sn.e[0].status == 422 && sn.e[0].attempts == 1);
    CHECK(sn.e[0].response.len >= SL_DLQ_ENTRY_RESPONSE_MAX - 16 &&
          sn.e[0].response.len <= SL_DLQ_ENTRY_RESPONSE_MAX + 16);
    CHECK_CONTAINS(sn.lines[1], "\"record\":{\"i\":0}");
    CHECK_CONTAINS(sn.lines[2], "\"record\":{\"i\":1}");
    CHECK_CONTAINS(sn.lines[2], "\"reason\":\"timeout\"");
    CHECK(strstr(sn.lines[2], "\"url\"") == NULL); /* no request made */
    CHECK(sn.e[2].attempts == 7);

    sl_graves_free(g);
    sl_batch_free(b);
    sl_spool_close(s);
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* Many pieces (the array grows past its first allocation: each keeps its
 * own key), picked pieces written record by record through the batch's
 * picks, and pieces dropped after a mark. */
static void test_many_picked_dropped(void)
{
    const char *recs[] = {"{\"i\":0}", "{\"i\":1}", "{\"i\":2}",
                          "{\"i\":3}", "{\"i\":4}", "{\"i\":5}"};
    const size_t lens[] = {7, 7, 7, 7, 7, 7};
    sl_connector_conf c = {.name = "t", .body = SL_BODY_ARRAY,
                           .batch_max_records = 10,
                           .batch_max_bytes = 1 << 20};
    sl_batch *b = sl_batch_new(&c);
    CHECK(sl_batch_take_records(b, recs, lens, 6) == 1);
    const size_t pos[] = {1, 4};
    CHECK(sl_batch_pick(b, pos, 2) == 0);
    char err[256] = "", dir[256];
    sl_test_dir_fresh(dir, sizeof dir, "graves_many");
    sl_dlq *dlq = sl_dlq_open(dir, err, sizeof err);
    CHECK(dlq);
    sl_graves *g = NULL;
    char key[32];
    for (size_t i = 0; i < 6; i++) { /* one piece per record: grows twice */
        snprintf(key, sizeof key, "key-%zu", i);
        sl_graves_piece p = {.from = i, .n = 1, .status = 200,
                             .reason = "item", .key = key};
        CHECK(sl_graves_add(&g, &p) == 0);
    }
    size_t mark = sl_graves_pieces(g);
    CHECK(mark == 6 && sl_graves_records(g) == 6);
    sl_graves_piece picked = {.from = 0, .n = 2, .picked = 1, .status = 0,
                              .reason = "ran out", .key = "key-p"};
    CHECK(sl_graves_add(&g, &picked) == 0);
    CHECK(sl_graves_records(g) == 8);
    sl_graves_drop_after(g, mark);
    CHECK(sl_graves_pieces(g) == 6 && sl_graves_records(g) == 6);
    sl_graves_drop_after(NULL, 0);
    CHECK(sl_graves_add(&g, &picked) == 0);
    CHECK(dlq && sl_graves_write(g, b, dlq, err, sizeof err) == 0);
    sl_dlq_close(dlq);

    seen sn = {0};
    size_t bad = 1;
    CHECK(sl_dlq_each(dir, -1, NULL, 0, on_entry, &sn, &bad, err,
                      sizeof err) == 0);
    CHECK(sn.n == 8 && bad == 0);
    CHECK_CONTAINS(sn.lines[0], "\"batch_id\":\"key-0\"");
    CHECK_CONTAINS(sn.lines[3], "\"batch_id\":\"key-3\"");
    /* the picked piece: the batch's records 1 and 4 */
    CHECK_CONTAINS(sn.lines[6], "\"record\":{\"i\":1}");
    CHECK_CONTAINS(sn.lines[7], "\"record\":{\"i\":4}");
    CHECK_CONTAINS(sn.lines[7], "\"batch_id\":\"key-p\"");
    sl_graves_free(g);
    sl_batch_free(b);
    sl_test_rm_rf(dir);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"null_and_no_store", test_null_and_no_store},
        {"written_with_their_piece", test_written_with_their_piece},
        {"many_picked_dropped", test_many_picked_dropped},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
