/* sl_send_reply: a pull parse (sl_json) of an intake answer. */
#include "sl_send_reply.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_json.h"

static bool key_is(const sl_json_token *t, const char *k)
{
    return t->len == strlen(k) && memcmp(t->p, k, t->len) == 0;
}

static int get_size(sl_json *s, size_t *out)
{
    sl_json_token t;
    int64_t v;
    if (sl_json_next(s, &t) != SL_JSON_NUMBER || !(t.flags & SL_JSON_F_INT) ||
        sl_json_parse_int64(t.p, t.len, &v) != 0 || v < 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int get_string(sl_json *s, char *dst, size_t cap)
{
    sl_json_token t;
    size_t n = 0;
    if (sl_json_next(s, &t) != SL_JSON_STRING)
        return -1;
    if (sl_json_unescape_into(t.p, t.len, dst, cap - 1, &n) != 0) {
        n = cap - 1 < t.len ? cap - 1 : t.len; /* too long: as written */
        memcpy(dst, t.p, n);
    }
    dst[n] = '\0';
    return 0;
}

/* One {"index":i,"field":..,"error":..}; its '{' was read. */
static int rejection(sl_json *s, sl_send_reply_fn fn, void *ud)
{
    char field[512] = "", error[1024] = "";
    size_t index = SIZE_MAX;
    sl_json_token t;
    sl_json_type ty;
    while ((ty = sl_json_next(s, &t)) == SL_JSON_KEY) {
        int rc;
        if (key_is(&t, "index"))
            rc = get_size(s, &index);
        else if (key_is(&t, "field"))
            rc = get_string(s, field, sizeof field);
        else if (key_is(&t, "error"))
            rc = get_string(s, error, sizeof error);
        else {
            sl_json_token v;
            sl_json_next(s, &v);
            rc = sl_json_skip(s, &v);
        }
        if (rc != 0)
            return -1;
    }
    if (ty != SL_JSON_OBJECT_END || index == SIZE_MAX)
        return -1;
    if (fn)
        fn(ud, index, field, error);
    return 0;
}

static int rejections(sl_json *s, sl_send_reply *a, sl_send_reply_fn fn,
                      void *ud)
{
    sl_json_token t;
    if (sl_json_next(s, &t) != SL_JSON_ARRAY_BEGIN)
        return -1;
    sl_json_type ty;
    size_t listed = 0;
    while ((ty = sl_json_next(s, &t)) == SL_JSON_OBJECT_BEGIN) {
        if (rejection(s, fn, ud) != 0)
            return -1;
        listed++;
    }
    if (ty != SL_JSON_ARRAY_END)
        return -1;
    if (a->rejected < listed)
        a->rejected = listed;
    return 0;
}

int sl_send_reply_parse(const char *p, size_t n, sl_send_reply *a,
                         sl_send_reply_fn fn, void *ud)
{
    memset(a, 0, sizeof *a);
    sl_json s;
    sl_json_token t;
    sl_json_init(&s, p, n, 0);
    bool seen = false;
    if (sl_json_next(&s, &t) != SL_JSON_OBJECT_BEGIN)
        goto bad;
    sl_json_type ty;
    while ((ty = sl_json_next(&s, &t)) == SL_JSON_KEY) {
        int rc = 0;
        size_t total = 0;
        if (key_is(&t, "accepted")) {
            rc = get_size(&s, &a->accepted);
            seen = true;
        } else if (key_is(&t, "dropped"))
            rc = get_size(&s, &a->dropped);
        else if (key_is(&t, "rejected"))
            rc = rejections(&s, a, fn, ud);
        else if (key_is(&t, "rejected_total")) {
            rc = get_size(&s, &total);
            if (total > a->rejected)
                a->rejected = total;
        } else if (key_is(&t, "error")) {
            rc = get_string(&s, a->error, sizeof a->error);
        } else {
            sl_json_token v;
            if (key_is(&t, "rejected_truncated"))
                a->truncated = true;
            sl_json_next(&s, &v);
            rc = sl_json_skip(&s, &v);
        }
        if (rc != 0)
            goto bad;
    }
    if (ty != SL_JSON_OBJECT_END || sl_json_next(&s, &t) != SL_JSON_END)
        goto bad;
    if (!seen && !a->error[0])
        goto bad;
    return 0;
bad:
    snprintf(a->error, sizeof a->error, "the intake's answer is not one "
             "sluice reads: %.*s", n > 200 ? 200 : (int)n, p);
    return -1;
}
