/* Unit tests for sl_batch: cutting from a spool (by max_records and
 * max_bytes, whichever comes first; a record larger than max_bytes goes
 * alone), the three body forms, halving into pieces and their keys, and
 * compressed pieces (each compressed on its own, once). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sl_batch.h"
#include "sl_buf.h"
#include "sl_spool.h"
#include "sl_template.h"
#include "sl_test.h"
#include "sl_test_gunzip.h"

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

/* Append the records (framed as the intake frames them) in one block. */
static void append(sl_spool *s, const char *const *recs, size_t n)
{
    sl_buf blk;
    sl_buf_init(&blk, 0);
    for (size_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)strlen(recs[i]);
        sl_buf_append(&blk, (const char *)&len, 4);
        sl_buf_append(&blk, recs[i], len);
    }
    uint64_t ticket;
    CHECK(sl_spool_append(s, &blk, n, 100, &ticket) == SL_SPOOL_OK);
    sl_buf_free(&blk);
}

/* The current piece's body as a C string. */
static const char *body(sl_batch *b)
{
    static char out[4096];
    size_t len = 0;
    CHECK(sl_batch_build(b) == 0);
    const char *p = sl_batch_body(b, &len);
    snprintf(out, sizeof out, "%.*s", (int)len, p);
    return out;
}

static sl_connector_conf conf(sl_body_form form, size_t max_records,
                              size_t max_bytes)
{
    return (sl_connector_conf){.name = "crm", .body = form,
                               .batch_max_records = max_records,
                               .batch_max_bytes = max_bytes};
}

/* Cut one batch of c from s: its body, or "" when nothing was taken. */
static const char *cut(const sl_connector_conf *c, sl_spool *s, size_t *n)
{
    static char out[4096];
    sl_batch *b = sl_batch_new(c);
    out[0] = '\0';
    *n = 0;
    int rc = sl_batch_take(b, s);
    CHECK(rc >= 0);
    if (rc == 1) {
        *n = sl_batch_count(b);
        snprintf(out, sizeof out, "%s", body(b));
        CHECK(sl_batch_cut(b)->nrecords == *n);
        sl_spool_done(s, sl_batch_cut(b));
    }
    sl_batch_free(b);
    return out;
}

static const char *const TEN[] = {"{\"i\":1000}", "{\"i\":1001}", "{\"i\":1002}",
                                  "{\"i\":1003}", "{\"i\":1004}", "{\"i\":1005}",
                                  "{\"i\":1006}"}; /* 10 bytes each */

static void test_max_records(void)
{
    struct event_base *base = event_base_new();
    sl_spool *s = memory_spool(base);
    sl_connector_conf c = conf(SL_BODY_ARRAY, 3, 1 << 20);
    size_t n;
    append(s, TEN, 7);
    CHECK_STR(cut(&c, s, &n), "[{\"i\":1000},{\"i\":1001},{\"i\":1002}]");
    CHECK(n == 3);
    CHECK_STR(cut(&c, s, &n), "[{\"i\":1003},{\"i\":1004},{\"i\":1005}]");
    CHECK_STR(cut(&c, s, &n), "[{\"i\":1006}]");
    CHECK(n == 1);
    CHECK_STR(cut(&c, s, &n), "");
    CHECK(n == 0);
    sl_spool_close(s);
    event_base_free(base);
}

/* max_bytes bounds the whole body, brackets and commas included:
 * 1 record is 12 bytes, 2 are 23, 3 are 34, 4 would be 45. */
static void test_max_bytes(void)
{
    struct event_base *base = event_base_new();
    sl_spool *s = memory_spool(base);
    size_t n;
    append(s, TEN, 7);
    sl_connector_conf c = conf(SL_BODY_ARRAY, 100, 44);
    CHECK(strlen(cut(&c, s, &n)) == 34 && n == 3);
    c.batch_max_bytes = 45;
    CHECK(strlen(cut(&c, s, &n)) == 45 && n == 4);
    CHECK_STR(cut(&c, s, &n), "");
    /* whichever comes first: records here, bytes above */
    append(s, TEN, 7);
    c = conf(SL_BODY_ARRAY, 2, 44);
    CHECK(strlen(cut(&c, s, &n)) == 23 && n == 2);
    c = conf(SL_BODY_ARRAY, 4, 44);
    CHECK(strlen(cut(&c, s, &n)) == 34 && n == 3);
    CHECK(cut(&c, s, &n)[0] && n == 2);
    /* a record larger than max_bytes goes, alone */
    static const char *const big[] = {"{\"big\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}",
                                      "{\"i\":1}"};
    append(s, big, 2);
    c = conf(SL_BODY_ARRAY, 100, 16);
    CHECK_STR(cut(&c, s, &n), "[{\"big\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}]");
    CHECK(n == 1);
    CHECK_STR(cut(&c, s, &n), "[{\"i\":1}]");
    sl_spool_close(s);
    event_base_free(base);
}

static void test_forms(void)
{
    struct event_base *base = event_base_new();
    sl_spool *s = memory_spool(base);
    size_t n;
    append(s, TEN, 5);
    sl_connector_conf c = conf(SL_BODY_NDJSON, 2, 1 << 20);
    CHECK_STR(cut(&c, s, &n), "{\"i\":1000}\n{\"i\":1001}\n");
    /* NDJSON: max_bytes counts the newlines */
    c.batch_max_bytes = 21;
    CHECK_STR(cut(&c, s, &n), "{\"i\":1002}\n");
    /* one object per request, whatever max_records says */
    c = conf(SL_BODY_OBJECT, 100, 1 << 20);
    CHECK_STR(cut(&c, s, &n), "{\"i\":1003}");
    CHECK(n == 1);
    CHECK_STR(cut(&c, s, &n), "{\"i\":1004}");
    sl_spool_close(s);
    event_base_free(base);
}

/* The key of a piece: connector, spool epoch, first record's LSN, count. */
static void check_key(sl_batch *b, const char *want_body)
{
    char want[128];
    sl_batch_piece p = sl_batch_current(b);
    CHECK_STR(body(b), want_body);
    snprintf(want, sizeof want, "crm-%016" PRIx64 "-", sl_batch_cut(b)->epoch);
    CHECK(strncmp(sl_batch_key(b), want, strlen(want)) == 0);
    snprintf(want, sizeof want, "-%zu", p.n);
    const char *k = sl_batch_key(b);
    CHECK(strcmp(k + strlen(k) - strlen(want), want) == 0);
}

static void test_pieces(void)
{
    struct event_base *base = event_base_new();
    sl_spool *s = memory_spool(base);
    append(s, TEN, 5);
    sl_connector_conf c = conf(SL_BODY_ARRAY, 100, 1 << 20);
    sl_batch *b = sl_batch_new(&c);
    CHECK(sl_batch_take(b, s) == 1 && sl_batch_count(b) == 5);
    sl_batch_piece p = sl_batch_current(b);
    CHECK(p.from == 0 && p.n == 5);
    check_key(b, "[{\"i\":1000},{\"i\":1001},{\"i\":1002},{\"i\":1003},"
                 "{\"i\":1004}]");
    char whole[128];
    snprintf(whole, sizeof whole, "%s", sl_batch_key(b));

    /* 5 -> 2 (sent) + 3 (stacked) */
    CHECK(sl_batch_split(b) == 0);
    p = sl_batch_current(b);
    CHECK(p.from == 0 && p.n == 2);
    check_key(b, "[{\"i\":1000},{\"i\":1001}]");
    char first[128];
    snprintf(first, sizeof first, "%s", sl_batch_key(b));
    CHECK(strcmp(first, whole) != 0);
    /* the same records make the same key (it names records, not tries) */
    CHECK(sl_batch_build(b) == 0);
    CHECK_STR(sl_batch_key(b), first);
    /* 2 -> 1 + 1 */
    CHECK(sl_batch_split(b) == 0);
    check_key(b, "[{\"i\":1000}]");
    CHECK(sl_batch_next(b) == 1);
    check_key(b, "[{\"i\":1001}]");
    CHECK(sl_batch_next(b) == 1);
    p = sl_batch_current(b);
    CHECK(p.from == 2 && p.n == 3);
    check_key(b, "[{\"i\":1002},{\"i\":1003},{\"i\":1004}]");
    CHECK(sl_batch_next(b) == 0);

    size_t len;
    const char *r = sl_batch_record(b, 3, &len);
    CHECK(len == 10 && memcmp(r, "{\"i\":1003}", 10) == 0);
    sl_batch_free(b);
    sl_batch_free(NULL);
    sl_spool_close(s);
    event_base_free(base);
}

/* A split piece's body in NDJSON keeps every record's newline. */
static void test_pieces_ndjson(void)
{
    struct event_base *base = event_base_new();
    sl_spool *s = memory_spool(base);
    append(s, TEN, 3);
    sl_connector_conf c = conf(SL_BODY_NDJSON, 100, 1 << 20);
    sl_batch *b = sl_batch_new(&c);
    CHECK(sl_batch_take(b, s) == 1);
    CHECK(sl_batch_split(b) == 0);
    CHECK_STR(body(b), "{\"i\":1000}\n");
    CHECK(sl_batch_next(b) == 1);
    CHECK_STR(body(b), "{\"i\":1001}\n{\"i\":1002}\n");
    sl_batch_free(b);
    sl_spool_close(s);
    event_base_free(base);
}

/* The wire body inflated, as a C string ("" and a failed CHECK when it
 * is not one valid gzip member). */
static const char *inflated(sl_batch *b)
{
    static char out[4096];
    size_t len = 0, n = 0;
    const char *w = sl_batch_wire_body(b, &len);
    unsigned char *back = sl_test_gunzip(w, len, &n);
    CHECK(back != NULL);
    snprintf(out, sizeof out, "%.*s", back ? (int)n : 0, back ? (char *)back : "");
    free(back);
    return out;
}

/* With compression each piece's final body is compressed when it is
 * built, once: building again (a retry) gives the very same bytes; a
 * split piece is compressed on its own. Without, the wire body is the
 * body. */
static void test_compressed(void)
{
    struct event_base *base = event_base_new();
    sl_spool *s = memory_spool(base);
    append(s, TEN, 5);
    sl_connector_conf c = conf(SL_BODY_ARRAY, 100, 1 << 20);
    c.compression = SL_COMPRESSION_GZIP;
    c.compression_level = 9;
    sl_batch *b = sl_batch_new(&c);
    CHECK(sl_batch_take(b, s) == 1);
    CHECK_STR(body(b), "[{\"i\":1000},{\"i\":1001},{\"i\":1002},"
                       "{\"i\":1003},{\"i\":1004}]");
    CHECK_STR(inflated(b), body(b));
    size_t len1, len2;
    const char *w1 = sl_batch_wire_body(b, &len1);
    CHECK((unsigned char)w1[0] == 0x1f && (unsigned char)w1[1] == 0x8b);
    char copy[512];
    CHECK(len1 < sizeof copy);
    memcpy(copy, w1, len1);
    CHECK(sl_batch_build(b) == 0); /* a retry: not compressed again */
    const char *w2 = sl_batch_wire_body(b, &len2);
    CHECK(w2 == w1 && len2 == len1 && memcmp(w2, copy, len1) == 0);

    CHECK(sl_batch_split(b) == 0); /* 2 + 3 */
    CHECK_STR(body(b), "[{\"i\":1000},{\"i\":1001}]");
    CHECK_STR(inflated(b), "[{\"i\":1000},{\"i\":1001}]");
    CHECK(sl_batch_next(b) == 1);
    CHECK_STR(body(b), "[{\"i\":1002},{\"i\":1003},{\"i\":1004}]");
    CHECK_STR(inflated(b), "[{\"i\":1002},{\"i\":1003},{\"i\":1004}]");
    CHECK(sl_batch_next(b) == 0);
    sl_batch_free(b);

    append(s, TEN, 2);
    c.compression = SL_COMPRESSION_NONE;
    b = sl_batch_new(&c);
    CHECK(sl_batch_take(b, s) == 1);
    CHECK(sl_batch_build(b) == 0);
    size_t blen, wlen;
    const char *bd = sl_batch_body(b, &blen);
    CHECK(sl_batch_wire_body(b, &wlen) == bd && wlen == blen);
    sl_batch_free(b);
    sl_spool_close(s);
    event_base_free(base);
}

/* ---- templates ---------------------------------------------------------- */

static sl_template *tpl(const char *text, sl_template_kind kind)
{
    char err[256] = "";
    sl_template *t = sl_template_new(text, strlen(text), kind, err, sizeof err);
    if (!t)
        fprintf(stderr, "template %s: %s\n", text, err);
    CHECK(t != NULL);
    return t;
}

/* A body with "$KEY" in place of the key: what a template put there. */
static const char *body_keyed(sl_batch *b)
{
    static char out[4096];
    const char *raw = body(b), *key = sl_batch_key(b), *at;
    size_t w = 0, kl = strlen(key);
    while ((at = strstr(raw, key)) != NULL) {
        memcpy(out + w, raw, (size_t)(at - raw));
        w += (size_t)(at - raw);
        memcpy(out + w, "$KEY", 4);
        w += 4;
        raw = at + kl;
    }
    strcpy(out + w, raw);
    return out;
}

/* Each form with a body template, a record template and both: the whole
 * batch, its split pieces wrapped again with their own key and count,
 * and the records themselves still raw. */
static void test_templates(void)
{
    struct event_base *base = event_base_new();
    sl_spool *s = memory_spool(base);
    sl_template *hs = tpl("{ \"id\": $batch_id, \"inputs\": $records, "
                          "\"n\": $count }", SL_TEMPLATE_FOR_ARRAY);
    sl_template *props = tpl("{\"properties\": $record}",
                             SL_TEMPLATE_FOR_RECORD);
    sl_template *data = tpl("{\"data\": $record, \"n\": $count}",
                            SL_TEMPLATE_FOR_OBJECT);
    size_t n, len;
    append(s, TEN, 7);

    /* both templates, array form */
    sl_connector_conf c = conf(SL_BODY_ARRAY, 100, 1 << 20);
    c.body_template = hs;
    c.record_template = props;
    sl_batch *b = sl_batch_new(&c);
    CHECK(sl_batch_take(b, s) == 1 && sl_batch_count(b) == 7);
    sl_spool_done(s, sl_batch_cut(b));
    sl_batch_split(b); /* 3 + 4 */
    CHECK(sl_batch_split(b) == 0); /* 1 + 2, + 4 */
    CHECK_STR(body_keyed(b), "{\"id\":\"$KEY\",\"inputs\":[{\"properties\":"
              "{\"i\":1000}}],\"n\":1}");
    CHECK(sl_batch_next(b) == 1);
    CHECK_STR(body_keyed(b), "{\"id\":\"$KEY\",\"inputs\":[{\"properties\":"
              "{\"i\":1001}},{\"properties\":{\"i\":1002}}],\"n\":2}");
    const char *r = sl_batch_record(b, 2, &len);
    CHECK(len == 10 && memcmp(r, "{\"i\":1002}", 10) == 0);
    CHECK(sl_batch_next(b) == 1);
    CHECK(sl_batch_current(b).n == 4);
    CHECK(sl_batch_next(b) == 0);
    sl_batch_free(b);

    /* the whole batch, built in place around the records */
    append(s, TEN, 3);
    b = sl_batch_new(&c);
    CHECK(sl_batch_take(b, s) == 1);
    CHECK_STR(body_keyed(b), "{\"id\":\"$KEY\",\"inputs\":[{\"properties\":"
              "{\"i\":1000}},{\"properties\":{\"i\":1001}},{\"properties\":"
              "{\"i\":1002}}],\"n\":3}");
    CHECK_STR(body_keyed(b), body_keyed(b)); /* built once: the same */
    r = sl_batch_record(b, 0, &len);
    CHECK(len == 10 && memcmp(r, "{\"i\":1000}", 10) == 0);
    sl_spool_done(s, sl_batch_cut(b));
    sl_batch_free(b);

    /* the body template alone, the record template alone */
    append(s, TEN, 2);
    c.record_template = NULL;
    CHECK_STR(body_keyed((b = sl_batch_new(&c), sl_batch_take(b, s), b)),
              "{\"id\":\"$KEY\",\"inputs\":[{\"i\":1000},{\"i\":1001}],"
              "\"n\":2}");
    sl_spool_done(s, sl_batch_cut(b));
    sl_batch_free(b);
    append(s, TEN, 2);
    c.body_template = NULL;
    c.record_template = props;
    CHECK_STR(cut(&c, s, &n), "[{\"properties\":{\"i\":1000}},"
              "{\"properties\":{\"i\":1001}}]");

    /* NDJSON, each line wrapped; a split piece too */
    append(s, TEN, 3);
    c.body = SL_BODY_NDJSON;
    b = sl_batch_new(&c);
    CHECK(sl_batch_take(b, s) == 1);
    CHECK_STR(body(b), "{\"properties\":{\"i\":1000}}\n{\"properties\":"
              "{\"i\":1001}}\n{\"properties\":{\"i\":1002}}\n");
    CHECK(sl_batch_split(b) == 0);
    CHECK_STR(body(b), "{\"properties\":{\"i\":1000}}\n");
    sl_spool_done(s, sl_batch_cut(b));
    sl_batch_free(b);

    /* the object form: one record, wrapped by both */
    append(s, TEN, 2);
    c = conf(SL_BODY_OBJECT, 100, 1 << 20);
    c.body_template = data;
    CHECK_STR(cut(&c, s, &n), "{\"data\":{\"i\":1000},\"n\":1}");
    c.record_template = props;
    CHECK_STR(cut(&c, s, &n), "{\"data\":{\"properties\":{\"i\":1001}},"
              "\"n\":1}");
    sl_template_free(hs);
    sl_template_free(props);
    sl_template_free(data);
    sl_spool_close(s);
    event_base_free(base);
}

/* max_bytes counts the envelope too; a first record always goes. */
static void test_template_max_bytes(void)
{
    struct event_base *base = event_base_new();
    sl_spool *s = memory_spool(base);
    /* 11 bytes of literal around 12 + 11 per extra record */
    sl_template *t = tpl("{\"inputs\": $records}", SL_TEMPLATE_FOR_ARRAY);
    sl_template *big = tpl("{\"pad\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                           "\", \"inputs\": $records}", SL_TEMPLATE_FOR_ARRAY);
    size_t n;
    append(s, TEN, 7);
    sl_connector_conf c = conf(SL_BODY_ARRAY, 100, 45);
    c.body_template = t;
    /* 3 records: 34 + 11 = 45 bytes, fits; 4 would be 56 */
    const char *got = cut(&c, s, &n);
    CHECK(n == 3 && strlen(got) == 45);
    c.batch_max_bytes = 44;
    got = cut(&c, s, &n);
    CHECK(n == 2 && strlen(got) == 34);
    /* the envelope alone is past max_bytes: one record each */
    c.body_template = big;
    c.batch_max_bytes = 40;
    got = cut(&c, s, &n);
    CHECK(n == 1);
    CHECK_STR(got, "{\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\","
              "\"inputs\":[{\"i\":1005}]}");
    sl_template_free(t);
    sl_template_free(big);
    sl_spool_close(s);
    event_base_free(base);
}

/* With compression, what is compressed is the wrapped body. */
static void test_template_compressed(void)
{
    struct event_base *base = event_base_new();
    sl_spool *s = memory_spool(base);
    sl_template *t = tpl("{\"inputs\": $records}", SL_TEMPLATE_FOR_ARRAY);
    append(s, TEN, 2);
    sl_connector_conf c = conf(SL_BODY_ARRAY, 100, 1 << 20);
    c.body_template = t;
    c.compression = SL_COMPRESSION_GZIP;
    c.compression_level = 6;
    sl_batch *b = sl_batch_new(&c);
    CHECK(sl_batch_take(b, s) == 1);
    CHECK_STR(body(b), "{\"inputs\":[{\"i\":1000},{\"i\":1001}]}");
    CHECK_STR(inflated(b), "{\"inputs\":[{\"i\":1000},{\"i\":1001}]}");
    CHECK(sl_batch_split(b) == 0);
    CHECK_STR(body(b), "{\"inputs\":[{\"i\":1000}]}");
    CHECK_STR(inflated(b), "{\"inputs\":[{\"i\":1000}]}");
    sl_batch_free(b);
    sl_template_free(t);
    sl_spool_close(s);
    event_base_free(base);
}

/* A batch of records the caller has (a preview): cut as from a new spool,
 * within the batch's limits, templates and all. */
static void test_take_records(void)
{
    const size_t lens[] = {10, 10, 10, 10, 10, 10, 10};
    sl_connector_conf c = conf(SL_BODY_ARRAY, 3, 1 << 20);
    sl_batch *b = sl_batch_new(&c);
    CHECK(sl_batch_take_records(b, TEN, lens, 0) == 0);
    CHECK(sl_batch_take_records(b, TEN, lens, 7) == 1);
    CHECK(sl_batch_count(b) == 3 && sl_batch_cut(b)->nrecords == 3);
    CHECK_STR(body(b), "[{\"i\":1000},{\"i\":1001},{\"i\":1002}]");
    CHECK_STR(sl_batch_key(b), "crm-0000000000000000-0-3");
    sl_batch_free(b);

    c = conf(SL_BODY_OBJECT, 100, 1 << 20);
    c.body_template = tpl("{\"data\": $record, \"id\": $batch_id}",
                          SL_TEMPLATE_FOR_OBJECT);
    b = sl_batch_new(&c);
    CHECK(sl_batch_take_records(b, TEN + 4, lens, 2) == 1);
    CHECK(sl_batch_count(b) == 1);
    CHECK_STR(body(b), "{\"data\":{\"i\":1004},\"id\":"
                       "\"crm-0000000000000000-0-1\"}");
    size_t len;
    const char *r = sl_batch_record(b, 0, &len);
    CHECK(len == 10 && memcmp(r, TEN[4], 10) == 0);
    sl_batch_free(b);
    sl_template_free(c.body_template);
}

/* Records picked out of the current piece (what a destination asked to
 * have again): their own piece, in their order, its body built like any
 * piece's (templates, NDJSON), its key distinct from the contiguous
 * piece's of the same first record and count but the same for the same
 * records; a pick of a picked piece, halving one, positions refused. */
static void test_pick(void)
{
    const size_t lens[] = {10, 10, 10, 10, 10, 10, 10};
    sl_connector_conf c = conf(SL_BODY_ARRAY, 100, 1 << 20);
    sl_batch *b = sl_batch_new(&c);
    CHECK(sl_batch_take_records(b, TEN, lens, 7) == 1);
    CHECK_STR(body(b), "[{\"i\":1000},{\"i\":1001},{\"i\":1002},"
              "{\"i\":1003},{\"i\":1004},{\"i\":1005},{\"i\":1006}]");
    /* refused: empty, not ascending, out of the piece */
    const size_t none[] = {0}, down[] = {3, 1}, twice[] = {2, 2},
                 out[] = {1, 7};
    CHECK(sl_batch_pick(b, none, 0) == -1);
    CHECK(sl_batch_pick(b, down, 2) == -1);
    CHECK(sl_batch_pick(b, twice, 2) == -1);
    CHECK(sl_batch_pick(b, out, 2) == -1);
    CHECK(sl_batch_current(b).n == 7 && !sl_batch_current(b).picked);

    const size_t pos[] = {0, 3, 5};
    CHECK(sl_batch_pick(b, pos, 3) == 0);
    sl_batch_piece p = sl_batch_current(b);
    CHECK(p.picked && p.n == 3);
    CHECK(sl_batch_piece_record(b, p, 0) == 0);
    CHECK(sl_batch_piece_record(b, p, 1) == 3);
    CHECK(sl_batch_piece_record(b, p, 2) == 5);
    CHECK_STR(body(b), "[{\"i\":1000},{\"i\":1003},{\"i\":1005}]");
    char key[160];
    snprintf(key, sizeof key, "%s", sl_batch_key(b));
    CHECK_STR(key, "crm-0000000000000000-0-3-pfef17983");
    /* the contiguous piece of the same first record and count differs */
    sl_batch *o = sl_batch_new(&c);
    CHECK(sl_batch_take_records(o, TEN, lens, 3) == 1);
    CHECK(sl_batch_build(o) == 0);
    CHECK_STR(sl_batch_key(o), "crm-0000000000000000-0-3");
    sl_batch_free(o);
    /* the same pick in another batch of the same records: the same key */
    o = sl_batch_new(&c);
    CHECK(sl_batch_take_records(o, TEN, lens, 7) == 1);
    CHECK(sl_batch_pick(o, pos, 3) == 0 && sl_batch_build(o) == 0);
    CHECK_STR(sl_batch_key(o), key);
    sl_batch_free(o);

    /* a pick of the picked piece maps through it (made in place) */
    const size_t last[] = {1, 2};
    CHECK(sl_batch_pick(b, last, 2) == 0);
    CHECK_STR(body(b), "[{\"i\":1003},{\"i\":1005}]");
    CHECK(sl_batch_piece_record(b, sl_batch_current(b), 1) == 5);
    /* the same records asked for again and again: the same piece */
    const size_t both[] = {0, 1};
    for (int i = 0; i < 1000; i++)
        CHECK(sl_batch_pick(b, both, 2) == 0);
    CHECK(sl_batch_current(b).from == 0 && sl_batch_current(b).n == 2);
    CHECK_STR(body(b), "[{\"i\":1003},{\"i\":1005}]");
    /* halving a picked piece: both halves stay picked */
    CHECK(sl_batch_split(b) == 0);
    CHECK_STR(body(b), "[{\"i\":1003}]");
    CHECK(sl_batch_current(b).picked);
    CHECK(sl_batch_next(b) == 1);
    CHECK(sl_batch_current(b).picked);
    CHECK_STR(body(b), "[{\"i\":1005}]");
    size_t len;
    const char *r = sl_batch_record(
        b, sl_batch_piece_record(b, sl_batch_current(b), 0), &len);
    CHECK(len == 10 && memcmp(r, "{\"i\":1005}", 10) == 0);
    CHECK(sl_batch_next(b) == 0);
    sl_batch_free(b);

    /* templates and NDJSON: the picked records wrapped as any piece's */
    c.body = SL_BODY_NDJSON;
    c.record_template = tpl("{\"properties\": $record}",
                            SL_TEMPLATE_FOR_RECORD);
    b = sl_batch_new(&c);
    CHECK(sl_batch_take_records(b, TEN, lens, 4) == 1);
    const size_t two[] = {1, 3};
    CHECK(sl_batch_pick(b, two, 2) == 0);
    CHECK_STR(body(b), "{\"properties\":{\"i\":1001}}\n"
              "{\"properties\":{\"i\":1003}}\n");
    sl_batch_free(b);
    sl_template_free(c.record_template);
    c.record_template = NULL;
    c.body = SL_BODY_ARRAY;
    c.body_template = tpl("{\"n\": $count, \"in\": $records}",
                          SL_TEMPLATE_FOR_ARRAY);
    b = sl_batch_new(&c);
    CHECK(sl_batch_take_records(b, TEN, lens, 4) == 1);
    const size_t one[] = {2};
    CHECK(sl_batch_pick(b, one, 1) == 0);
    CHECK_STR(body(b), "{\"n\":1,\"in\":[{\"i\":1002}]}");
    sl_batch_free(b);
    sl_template_free(c.body_template);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"max_records", test_max_records},
        {"max_bytes", test_max_bytes},
        {"forms", test_forms},
        {"pieces", test_pieces},
        {"pieces_ndjson", test_pieces_ndjson},
        {"compressed", test_compressed},
        {"templates", test_templates},
        {"template_max_bytes", test_template_max_bytes},
        {"template_compressed", test_template_compressed},
        {"take_records", test_take_records},
        {"pick", test_pick},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
