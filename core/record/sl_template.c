/* sl_template: body templates checked and compiled into literal parts and
 * slots. The JSON grammar is sl_json's: each placeholder is first replaced
 * by a value of its own length ("0" and spaces), found outside strings by
 * a small pass of its own, and the scanner then checks the whole text and
 * hands out the tokens that the compact form is written from. */
#include "sl_template.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_err.h"
#include "sl_json.h"

struct sl_template {
    char *text;              /* every part's literal bytes, back to back */
    sl_template_part *parts; /* nparts; the last one's slot is END */
    size_t nparts;
    size_t literal_bytes;
    size_t uses[SL_TEMPLATE__NSLOTS];
};

static const char *const slot_names[SL_TEMPLATE__NSLOTS] = {
    "", "$records", "$record", "$batch_id", "$count"};

/* The placeholders each kind takes, for messages, and its main one. */
static const char *const kind_valid[] = {"$records, $batch_id, $count",
                                         "$record, $batch_id, $count",
                                         "$record"};
static const sl_template_slot kind_main[] = {
    SL_TEMPLATE_RECORDS, SL_TEMPLATE_RECORD, SL_TEMPLATE_RECORD};

typedef struct placeholder {
    size_t off;              /* of the '$' */
    sl_template_slot slot;
} placeholder;

const char *sl_template_slot_name(sl_template_slot s)
{
    return s < SL_TEMPLATE__NSLOTS ? slot_names[s] : "";
}

static bool kind_takes(sl_template_kind kind, sl_template_slot s)
{
    if (s == kind_main[kind])
        return true;
    return kind != SL_TEMPLATE_FOR_RECORD &&
           (s == SL_TEMPLATE_BATCH_ID || s == SL_TEMPLATE_COUNT);
}

static bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* "position N", with the line and column when the text has several lines,
 * then the reason. */
static void fail_at(char *err, size_t errlen, const char *text, size_t len,
                    size_t off, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void fail_at(char *err, size_t errlen, const char *text, size_t len,
                    size_t off, const char *fmt, ...)
{
    char where[96], why[256];
    int n = snprintf(where, sizeof where, "position %zu", off);
    if (memchr(text, '\n', len)) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < off && i < len; i++, col++)
            if (text[i] == '\n') {
                line++;
                col = 0;
            }
        snprintf(where + n, sizeof where - (size_t)n,
                 " (line %zu, column %zu)", line, col);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    sl_err_set(err, errlen, "%s: %s", where, why);
}

/* Find the placeholders outside strings in text, record them, and write
 * each one into scratch (a copy of text) as "0" and spaces. Returns the
 * number found, or -1 with err set. */
static long find_placeholders(const char *text, size_t len, char *scratch,
                              sl_template_kind kind, placeholder *ph,
                              size_t *uses, char *err, size_t errlen)
{
    bool in_string = false;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped byte cannot end the string */
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
            continue;
        }
        if (c != '$')
            continue;
        size_t nl = 0;
        while (i + 1 + nl < len && is_name_char((unsigned char)text[i + 1 + nl]))
            nl++;
        sl_template_slot s = SL_TEMPLATE_END;
        for (int k = 1; k < SL_TEMPLATE__NSLOTS; k++)
            if (strlen(slot_names[k]) == nl + 1 &&
                memcmp(slot_names[k] + 1, text + i + 1, nl) == 0)
                s = (sl_template_slot)k;
        char name[40];
        snprintf(name, sizeof name, "$%.*s%s", nl > 32 ? 32 : (int)nl,
                 text + i + 1, nl > 32 ? "..." : "");
        if (s == SL_TEMPLATE_END) {
            fail_at(err, errlen, text, len, i,
                    "unknown placeholder %s (valid: %s)", name,
                    kind_valid[kind]);
            return -1;
        }
        if (!kind_takes(kind, s)) {
            fail_at(err, errlen, text, len, i,
                    "%s cannot be used here (valid: %s)", name,
                    kind_valid[kind]);
            return -1;
        }
        if (s == kind_main[kind] && uses[s] > 0) {
            fail_at(err, errlen, text, len, i,
                    "%s appears twice (it must appear exactly once)", name);
            return -1;
        }
        uses[s]++;
        ph[n++] = (placeholder){i, s};
        scratch[i] = '0';
        memset(scratch + i + 1, ' ', nl); /* nl >= 1: the number ends */
        i += nl;
    }
    return n;
}

/* A literal part ends at a slot: remember its length (the parts lie back
 * to back in lit; their pointers are set once lit stops moving). */
static void end_part(sl_template *t, const sl_buf *lit, size_t *part_start,
                     sl_template_slot s)
{
    sl_template_part *p = &t->parts[t->nparts++];
    p->lit = NULL;
    p->len = lit->len - *part_start;
    p->slot = s;
    *part_start = lit->len;
}

/* Scan scratch (the text with placeholders as values) with sl_json and
 * write the compact form into lit and t's parts. 0, or -1 with err set. */
static int compile(sl_template *t, const char *text, const char *scratch,
                   size_t len, const placeholder *ph, size_t nph,
                   sl_buf *lit, char *err, size_t errlen)
{
    bool after_value = false; /* a ',' goes before the next key or value */
    sl_json s;
    sl_json_token tok;
    size_t k = 0, part_start = 0;
    sl_json_init(&s, scratch, len, SL_TEMPLATE_MAX_DEPTH);
    for (;;) {
        sl_json_type ty = sl_json_next(&s, &tok);
        if (ty == SL_JSON_ERROR) {
            bool at_ph = k < nph && s.err_off == ph[k].off;
            const char *msg = s.err ? s.err : "invalid JSON";
            if (at_ph && strcmp(msg, "expected a string key") == 0)
                fail_at(err, errlen, text, len, s.err_off,
                        "placeholder %s where a key must stand",
                        slot_names[ph[k].slot]);
            else if (strcmp(msg, "nesting deeper than the depth limit") == 0)
                fail_at(err, errlen, text, len, s.err_off,
                        "nesting deeper than %d levels",
                        SL_TEMPLATE_MAX_DEPTH);
            else
                fail_at(err, errlen, text, len, s.err_off,
                        "not valid JSON: %s", msg);
            return -1;
        }
        if (ty == SL_JSON_END)
            break;
        size_t off = (size_t)(tok.p - scratch);
        if (k < nph && ph[k].off < off + tok.len) {
            /* the token reaches the next placeholder: it must be the
             * placeholder's "0" itself, not "-0" or "10" */
            if (ty != SL_JSON_NUMBER || off != ph[k].off || tok.len != 1) {
                fail_at(err, errlen, text, len, ph[k].off,
                        "placeholder %s must stand alone as a value",
                        slot_names[ph[k].slot]);
                return -1;
            }
        }
        bool closer = ty == SL_JSON_OBJECT_END || ty == SL_JSON_ARRAY_END;
        int rc = 0;
        if (after_value && !closer)
            rc |= sl_buf_putc(lit, ',');
        switch (ty) {
        case SL_JSON_OBJECT_BEGIN:
        case SL_JSON_ARRAY_BEGIN:
        case SL_JSON_OBJECT_END:
        case SL_JSON_ARRAY_END:
            rc |= sl_buf_putc(lit, *tok.p);
            break;
        case SL_JSON_KEY:
        case SL_JSON_STRING:
            rc |= sl_buf_putc(lit, '"');
            rc |= sl_buf_append(lit, tok.p, tok.len);
            rc |= sl_buf_putc(lit, '"');
            if (ty == SL_JSON_KEY)
                rc |= sl_buf_putc(lit, ':');
            break;
        default:
            if (k < nph && off == ph[k].off)
                end_part(t, lit, &part_start, ph[k++].slot);
            else
                rc |= sl_buf_append(lit, tok.p, tok.len);
        }
        if (rc != 0) {
            sl_err_set(err, errlen, "out of memory");
            return -1;
        }
        after_value = ty != SL_JSON_OBJECT_BEGIN &&
                      ty != SL_JSON_ARRAY_BEGIN && ty != SL_JSON_KEY;
    }
    end_part(t, lit, &part_start, SL_TEMPLATE_END);
    return 0;
}

sl_template *sl_template_new(const char *text, size_t len,
                             sl_template_kind kind, char *err, size_t errlen)
{
    sl_template *t = NULL;
    char *scratch = NULL;
    placeholder *ph = NULL;
    sl_buf lit;
    sl_buf_init(&lit, 0);
    if (len > SL_TEMPLATE_MAX_BYTES) {
        sl_err_set(err, errlen, "is %zu bytes; at most %d", len,
                   SL_TEMPLATE_MAX_BYTES);
        return NULL;
    }
    if (len == 0) {
        sl_err_set(err, errlen, "is empty; write JSON with %s",
                   slot_names[kind_main[kind]]);
        return NULL;
    }
    /* at most one placeholder per 2 bytes ("$" and a name) */
    if (!(t = calloc(1, sizeof *t)) || !(scratch = malloc(len)) ||
        !(ph = malloc((len / 2 + 1) * sizeof *ph)) ||
        sl_buf_reserve(&lit, len) != 0) {
        sl_err_set(err, errlen, "out of memory");
        goto fail;
    }
    memcpy(scratch, text, len);
    long nph = find_placeholders(text, len, scratch, kind, ph, t->uses, err,
                                 errlen);
    if (nph < 0)
        goto fail;
    if (!(t->parts = malloc(((size_t)nph + 1) * sizeof *t->parts))) {
        sl_err_set(err, errlen, "out of memory");
        goto fail;
    }
    if (compile(t, text, scratch, len, ph, (size_t)nph, &lit, err, errlen))
        goto fail;
    if (t->uses[kind_main[kind]] != 1) {
        sl_err_set(err, errlen, "needs %s exactly once",
                   slot_names[kind_main[kind]]);
        goto fail;
    }
    t->text = lit.data; /* taken */
    t->literal_bytes = lit.len;
    for (size_t i = 0, off = 0; i < t->nparts; off += t->parts[i++].len)
        t->parts[i].lit = t->text + off;
    free(scratch);
    free(ph);
    return t;
fail:
    sl_buf_free(&lit);
    free(scratch);
    free(ph);
    sl_template_free(t);
    return NULL;
}

void sl_template_free(sl_template *t)
{
    if (!t)
        return;
    free(t->text);
    free(t->parts);
    free(t);
}

const sl_template_part *sl_template_parts(const sl_template *t, size_t *n)
{
    *n = t->nparts;
    return t->parts;
}

size_t sl_template_literal_bytes(const sl_template *t)
{
    return t->literal_bytes;
}

size_t sl_template_uses(const sl_template *t, sl_template_slot s)
{
    return s < SL_TEMPLATE__NSLOTS ? t->uses[s] : 0;
}

int sl_template_render(const sl_template *t, const sl_template_values *v,
                       sl_buf *out)
{
    size_t start = out->len;
    const char *id = v->batch_id ? v->batch_id : "";
    for (size_t i = 0; i < t->nparts; i++) {
        const sl_template_part *p = &t->parts[i];
        int rc = sl_buf_append(out, p->lit, p->len);
        switch (p->slot) {
        case SL_TEMPLATE_RECORDS:
        case SL_TEMPLATE_RECORD:
            rc |= sl_buf_append(out, v->main, v->main_len);
            break;
        case SL_TEMPLATE_BATCH_ID:
            rc |= sl_buf_json_string(out, id, strlen(id));
            break;
        case SL_TEMPLATE_COUNT:
            rc |= sl_buf_printf(out, "%zu", v->count);
            break;
        default:
            break;
        }
        if (rc != 0) {
            sl_buf_truncate(out, start);
            return -1;
        }
    }
    return 0;
}
