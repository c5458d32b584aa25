/* Torture test of sl_fieldtpl: every allocation of the parse and of the
 * rendering fails in turn (sticky and transient); each must fail cleanly
 * (an error, nothing leaked, the output buffer as it was) and the clean
 * run must give the same bytes as an untortured one. */
#include <stdbool.h>
#include <string.h>

#include "sl_fieldtpl.h"
#include "sl_test.h"
#include "sl_torture.h"

static const char *const URL =
    "https://api.example.com/v1/{id}/{n}?d={d}&again={id}";
static const char *const REC =
    "{\"id\":\"Jos\\u00e9 a/b\",\"n\":-7,\"d\":\"2024-02-29\"}";

static sl_schema *schema(void)
{
    char err[128];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(s != NULL);
    CHECK(sl_schema_add(s, "id", SL_TYPE_STRING, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "n", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "d", SL_TYPE_DATE, false, err, sizeof err) == 0);
    return s;
}

static void torture(bool sticky)
{
    sl_schema *s = schema();
    const char *want = "https://api.example.com/v1/Jos%C3%A9%20a%2Fb/-7?"
                       "d=2024-02-29&again=Jos%C3%A9%20a%2Fb";
    long base = sl_torture_live();
    for (unsigned long n = 1; n < SL_TORTURE_MAX_N; n++) {
        char err[256] = "";
        sl_fieldtpl *t = NULL;
        sl_buf out;
        sl_schema_error why;
        sl_buf_init(&out, 0);
        sl_torture_arm(n, sticky);
        int prc = sl_fieldtpl_parse(URL, SL_FIELDTPL_URL, 23, s, "the URL",
                                    &t, err, sizeof err);
        sl_fieldtpl_rc rrc = SL_FIELDTPL_NOMEM;
        if (prc == 0 && t)
            rrc = sl_fieldtpl_render(t, REC, strlen(REC), &out, &why);
        unsigned long failed = sl_torture_disarm();
        if (prc != 0) {
            CHECK(t == NULL);
            CHECK_STR(err, "out of memory");
        } else if (rrc != SL_FIELDTPL_OK) {
            CHECK(rrc == SL_FIELDTPL_NOMEM && out.len == 0);
        }
        if (!failed) {
            CHECK(prc == 0 && rrc == SL_FIELDTPL_OK);
            CHECK(out.len == strlen(want) && !memcmp(out.data, want, out.len));
        }
        sl_buf_free(&out);
        sl_fieldtpl_free(t);
        SL_TORTURE_CHECK_LIVE(base, n);
        if (!failed)
            break;
    }
    sl_schema_free(s);
}

static void test_sticky(void) { torture(true); }
static void test_transient(void) { torture(false); }

int main(void)
{
    static const sl_test_case cases[] = {
        {"sticky", test_sticky},
        {"transient", test_transient},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
