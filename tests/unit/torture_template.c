/* Torture tests for sl_template (sl_torture.h): compiling a template with
 * each allocation failing in turn (NULL with "out of memory", nothing
 * leaked), and rendering into an sl_buf whose growth fails in turn (-1
 * with the buffer as it was, else the right bytes). */
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_template.h"
#include "sl_test.h"
#include "sl_torture.h"

static const char TEXT[] =
    "{ \"id\": $batch_id, \"n\": $count, \"note\": \"$records \\u00e9\",\n"
    "  \"inputs\": $records, \"again\": [$count, $batch_id, {}] }";
static const char WANT[] =
    "{\"id\":\"k-1\",\"n\":2,\"note\":\"$records \\u00e9\",\"inputs\":"
    "[{\"a\":1},{\"a\":2}],\"again\":[2,\"k-1\",{}]}";

static void test_compile(void)
{
    long live0 = sl_torture_live();
    unsigned long n = 1;
    for (; n < SL_TORTURE_MAX_N; n++) {
        char err[256] = "";
        sl_torture_arm(n, true);
        sl_template *t = sl_template_new(TEXT, sizeof TEXT - 1,
                                         SL_TEMPLATE_FOR_ARRAY, err,
                                         sizeof err);
        unsigned long failed = sl_torture_disarm();
        if (failed == 0) {
            CHECK(t != NULL);
            sl_template_free(t);
            break;
        }
        CHECK(t == NULL);
        CHECK_STR(err, "out of memory");
        SL_TORTURE_CHECK_LIVE(live0, n);
    }
    SL_TORTURE_CHECK_LIVE(live0, n);
    sl_torture_report(n, "sl_template_new");
}

static void test_render(void)
{
    char err[256] = "";
    sl_template *t = sl_template_new(TEXT, sizeof TEXT - 1,
                                     SL_TEMPLATE_FOR_ARRAY, err, sizeof err);
    CHECK(t != NULL);
    if (!t)
        return;
    /* a main text of 3000 bytes: the buffer grows several times */
    static char main_text[3001];
    memset(main_text, ' ', 3000);
    memcpy(main_text, "[{\"a\":1},{\"a\":2}]", 17);
    static char want[4000];
    size_t wl = (size_t)snprintf(want, sizeof want, "%.*s%s%s",
                                 (int)(strstr(WANT, "[{") - WANT), WANT,
                                 main_text, strstr(WANT, ",\"again\""));
    sl_template_values v = {.main = main_text, .main_len = 3000,
                            .batch_id = "k-1", .count = 2};
    unsigned long n = 1;
    for (; n < SL_TORTURE_MAX_N; n++) {
        sl_buf out;
        sl_buf_init(&out, 0);
        CHECK(sl_buf_append(&out, "x", 1) == 0);
        sl_torture_arm(n, false); /* one failed growth, then room again */
        int rc = sl_template_render(t, &v, &out);
        unsigned long failed = sl_torture_disarm();
        if (failed == 0) {
            CHECK(rc == 0);
            CHECK(out.len == 1 + wl && memcmp(out.data + 1, want, wl) == 0);
            sl_buf_free(&out);
            break;
        }
        CHECK(rc == -1);
        CHECK(out.len == 1 && out.data[0] == 'x');
        sl_buf_free(&out);
    }
    sl_torture_report(n, "sl_template_render");
    sl_template_free(t);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"compile", test_compile},
        {"render", test_render},
        {NULL, NULL}};
    return sl_test_run(cases);
}
