/* fuzz_template: arbitrary text as a body template. The first byte picks
 * the kind (array, object, record template), the rest is the text. An
 * accepted template is rendered with sample records and must be valid
 * JSON (sl_json says so); its compact form, written back with the
 * placeholder names, must compile again to the very same parts. A refused
 * one must say why. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "sl_buf.h"
#include "sl_template.h"

/* The template written back: literal parts with the slots' names. */
static void write_back(const sl_template *t, sl_buf *out)
{
    size_t n;
    const sl_template_part *p = sl_template_parts(t, &n);
    FUZZ_ASSERT(n >= 1 && p[n - 1].slot == SL_TEMPLATE_END);
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(sl_buf_append(out, p[i].lit, p[i].len) == 0);
        const char *name = sl_template_slot_name(p[i].slot);
        FUZZ_ASSERT(sl_buf_append(out, name, strlen(name)) == 0);
        FUZZ_ASSERT(i + 1 == n || p[i].slot != SL_TEMPLATE_END);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    sl_template_kind kind = (sl_template_kind)(data[0] % 3);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[512] = "";
    sl_template *t = sl_template_new(text, len, kind, err, sizeof err);
    if (!t) {
        FUZZ_ASSERT(err[0] != '\0');
        return 0;
    }
    FUZZ_ASSERT(sl_template_literal_bytes(t) <= len);
    sl_template_slot main =
        kind == SL_TEMPLATE_FOR_ARRAY ? SL_TEMPLATE_RECORDS : SL_TEMPLATE_RECORD;
    FUZZ_ASSERT(sl_template_uses(t, main) == 1);
    if (kind == SL_TEMPLATE_FOR_RECORD)
        FUZZ_ASSERT(sl_template_uses(t, SL_TEMPLATE_BATCH_ID) == 0 &&
                    sl_template_uses(t, SL_TEMPLATE_COUNT) == 0);

    static const char recs[] = "[{\"id\":1,\"s\":\"a\\\"b\"},{\"id\":2}]";
    static const char one[] = "{\"id\":1,\"nested\":[{\"x\":null}]}";
    sl_template_values v = {
        .main = main == SL_TEMPLATE_RECORDS ? recs : one,
        .main_len = main == SL_TEMPLATE_RECORDS ? sizeof recs - 1
                                                : sizeof one - 1,
        .batch_id = "crm-00000000000000ab-1f-2", .count = 2};
    sl_buf out;
    sl_buf_init(&out, 0);
    FUZZ_ASSERT(sl_template_render(t, &v, &out) == 0);
    FUZZ_ASSERT(fuzz_json_valid(out.data, out.len, 0));

    /* compiling the compact form again gives the same parts */
    sl_buf back;
    sl_buf_init(&back, 0);
    write_back(t, &back);
    sl_template *t2 = sl_template_new(back.data, back.len, kind, err,
                                      sizeof err);
    FUZZ_ASSERT(t2 != NULL);
    size_t n1, n2;
    const sl_template_part *p1 = sl_template_parts(t, &n1);
    const sl_template_part *p2 = sl_template_parts(t2, &n2);
    FUZZ_ASSERT(n1 == n2);
    for (size_t i = 0; i < n1; i++)
        FUZZ_ASSERT(p1[i].slot == p2[i].slot && p1[i].len == p2[i].len &&
                    memcmp(p1[i].lit, p2[i].lit, p1[i].len) == 0);
    sl_template_free(t2);
    sl_buf_free(&back);
    sl_buf_free(&out);
    sl_template_free(t);
    return 0;
}
