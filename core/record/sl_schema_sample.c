/* sl_schema_sample: a made-up record that a schema accepts, value by value
 * from each field's type and rules. */
#include "sl_schema_sample.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_schema_rules.h"

static int put_value(const sl_schema_node *n, const char *name, sl_buf *out);

/* Bytes of the first `cp` code points of p[0..len). */
static size_t prefix_bytes(const char *p, size_t len, size_t cp)
{
    size_t i = 0;
    while (i < len && cp > 0) {
        i++;
        while (i < len && ((unsigned char)p[i] & 0xC0) == 0x80)
            i++;
        cp--;
    }
    return i;
}

static size_t code_points(const char *p, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)p[i] & 0xC0) != 0x80;
    return n;
}

/* "name-1", fitted to the string rules r (NULL: none). Field names need
 * no escaping in JSON (sl_schema_add refuses those that do). */
static int put_string(const sl_schema_rules *r, const char *name,
                      sl_buf *out)
{
    char text[SL_SCHEMA_NAME_MAX + 8];
    if (r && r->nenum)
        return sl_buf_json_string(out, r->enum_values[0].p,
                                  r->enum_values[0].len);
    size_t len = (size_t)snprintf(text, sizeof text, "%s-1",
                                  *name ? name : "text");
    size_t cp = code_points(text, len);
    if (r && r->has_max_length && cp > r->max_length) {
        len = prefix_bytes(text, len, r->max_length);
        cp = r->max_length;
    }
    size_t pad = 0;
    if (r && r->has_min_length && cp < r->min_length)
        pad = r->min_length - cp;
    if (pad > SL_SCHEMA_SAMPLE_PAD_MAX)
        pad = SL_SCHEMA_SAMPLE_PAD_MAX;
    if (sl_buf_reserve(out, len + pad + 2) != 0)
        return -1;
    out->data[out->len++] = '"';
    memcpy(out->data + out->len, text, len);
    out->len += len;
    memset(out->data + out->len, 'x', pad);
    out->len += pad;
    out->data[out->len++] = '"';
    return 0;
}

static int put_integer(const sl_schema_rules *r, sl_buf *out)
{
    int64_t v = 1;
    if (r && r->has_min && v < r->imin)
        v = r->imin;
    if (r && r->has_max && v > r->imax)
        v = r->imax;
    return sl_buf_printf(out, "%lld", (long long)v);
}

static int put_number(const sl_schema_rules *r, sl_buf *out)
{
    double v = 1.5;
    if (r && r->has_min && v < r->nmin)
        v = r->nmin;
    if (r && r->has_max && v > r->nmax)
        v = r->nmax;
    char text[32];
    snprintf(text, sizeof text, "%.15g", v); /* 2.25, not 2.2500000000000001 */
    if (strtod(text, NULL) != v)
        snprintf(text, sizeof text, "%.17g", v);
    return sl_buf_append(out, text, strlen(text));
}

/* The fields of list s as an object. */
static int put_object(const sl_schema *s, sl_buf *out)
{
    size_t n = sl_schema_nfields(s);
    if (sl_buf_putc(out, '{') != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *name = sl_schema_field_name(s, i);
        if ((i && sl_buf_putc(out, ',') != 0) ||
            sl_buf_json_string(out, name, strlen(name)) != 0 ||
            sl_buf_putc(out, ':') != 0 ||
            put_value(sl_schema_field(s, i), name, out) != 0)
            return -1;
    }
    return sl_buf_putc(out, '}');
}

static int put_array(const sl_schema_node *n, const char *name, sl_buf *out)
{
    size_t count = sl_schema_node_min_items(n);
    if (count == 0)
        count = 1;
    if (sl_schema_node_max_items(n) && count > sl_schema_node_max_items(n))
        count = sl_schema_node_max_items(n);
    if (sl_buf_putc(out, '[') != 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        if ((i && sl_buf_putc(out, ',') != 0) ||
            put_value(sl_schema_node_items(n), name, out) != 0)
            return -1;
    return sl_buf_putc(out, ']');
}

static int put_value(const sl_schema_node *n, const char *name, sl_buf *out)
{
    sl_schema_rules rules, *r = NULL;
    if (sl_schema_node_rules(n)) {
        sl_schema_rules_get(sl_schema_node_rules(n), &rules);
        r = &rules;
    }
    switch (sl_schema_node_type(n)) {
    case SL_TYPE_STRING:
        return put_string(r, name, out);
    case SL_TYPE_INTEGER:
        return put_integer(r, out);
    case SL_TYPE_NUMBER:
        return put_number(r, out);
    case SL_TYPE_BOOLEAN:
        return sl_buf_append(out, "true", 4);
    case SL_TYPE_DATE:
        return sl_buf_append(out, "\"2026-01-31\"", 12);
    case SL_TYPE_DATETIME:
        return sl_buf_append(out, "\"2026-01-31T12:00:00Z\"", 22);
    case SL_TYPE_OBJECT:
        return put_object(sl_schema_node_fields(n), out);
    case SL_TYPE_ARRAY:
        return put_array(n, name, out);
    default: /* SL_TYPE_JSON */
        return sl_buf_append(out, "{}", 2);
    }
}

int sl_schema_sample_record(const sl_schema *s, sl_buf *out)
{
    size_t start = out->len;
    if (put_object(s, out) != 0) {
        sl_buf_truncate(out, start);
        return -1;
    }
    return 0;
}
