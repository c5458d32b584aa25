/* sl_send_merge: reading, checking and adding up the intake's answers to
 * the parts of one batch. */
#include "sl_send_merge.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sl_json.h"

#define ANSWER_DEPTH 8 /* answer > rejected > rejection > its members */

void sl_send_merge_init(sl_send_merge *a, size_t max, bool fanout)
{
    memset(a, 0, sizeof *a);
    a->fanout = fanout;
    sl_buf_init(&a->items, max);
}

void sl_send_merge_free(sl_send_merge *a) { sl_buf_free(&a->items); }

static int bad(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "the gateway's answer is not the intake's JSON: "
             "%s", what);
    return -1;
}

/* A non-negative JSON integer token into *v. */
static int count_of(const sl_json_token *t, size_t *v)
{
    int64_t n;
    if (t->type != SL_JSON_NUMBER || !(t->flags & SL_JSON_F_INT) ||
        sl_json_parse_int64(t->p, t->len, &n) != 0 || n < 0)
        return -1;
    *v = (size_t)n;
    return 0;
}

/* The bytes of the value whose first token is *t, up to the scanner's
 * position after it (a string's quotes included). */
static const char *value_start(const sl_json_token *t)
{
    return t->type == SL_JSON_STRING ? t->p - 1 : t->p;
}

/* Copy one rejection object (its OBJECT_BEGIN read) to items, "index"
 * rebased by offset. */
static int add_rejection(sl_send_merge *a, sl_json *s, size_t offset,
                         size_t records, char *err, size_t errlen)
{
    sl_buf *o = &a->items;
    int have_index = 0, first = 1;
    if (a->listed > 0 && sl_buf_putc(o, ',') != 0)
        return bad(err, errlen, "too many rejections");
    if (sl_buf_putc(o, '{') != 0)
        return bad(err, errlen, "too many rejections");
    for (;;) {
        sl_json_token k, v;
        sl_json_type ty = sl_json_next(s, &k);
        if (ty == SL_JSON_OBJECT_END)
            break;
        if (ty != SL_JSON_KEY || sl_json_next(s, &v) == SL_JSON_ERROR)
            return bad(err, errlen, "a rejection is not an object");
        const char *vs = value_start(&v);
        if (sl_json_skip(s, &v) != 0)
            return bad(err, errlen, s->err);
        int rc = first ? 0 : sl_buf_putc(o, ',');
        first = 0;
        rc |= sl_buf_putc(o, '"') | sl_buf_append(o, k.p, k.len) |
              sl_buf_append(o, "\":", 2);
        if (k.len == 5 && memcmp(k.p, "index", 5) == 0) {
            size_t i;
            if (count_of(&v, &i) != 0 || i >= records)
                return bad(err, errlen, "a rejection's index is not one of "
                           "the records sent");
            rc |= sl_buf_printf(o, "%zu", i + offset);
            have_index = 1;
        } else {
            rc |= sl_buf_append(o, vs, (size_t)(s->cur - vs));
        }
        if (rc != 0)
            return bad(err, errlen, "too many rejections");
    }
    if (!have_index)
        return bad(err, errlen, "a rejection has no index");
    if (sl_buf_putc(o, '}') != 0)
        return bad(err, errlen, "too many rejections");
    a->listed++;
    return 0;
}

static int add_rejections(sl_send_merge *a, sl_json *s, size_t offset,
                          size_t records, size_t *n, char *err, size_t errlen)
{
    sl_json_token t;
    for (;;) {
        sl_json_type ty = sl_json_next(s, &t);
        if (ty == SL_JSON_ARRAY_END)
            return 0;
        if (ty != SL_JSON_OBJECT_BEGIN)
            return bad(err, errlen, "\"rejected\" holds a non-object");
        if (add_rejection(a, s, offset, records, err, errlen) != 0)
            return -1;
        (*n)++;
    }
}

int sl_send_merge_add(sl_send_merge *a, const char *body, size_t len,
                       size_t offset, size_t records, char *err,
                       size_t errlen)
{
    sl_json s;
    sl_json_token k, v;
    size_t accepted = 0, dropped = 0, listed = 0, total = 0;
    int have_accepted = 0, have_rejected = 0, have_total = 0;
    bool truncated = false;
    sl_json_init(&s, body, len, ANSWER_DEPTH);
    if (sl_json_next(&s, &k) != SL_JSON_OBJECT_BEGIN)
        return bad(err, errlen, "not an object");
    for (;;) {
        sl_json_type ty = sl_json_next(&s, &k);
        if (ty == SL_JSON_OBJECT_END)
            break;
        if (ty != SL_JSON_KEY || sl_json_next(&s, &v) == SL_JSON_ERROR)
            return bad(err, errlen, s.err ? s.err : "expected a member");
#define KEY_IS(lit) (k.len == sizeof lit - 1 && memcmp(k.p, lit, k.len) == 0)
        int rc = 0;
        if (KEY_IS("accepted")) {
            rc = count_of(&v, &accepted);
            have_accepted = 1;
        } else if (KEY_IS("dropped")) {
            rc = count_of(&v, &dropped);
        } else if (KEY_IS("rejected_total")) {
            rc = count_of(&v, &total);
            have_total = 1;
        } else if (KEY_IS("rejected_truncated")) {
            truncated = v.type == SL_JSON_TRUE;
            rc = v.type == SL_JSON_TRUE || v.type == SL_JSON_FALSE ? 0 : -1;
        } else if (KEY_IS("rejected")) {
            if (v.type != SL_JSON_ARRAY_BEGIN)
                return bad(err, errlen, "\"rejected\" is not an array");
            if (add_rejections(a, &s, offset, records, &listed, err,
                               errlen) != 0)
                return -1;
            have_rejected = 1;
        } else if (sl_json_skip(&s, &v) != 0) {
            return bad(err, errlen, s.err);
        }
#undef KEY_IS
        if (rc != 0)
            return bad(err, errlen, "a count is not a non-negative integer");
    }
    if (sl_json_next(&s, &k) != SL_JSON_END)
        return bad(err, errlen, s.err ? s.err : "trailing bytes");
    if (!have_accepted || !have_rejected)
        return bad(err, errlen, "no \"accepted\" or no \"rejected\"");
    size_t rejected = have_total ? total : listed;
    if (rejected < listed ||
        (!a->fanout && accepted + dropped + rejected > records))
        return bad(err, errlen, "its counts exceed the records sent");
    a->accepted += accepted;
    a->dropped += dropped;
    a->rejected += rejected;
    a->truncated = a->truncated || truncated || rejected > listed;
    return 0;
}

int sl_send_merge_reject(sl_send_merge *a, size_t index, const char *error)
{
    sl_buf *o = &a->items;
    size_t len = o->len;
    int rc = a->listed > 0 ? sl_buf_putc(o, ',') : 0;
    rc |= sl_buf_printf(o, "{\"index\":%zu,\"field\":\"\",\"error\":", index);
    rc |= sl_buf_json_string(o, error, strlen(error));
    rc |= sl_buf_putc(o, '}');
    if (rc != 0) {
        sl_buf_truncate(o, len);
        return -1;
    }
    a->listed++;
    a->rejected++;
    return 0;
}

int sl_send_merge_write(const sl_send_merge *a, sl_buf *out)
{
    int rc = sl_buf_printf(out, "{\"accepted\":%zu,", a->accepted);
    if (a->dropped > 0)
        rc |= sl_buf_printf(out, "\"dropped\":%zu,", a->dropped);
    rc |= sl_buf_append(out, "\"rejected\":[", 12);
    if (a->items.len > 0)
        rc |= sl_buf_append(out, a->items.data, a->items.len);
    rc |= sl_buf_putc(out, ']');
    if (a->truncated || a->rejected > a->listed)
        rc |= sl_buf_printf(out, ",\"rejected_total\":%zu,"
                            "\"rejected_truncated\":true", a->rejected);
    rc |= sl_buf_putc(out, '}');
    if (rc != 0)
        return -1;
    return a->accepted == 0 && a->rejected > 0 && a->dropped == 0 ? 422 : 200;
}
