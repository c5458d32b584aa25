/* sl_schema_check: the messages of a rejected record (the checks
 * themselves are inline in sl_schema_check.h). */
#include "sl_schema_check.h"

#include <stdarg.h>
#include <stdio.h>

const char sl_schema_shape[] = "shape";

/* Copy at most cap-1 bytes of p, not cutting a UTF-8 sequence; returns
 * whether it was cut short. */
static bool clip(char *dst, size_t cap, const char *p, size_t n)
{
    bool cut = n > cap - 1;
    if (cut) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
    return cut;
}

sl_schema_rc sl_schema_reject(sl_schema_error *err, const char *field,
                              size_t flen, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        clip(err->field, sizeof err->field, field, flen);
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return SL_SCHEMA_INVALID;
}

void sl_schema_error_field(sl_schema_error *err, const char *p, size_t n)
{
    if (err)
        clip(err->field, sizeof err->field, p, n);
}

sl_schema_rc sl_schema_syntax(const sl_json *js, sl_schema_error *err)
{
    if (err) {
        err->field[0] = '\0';
        snprintf(err->msg, sizeof err->msg, "malformed JSON at byte %zu: %s",
                 js->err_off, js->err ? js->err : "invalid JSON");
    }
    return SL_SCHEMA_SYNTAX;
}

const char *sl_schema_show(char buf[SL_SCHEMA_SHOW_MAX + 4],
                           const sl_json_token *v)
{
    if (clip(buf, SL_SCHEMA_SHOW_MAX + 1, v->p, v->len))
        strcat(buf, "...");
    return buf;
}

sl_schema_rc sl_schema_unknown_field(const sl_json_token *k,
                                     sl_schema_error *err)
{
    char name[sizeof err->field];
    size_t n;
    const char *msg = "unknown field (not in the schema)";
    if ((k->flags & SL_JSON_F_ESCAPED) &&
        sl_json_unescape_into(k->p, k->len, name, sizeof name - 1, &n) == 0)
        return sl_schema_reject(err, name, n, "%s", msg);
    return sl_schema_reject(err, k->p, k->len, "%s", msg);
}

sl_schema_rc sl_schema_mismatch(const sl_field *f, const sl_json_token *v,
                                sl_schema_error *err)
{
    return sl_schema_reject(err, f->name, f->name_len, "expected %s, got %s",
                            sl_schema_type_name(f->type),
                            sl_json_type_name(v->type));
}

sl_schema_rc sl_schema_check_rules(const sl_field *f, const sl_json_token *v,
                                   sl_schema_error *err)
{
    char msg[sizeof err->msg];
    if (sl_schema_rules_check(f->rules, v, msg, sizeof msg) != 0)
        return sl_schema_reject(err, f->name, f->name_len, "%s", msg);
    return SL_SCHEMA_OK;
}
