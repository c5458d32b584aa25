/* sl_openapi_schema: a record schema as a JSON Schema 2020-12, written
 * field by field from what sl_schema reads back. */
#include "sl_openapi_schema.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sl_bufw.h"
#include "sl_schema_rules.h"

/* The writer (sl_bufw), its calls short: most of this file is them. */
typedef sl_bufw w;
static void put(w *o, const char *s) { sl_bufw_put(o, s); }
static void str(w *o, const char *s, size_t n)
{
    sl_bufw_str(o, s, n);
}

/* The JSON Schema type of a sluice type (NULL: json, any value). */
static const char *json_type(sl_schema_type t)
{
    switch (t) {
    case SL_TYPE_INTEGER: return "integer";
    case SL_TYPE_NUMBER: return "number";
    case SL_TYPE_BOOLEAN: return "boolean";
    case SL_TYPE_OBJECT: return "object";
    case SL_TYPE_ARRAY: return "array";
    case SL_TYPE_JSON: return NULL;
    default: return "string"; /* string, date, datetime */
    }
}

static void type_of(w *o, sl_schema_type t, bool nullable)
{
    const char *jt = json_type(t);
    if (!jt) {
        /* json: anything; without nullable anything but null */
        put(o, nullable ? "\"description\":\"any JSON value\""
                        : "\"not\":{\"type\":\"null\"},"
                          "\"description\":\"any JSON value but null\"");
        return;
    }
    if (nullable)
        sl_bufw_putf(o, "\"type\":[\"%s\",\"null\"]", jt);
    else
        sl_bufw_putf(o, "\"type\":\"%s\"", jt);
    if (t == SL_TYPE_DATE)
        put(o, ",\"format\":\"date\"");
    else if (t == SL_TYPE_DATETIME)
        put(o, ",\"format\":\"date-time\"");
}

/* A double as JSON: %.17g gives back the same double; it is finite (the
 * rules refuse others). */
static void number(w *o, const char *key, double v)
{
    sl_bufw_putf(o, ",\"%s\":%.17g", key, v);
}

static void rules_of(w *o, sl_schema_type t, bool nullable,
                     const sl_schema_rules_set *set)
{
    sl_schema_rules r;
    memset(&r, 0, sizeof r);
    if (set)
        sl_schema_rules_get(set, &r);
    if (t == SL_TYPE_INTEGER) {
        /* sluice's integers are int64: the bounds hold without rules */
        sl_bufw_putf(o, ",\"minimum\":%" PRId64,
                     r.has_min ? r.imin : INT64_MIN);
        sl_bufw_putf(o, ",\"maximum\":%" PRId64,
                     r.has_max ? r.imax : INT64_MAX);
        return;
    }
    if (t == SL_TYPE_NUMBER) {
        if (r.has_min)
            number(o, "minimum", r.nmin);
        if (r.has_max)
            number(o, "maximum", r.nmax);
        return;
    }
    if (t != SL_TYPE_STRING)
        return;
    if (r.has_min_length)
        sl_bufw_putf(o, ",\"minLength\":%zu", r.min_length);
    if (r.has_max_length)
        sl_bufw_putf(o, ",\"maxLength\":%zu", r.max_length);
    if (r.nenum) {
        put(o, ",\"enum\":[");
        for (size_t i = 0; i < r.nenum; i++) {
            if (i)
                put(o, ",");
            str(o, r.enum_values[i].p, r.enum_values[i].len);
        }
        /* the enum is checked on non-null values only */
        put(o, nullable ? ",null]" : "]");
    }
}

static void fields_of(w *o, const sl_schema *s, size_t max_fields);

static void node(w *o, const sl_schema_node *n, size_t max_fields)
{
    sl_schema_type t = sl_schema_node_type(n);
    bool nullable = sl_schema_node_nullable(n);
    put(o, "{");
    type_of(o, t, nullable);
    rules_of(o, t, nullable, sl_schema_node_rules(n));
    if (t == SL_TYPE_OBJECT) {
        fields_of(o, sl_schema_node_fields(n), max_fields);
    } else if (t == SL_TYPE_ARRAY) {
        put(o, ",\"items\":");
        node(o, sl_schema_node_items(n), max_fields);
        if (sl_schema_node_min_items(n))
            sl_bufw_putf(o, ",\"minItems\":%zu", sl_schema_node_min_items(n));
        if (sl_schema_node_max_items(n))
            sl_bufw_putf(o, ",\"maxItems\":%zu", sl_schema_node_max_items(n));
    }
    put(o, "}");
}

/* An object's members, after its type: properties, required, the
 * unknown-member policy, the members' limit. */
static void fields_of(w *o, const sl_schema *s, size_t max_fields)
{
    size_t n = sl_schema_nfields(s), required = 0;
    put(o, ",\"properties\":{");
    for (size_t i = 0; i < n; i++) {
        const char *name = sl_schema_field_name(s, i);
        if (i)
            put(o, ",");
        str(o, name, strlen(name));
        put(o, ":");
        node(o, sl_schema_field(s, i), max_fields);
        required += !sl_schema_field_nullable(s, i);
    }
    put(o, "}");
    if (required) {
        /* a missing nullable member is null; a missing other one rejects */
        put(o, ",\"required\":[");
        for (size_t i = 0, k = 0; i < n; i++) {
            if (sl_schema_field_nullable(s, i))
                continue;
            const char *name = sl_schema_field_name(s, i);
            if (k++)
                put(o, ",");
            str(o, name, strlen(name));
        }
        put(o, "]");
    }
    if (sl_schema_policy(s) == SL_UNKNOWN_REJECT)
        put(o, ",\"additionalProperties\":false");
    if (max_fields)
        sl_bufw_putf(o, ",\"maxProperties\":%zu", max_fields);
}

int sl_openapi_schema_record(const sl_schema *s, int depth, sl_buf *out)
{
    w o = {out, 0};
    size_t mark = out->len;
    const sl_schema_limits *lim = sl_schema_get_limits(s);
    put(&o, "{\"type\":\"object\"");
    fields_of(&o, s, lim->fields);
    put(&o, ",\"description\":\"One record. Beyond this schema sluice "
            "also checks");
    if (lim->record_bytes)
        sl_bufw_putf(&o, " the record's JSON text as received: at most "
                     "%zu bytes (limits.record_bytes);", lim->record_bytes);
    if (lim->string_bytes)
        sl_bufw_putf(&o, " each string (and each key and string inside a "
                     "json value) between its quotes as received, escapes "
                     "as written: at most %zu bytes (limits.string_bytes);",
                     lim->string_bytes);
    if (depth > 0)
        sl_bufw_putf(&o, " JSON nesting at most %d levels, a body's array "
                     "counted (limits.depth; deeper is malformed JSON, 400);",
                     depth);
    put(&o, " integers are written without fraction or exponent; a member "
            "may not appear twice. See docs/tools.md, OpenAPI.\"");
    if (lim->record_bytes)
        sl_bufw_putf(&o, ",\"x-sluice-record-bytes\":%zu", lim->record_bytes);
    if (lim->string_bytes)
        sl_bufw_putf(&o, ",\"x-sluice-string-bytes\":%zu", lim->string_bytes);
    if (depth > 0)
        sl_bufw_putf(&o, ",\"x-sluice-max-depth\":%d", depth);
    put(&o, "}");
    if (o.failed) {
        sl_buf_truncate(out, mark);
        return -1;
    }
    return 0;
}
