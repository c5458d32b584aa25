/* Unit tests for sl_workers (every task once, on any pool size) and
 * sl_pieces (a chunk checked in pieces gives what one sl_ingest gives). */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_ingest.h"
#include "sl_pieces.h"
#include "sl_test.h"
#include "sl_workers.h"

#define NTASKS 1000

typedef struct count {
    atomic_int runs[NTASKS];
} count;

static void count_task(void *ud, size_t i)
{
    count *c = ud;
    atomic_fetch_add(&c->runs[i], 1);
}

static void test_workers_every_task_once(void)
{
    for (unsigned helpers = 0; helpers <= 3; helpers++) {
        char err[128];
        sl_workers *w = sl_workers_new(helpers, err, sizeof err);
        CHECK(w != NULL);
        CHECK(sl_workers_helpers(w) == helpers);
        for (size_t n = 0; n <= NTASKS; n = n ? n * 10 : 1) {
            for (int round = 0; round < 20; round++) {
                static count c;
                for (size_t i = 0; i < NTASKS; i++)
                    atomic_store(&c.runs[i], 0);
                sl_workers_run(w, n, count_task, &c);
                int bad = 0;
                for (size_t i = 0; i < NTASKS; i++)
                    bad += atomic_load(&c.runs[i]) != (i < n ? 1 : 0);
                CHECK(bad == 0);
            }
        }
        sl_workers_free(w);
    }
    sl_workers_free(NULL);
    count c;
    memset(&c, 0, sizeof c);
    sl_workers_run(NULL, 3, count_task, &c); /* no pool: all here */
    CHECK(atomic_load(&c.runs[0]) == 1 && atomic_load(&c.runs[2]) == 1);
}

static sl_schema *schema(void)
{
    char err[128];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "name", SL_TYPE_STRING, true, err, sizeof err) == 0);
    return s;
}

/* NDJSON of n lines: valid records, blank lines, schema violations and
 * malformed JSON, from a fixed seed. */
static char *ndjson(size_t n, unsigned seed, size_t *len)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        int r = rand() % 100;
        if (r < 3)
            sl_buf_append(&b, " \t\n", 3);
        else if (r < 6)
            sl_buf_printf(&b, "{\"id\":%zu,,}\n", i);
        else if (r < 10)
            sl_buf_printf(&b, "{\"id\":\"%zu\"}\n", i);
        else
            sl_buf_printf(&b, "{ \"name\" : \"n\\u00e9%zu\", \"id\":%zu}\n", i, i);
    }
    *len = b.len;
    return b.data;
}

/* The rejections of the pieces, re-indexed as one list over the chunk. */
static void joined_rejects(sl_pieces *p, sl_buf *out)
{
    size_t base = 0;
    for (size_t i = 0; i < sl_pieces_count(p); i++) {
        const char *d;
        size_t len, listed;
        const sl_buf *rej;
        sl_pieces_piece(p, i, &d, &len, &rej, &listed);
        const char *r = rej->data, *end = r + rej->len;
        while (listed && r && r < end) {
            static const char key[] = "{\"index\":";
            CHECK(memcmp(r, key, sizeof key - 1) == 0);
            char *after;
            unsigned long idx = strtoul(r + sizeof key - 1, &after, 10);
            const char *next = memmem(r + 1, (size_t)(end - r - 1), ",{\"index\":",
                                      sizeof key);
            const char *stop = next ? next : end;
            if (out->len)
                sl_buf_putc(out, ',');
            sl_buf_printf(out, "{\"index\":%lu", base + idx);
            sl_buf_append(out, after, (size_t)(stop - after));
            r = next ? next + 1 : end;
        }
        /* non-blank lines of this piece */
        for (const char *q = d, *e = d + len; q < e;) {
            const char *nl = memchr(q, '\n', (size_t)(e - q));
            const char *le = nl ? nl : e;
            int blank = 1;
            for (const char *c = q; c < le; c++)
                if (*c != ' ' && *c != '\t' && *c != '\r')
                    blank = 0;
            base += !blank;
            q = nl ? nl + 1 : e;
        }
    }
}

static void test_pieces_match_one_ingest(void)
{
    sl_schema *s = schema();
    char err[128];
    sl_pieces *p = sl_pieces_new(2, err, sizeof err);
    CHECK(p != NULL);
    for (unsigned seed = 1; seed <= 6; seed++) {
        size_t len;
        char *data = ndjson(500 + 2000 * seed, seed, &len);
        sl_ingest_limits lim = {.depth = 8};
        sl_buf b1, r1, b2, r2;
        sl_buf_init(&b1, 0);
        sl_buf_init(&r1, 0);
        sl_buf_init(&b2, 0);
        sl_buf_init(&r2, 0);
        sl_ingest_result res1, res2;
        CHECK(sl_ingest(s, NULL, SL_INGEST_NDJSON, data, len, &lim, &b1, &r1,
                        &res1) == 0);
        sl_buf_append(&b2, "prefix", 6); /* appended after what is there */
        CHECK(sl_pieces_ingest(p, s, data, len, &lim, &b2, &res2) == 0);
        CHECK(sl_pieces_count(p) >= len / SL_PIECES_BYTES);
        CHECK(res1.accepted == res2.accepted && res1.rejected == res2.rejected);
        CHECK(res1.dropped == res2.dropped && res2.rejected > 0);
        CHECK(res1.lines == res2.lines && res2.lines > 0);
        CHECK(b2.len == b1.len + 6 && memcmp(b2.data + 6, b1.data, b1.len) == 0);
        /* the pieces cover the chunk, in order, at line ends */
        const char *at = data;
        for (size_t i = 0; i < sl_pieces_count(p); i++) {
            const char *d;
            size_t pl, listed;
            const sl_buf *rej;
            sl_pieces_piece(p, i, &d, &pl, &rej, &listed);
            CHECK(d == at && pl > 0 && d[pl - 1] == '\n');
            at = d + pl;
        }
        CHECK(at == data + len);
        if (res1.listed == res1.rejected) { /* all listed: the same list */
            joined_rejects(p, &r2);
            CHECK(r1.len == r2.len &&
                  memcmp(r1.data, r2.data, r1.len) == 0);
        }
        sl_buf_free(&b1);
        sl_buf_free(&r1);
        sl_buf_free(&b2);
        sl_buf_free(&r2);
        free(data);
    }
    sl_pieces_free(p);
    sl_pieces_free(NULL);
    sl_schema_free(s);
}

static void test_pieces_cap_restores(void)
{
    sl_schema *s = schema();
    char err[128];
    sl_pieces *p = sl_pieces_new(1, err, sizeof err);
    size_t len;
    char *data = ndjson(3000, 9, &len);
    sl_buf b;
    sl_buf_init(&b, 1000); /* far less than the records */
    sl_buf_append(&b, "x", 1);
    sl_ingest_result res;
    CHECK(sl_pieces_ingest(p, s, data, len, NULL, &b, &res) == -1);
    CHECK(b.len == 1 && res.accepted == 0 && res.rejected == 0);
    for (size_t i = 0; i < sl_pieces_count(p); i++) {
        const char *d;
        size_t pl, listed;
        const sl_buf *rej;
        sl_pieces_piece(p, i, &d, &pl, &rej, &listed);
        CHECK(listed == 0);
    }
    sl_buf_free(&b);
    free(data);
    sl_pieces_free(p);
    sl_schema_free(s);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"workers_every_task_once", test_workers_every_task_once},
        {"pieces_match_one_ingest", test_pieces_match_one_ingest},
        {"pieces_cap_restores", test_pieces_cap_restores},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
