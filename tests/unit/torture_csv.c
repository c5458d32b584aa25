/* Torture tests for sl_csv (sl_torture.h): a file with every kind of row
 * read with each allocation failing in turn, sticky and transient (libcsv's
 * buffer too: the reader hands it the wrapped realloc and free). A failed
 * run ends in SL_CSV_E_NOMEM (or no reader), with the rows passed before
 * it a prefix of the clean run's, and leaks nothing; the clean run reads
 * every row. */
#include <stdlib.h>
#include <string.h>

#include "sl_csv.h"
#include "sl_test.h"
#include "sl_torture.h"

static char got[8192], want[8192]; /* rows as text: no allocation */
static size_t got_len;

static int collect(void *ud, const sl_csv_row *row)
{
    (void)ud;
    int n = snprintf(got + got_len, sizeof got - got_len, "L%zu %.*s%s%s|",
                     row->line, row->json ? (int)row->json_len : 0,
                     row->json ? row->json : "", row->field ? row->field : "",
                     row->error ? row->error : "");
    if (n > 0 && (size_t)n < sizeof got - got_len)
        got_len += (size_t)n;
    return 0;
}

static const char text[] =
    "\xEF\xBB\xBFid,name,tags,extra\r\n"
    "1,\"a, \"\"b\"\"\r\nc\",\"{\"\"k\"\": [1, {\"\"x\"\": null}]}\",zz\r\n"
    "2,,,\r\n"
    "x,\"q\"z,,\r\n"
    "3,\xc3\xa9,[],\r\n"
    "4,only\r\n"
    "5,\"open";

/* One read, the file cut into 7-byte pieces; its result. */
static sl_csv_rc read_once(const sl_schema *s, bool *made)
{
    sl_csv_options o = {.keep_unknown = true};
    got_len = 0;
    got[0] = '\0';
    sl_csv *r = sl_csv_new(s, &o, collect, NULL);
    *made = r != NULL;
    if (!r)
        return SL_CSV_E_NOMEM;
    sl_csv_rc rc = SL_CSV_OK;
    size_t n = sizeof text - 1;
    for (size_t i = 0; i < n && rc == SL_CSV_OK; i += 7)
        rc = sl_csv_feed(r, text + i, n - i < 7 ? n - i : 7);
    if (rc == SL_CSV_OK)
        rc = sl_csv_finish(r);
    sl_csv_free(r);
    return rc;
}

static void torture(bool sticky)
{
    char err[128];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "name", SL_TYPE_STRING, true, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "tags", SL_TYPE_JSON, true, err, sizeof err) == 0);
    bool made;
    CHECK(read_once(s, &made) == SL_CSV_OK);
    memcpy(want, got, got_len + 1);
    CHECK_CONTAINS(want, "L6 {\"id\":3,");
    CHECK_CONTAINS(want, "L8 name");
    long base = sl_torture_live();
    unsigned long n;
    for (n = 1; n < SL_TORTURE_MAX_N; n++) {
        sl_torture_arm(n, sticky);
        sl_csv_rc rc = read_once(s, &made);
        unsigned long failed = sl_torture_disarm();
        SL_TORTURE_CHECK_LIVE(base, n);
        if (failed == 0) {
            CHECK(rc == SL_CSV_OK);
            CHECK_STR(got, want);
            break;
        }
        if (rc == SL_CSV_OK) { /* libcsv retried with a smaller block */
            CHECK(!sticky);
            CHECK_STR(got, want);
        } else {
            CHECK(rc == SL_CSV_E_NOMEM);
            CHECK(strncmp(want, got, got_len) == 0);
        }
    }
    CHECK(n > 5 && n < SL_TORTURE_MAX_N);
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
