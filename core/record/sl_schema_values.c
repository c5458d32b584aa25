/* sl_schema_values: a record that is not JSON text (a transform's Lua
 * table) checked and encoded from one scanner token per field, with
 * sl_schema_encode's checks and messages. Its own file so that
 * sl_schema_encode's hot loop keeps sl_schema_check_value inlined. */
#include "sl_schema_check.h"

size_t sl_schema_values_find(const sl_schema *s, const char *name, size_t len)
{
    return sl_schema_find(s, name, len);
}

bool sl_schema_values_ok(const sl_schema *s)
{
    if (s->nested || s->post)
        return false;
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->fields[i].name_len; j++) {
            unsigned char c = (unsigned char)s->fields[i].name[j];
            if (c < 0x20 || c == '"' || c == '\\')
                return false;
        }
    return true;
}

sl_schema_rc sl_schema_values_encode(const sl_schema *s,
                                     const sl_json_token *vals, sl_buf *out,
                                     sl_schema_error *err)
{
    sl_schema_span spans[SL_SCHEMA_MAX_FIELDS];
    size_t n = s->n, members = 0, in_len = 0;
    sl_schema_rc rc;
    for (size_t i = 0; i < n; i++)
        members += vals[i].type != SL_JSON_ERROR;
    if (members > s->max.fields)
        return SL_SCHEMA_SYNTAX;
    for (size_t i = 0; i < n; i++) {
        const sl_field *f = &s->fields[i];
        spans[i] = (sl_schema_span){NULL, 0};
        if (vals[i].type == SL_JSON_ERROR)
            continue;
        if ((rc = sl_schema_check_value(s, f, &vals[i], &spans[i], err)) !=
            SL_SCHEMA_OK)
            return rc;
        in_len += f->prefix_len + spans[i].len; /* ,"name":value */
    }
    in_len += members ? 1 : 2; /* the first ',' is the '{'; and '}' */
    if (in_len > s->max.record_bytes)
        return sl_schema_reject(err, "", 0, "record is %zu bytes, more than "
                                "limits.record_bytes (%zu)", in_len,
                                s->lim.record_bytes);
    size_t total = n ? 1 : 2;
    for (size_t i = 0; i < n; i++) {
        const sl_field *f = &s->fields[i];
        if (!spans[i].p) {
            if (!f->nullable)
                return sl_schema_reject(err, f->name, f->name_len,
                                        "required field is missing");
            spans[i] = (sl_schema_span){"null", 4};
        }
        total += f->prefix_len + spans[i].len;
    }
    return sl_schema_emit_record(s, spans, total, out);
}
