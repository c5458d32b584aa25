/* Unit tests for sl_send_reply (the intake's answer to a batch, read) and
 * sl_send_rejects (the rejects file): every member, escapes, rejections
 * in order, malformed and hostile answers; the file made only at the
 * first rejection, a stale one removed, rows that are not UTF-8. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sl_buf.h"
#include "sl_send_rejects.h"
#include "sl_send_reply.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static sl_buf seen;

static void on_rej(void *ud, size_t index, const char *field,
                   const char *error)
{
    (void)ud;
    sl_buf_printf(&seen, "%zu %s: %s\n", index, field, error);
}

static int parse(const char *text, sl_send_reply *a)
{
    sl_buf_reset(&seen);
    int rc = sl_send_reply_parse(text, strlen(text), a, on_rej, NULL);
    sl_buf_putc(&seen, '\0');
    return rc;
}

static void test_reply(void)
{
    sl_send_reply a;
    CHECK(parse("{\"accepted\":3,\"rejected\":[]}", &a) == 0);
    CHECK(a.accepted == 3 && a.rejected == 0 && a.dropped == 0);
    CHECK(!a.truncated && a.error[0] == '\0');
    CHECK_STR(seen.data, "");
    CHECK(parse(" {\"accepted\":1,\"dropped\":2,\"rejected\":[{\"index\":0,"
                "\"field\":\"id\",\"error\":\"\\\"4x\\\" is not an "
                "integer\"},{\"error\":\"r\\u00e9\",\"index\":4,\"field\":"
                "\"\",\"extra\":[1,{}]}],\"rejected_total\":9,"
                "\"rejected_truncated\":true,\"later\":null}\n", &a) == 0);
    CHECK(a.accepted == 1 && a.dropped == 2 && a.rejected == 9);
    CHECK(a.truncated);
    CHECK_STR(seen.data, "0 id: \"4x\" is not an integer\n4 : ré\n");
    CHECK(parse("{\"error\":\"spool full\"}", &a) == 0);
    CHECK_STR(a.error, "spool full");
    /* not an answer: refused, with its text */
    static const char *bad[] = {
        "", "[]", "{}", "{\"accepted\":-1}", "{\"accepted\":1.5}",
        "{\"accepted\":\"1\"}", "{\"accepted\":1,\"rejected\":{}}",
        "{\"accepted\":1,\"rejected\":[{\"field\":\"x\"}]}",
        "{\"accepted\":1,\"rejected\":[1]}", "{\"accepted\":1} x",
        "{\"accepted\":1,\"rejected\":[{\"index\":0}", "<html>",
        "{\"accepted\":99999999999999999999}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(parse(bad[i], &a) == -1);
        CHECK_CONTAINS(a.error, "not one sluice reads");
    }
    /* a long error is cut, not overrun */
    sl_buf big;
    sl_buf_init(&big, 0);
    sl_buf_printf(&big, "{\"error\":\"");
    for (int i = 0; i < 5000; i++)
        sl_buf_putc(&big, 'e');
    sl_buf_printf(&big, "\"}");
    CHECK(sl_send_reply_parse(big.data, big.len, &a, NULL, NULL) == 0);
    CHECK(strlen(a.error) == sizeof a.error - 1);
    sl_buf_free(&big);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *p = calloc(1, 1 << 16);
    size_t n = fread(p, 1, (1 << 16) - 1, f);
    p[n] = '\0';
    fclose(f);
    return p;
}

static void test_rejects(void)
{
    char dir[128], path[256], err[300];
    sl_test_dir_fresh(dir, sizeof dir, "send-rejects");
    CHECK(sl_send_rejects_path_for("a/b.csv", path, sizeof path) == 0);
    CHECK_STR(path, "a/b.csv.rejects.ndjson");
    CHECK(sl_send_rejects_path_for("-", path, sizeof path) == 0);
    CHECK_STR(path, "stdin.rejects.ndjson");
    CHECK(sl_send_rejects_path_for("abcdef", path, 8) == -1);
    snprintf(path, sizeof path, "%s/x.rejects.ndjson", dir);
    sl_test_put_file(path, "stale\n", 6);
    /* a stale file goes; none is made without a rejection */
    sl_send_rejects *r = sl_send_rejects_new(path, err, sizeof err);
    CHECK(r != NULL);
    CHECK(access(path, F_OK) != 0);
    CHECK(sl_send_rejects_close(r, err, sizeof err) == 0);
    CHECK(access(path, F_OK) != 0);
    sl_send_rejects_free(r);
    r = sl_send_rejects_new(path, err, sizeof err);
    CHECK(sl_send_rejects_add(r, 7, "id", "\"4x\" is not an integer",
                              "4x,\"a\r\nb\"", 9, false, err, sizeof err) == 0);
    CHECK(sl_send_rejects_add(r, 9, "", "bad", "\xff\xc3(ok\0z", 7, true,
                              err, sizeof err) == 0);
    CHECK(sl_send_rejects_count(r) == 2);
    CHECK_STR(sl_send_rejects_path(r), path);
    CHECK(sl_send_rejects_close(r, err, sizeof err) == 0);
    sl_send_rejects_free(r);
    char *text = slurp(path);
    CHECK_STR(text, "{\"line\":7,\"field\":\"id\",\"error\":\"\\\"4x\\\" is "
                    "not an integer\",\"row\":\"4x,\\\"a\\r\\nb\\\"\"}\n"
                    "{\"line\":9,\"field\":\"\",\"error\":\"bad\",\"row\":"
                    "\"\xef\xbf\xbd\xef\xbf\xbd(ok\\u0000z\",\"row_cut\":"
                    "true}\n");
    free(text);
    /* a directory in the way: cannot be made, said */
    snprintf(path, sizeof path, "%s/no/such/dir/x.rejects.ndjson", dir);
    r = sl_send_rejects_new(path, err, sizeof err);
    CHECK(r != NULL);
    CHECK(sl_send_rejects_add(r, 1, "", "x", "", 0, false, err, sizeof err) ==
          -1);
    CHECK_CONTAINS(err, "cannot create");
    sl_send_rejects_free(r);
    sl_send_rejects_free(NULL);
    sl_test_rm_rf(dir);
}

int main(void)
{
    sl_buf_init(&seen, 0);
    static const sl_test_case cases[] = {
        {"reply", test_reply},
        {"rejects", test_rejects},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_buf_free(&seen);
    return rc;
}
