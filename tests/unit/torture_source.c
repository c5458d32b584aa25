/* Torture tests for sl_source and sl_jsonsplit (sl_torture.h): a JSON
 * array, NDJSON, CSV and sniffed input with every kind of element, read
 * with each allocation failing in turn, sticky and transient. A failed
 * run ends in SL_SOURCE_E_NOMEM (or no reader), with the records passed
 * before it a prefix of the clean run's, and leaks nothing; the clean run
 * reads every record. */
#include <stdlib.h>
#include <string.h>

#include "sl_source.h"
#include "sl_test.h"
#include "sl_torture.h"

static char got[8192], want[8192]; /* records as text: no allocation */
static size_t got_len;

static int collect(void *ud, const sl_source_rec *r)
{
    (void)ud;
    int n = snprintf(got + got_len, sizeof got - got_len, "L%zu %.*s%s%s|",
                     r->line, r->json ? (int)r->json_len : 0,
                     r->json ? r->json : "", r->field, r->error ? r->error : "");
    if (n > 0 && (size_t)n < sizeof got - got_len)
        got_len += (size_t)n;
    return 0;
}

static const struct {
    sl_source_format f;
    const char *text;
} inputs[] = {
    {SL_SOURCE_JSON, "\xEF\xBB\xBF[\r\n{\"id\":1,\"name\":\"a,]}\"},\n"
                     "{\"id\":2} x,,[1],\n{\"name\":\"" /* cut below */},
    {SL_SOURCE_NDJSON, "{\"id\":1}\r\n\n[]\n{\"id\":\n{\"name\":\"\xc3\xa9\"}"},
    {SL_SOURCE_CSV, "id,name\r\n1,\"a\r\nb\"\r\nx,y\r\n2,z"},
    {SL_SOURCE_AUTO, "\xEF\xBB\xBF \n [{\"id\":1},{}]"},
};

static sl_source_rc read_once(const sl_schema *sc, size_t k, bool *made)
{
    sl_source_options o = {.format = inputs[k].f, .record_bytes = 40};
    got_len = 0;
    got[0] = '\0';
    sl_source *s = sl_source_new(sc, &o, collect, NULL);
    *made = s != NULL;
    if (!s)
        return SL_SOURCE_E_NOMEM;
    const char *t = inputs[k].text;
    size_t n = strlen(t);
    sl_source_rc rc = SL_SOURCE_OK;
    for (size_t i = 0; i < n && rc == SL_SOURCE_OK; i += 5)
        rc = sl_source_feed(s, t + i, n - i < 5 ? n - i : 5);
    if (rc == SL_SOURCE_OK)
        rc = sl_source_finish(s);
    sl_source_free(s);
    return rc;
}

static void torture(bool sticky)
{
    char err[128];
    sl_schema *sc = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(sl_schema_add(sc, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(sc, "name", SL_TYPE_STRING, true, err, sizeof err) == 0);
    for (size_t k = 0; k < sizeof inputs / sizeof *inputs; k++) {
        bool made;
        CHECK(read_once(sc, k, &made) == SL_SOURCE_OK);
        memcpy(want, got, got_len + 1);
        CHECK(got_len > 10);
        long base = sl_torture_live();
        unsigned long n;
        for (n = 1; n < SL_TORTURE_MAX_N; n++) {
            sl_torture_arm(n, sticky);
            sl_source_rc rc = read_once(sc, k, &made);
            unsigned long failed = sl_torture_disarm();
            SL_TORTURE_CHECK_LIVE(base, n);
            if (failed == 0) {
                CHECK(rc == SL_SOURCE_OK);
                CHECK_STR(got, want);
                break;
            }
            if (rc == SL_SOURCE_OK) { /* libcsv retried smaller */
                CHECK(!sticky);
                CHECK_STR(got, want);
            } else {
                CHECK(rc == SL_SOURCE_E_NOMEM);
                CHECK(strncmp(want, got, got_len) == 0);
            }
        }
        CHECK(n > 1 && n < SL_TORTURE_MAX_N);
    }
    sl_schema_free(sc);
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
