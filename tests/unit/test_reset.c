/* Unit tests for sl_reset: the rule of `sluice reset` (what it refuses,
 * what --force discards) and its effects on a connector directory, also
 * against what the real spool and dead letters hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "sl_dlq.h"
#include "sl_reset.h"
#include "sl_spool.h"
#include "sl_state.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static char base[] = "/tmp/sluice-test-reset-XXXXXX"; /* mkdtemp'd */

/* <dir>/<name> holding the n bytes of text. */
static void write_file(const char *dir, const char *name, const char *text,
                       size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(text, 1, n, f) == n);
    if (f)
        fclose(f);
}

static int exists(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lstat(path, &st) == 0;
}

/* The schema { id: type, not null }. */
static sl_schema *id_schema(sl_schema_type type)
{
    char err[128];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(s && sl_schema_add(s, "id", type, false, err, sizeof err) == 0);
    return s;
}

static void test_reset_plan(void)
{
    char msg[512];
    CHECK(sl_reset_plan("orders", 0, 0, 0, 0, msg, sizeof msg) == 0);
    CHECK_STR(msg, "");
    CHECK(sl_reset_plan("orders", 0, 0, 0, 1, msg, sizeof msg) == 0);
    CHECK_STR(msg, "");
    CHECK(sl_reset_plan("orders", 3, 120, 1, 0, msg, sizeof msg) == 1);
    CHECK_STR(msg, "connector orders still holds 3 undelivered records and 1 "
                   "dead letter; deliver them (start sluice with the old "
                   "schema), or replay/purge the dead letters, or use "
                   "--force to discard them");
    CHECK(sl_reset_plan("orders", 0, 0, 2, 0, msg, sizeof msg) == 1);
    CHECK_CONTAINS(msg, "0 undelivered records and 2 dead letters");
    CHECK(sl_reset_plan("orders", 1, 1, 0, 0, msg, sizeof msg) == 1);
    CHECK(sl_reset_plan("orders", 3, 120, 1, 1, msg, sizeof msg) == 0);
    CHECK_STR(msg, "discarding 3 undelivered records (120 bytes) and 1 dead "
                   "letter");
    CHECK(sl_reset_plan("orders", 1, 1, 0, 1, msg, sizeof msg) == 0);
    CHECK_STR(msg, "discarding 1 undelivered record (1 byte) and 0 dead "
                   "letters");
}

/* Run sl_reset_connector; its output in out/err (static). */
static char r_out[2048], r_err[2048];
static int reset(const char *dir, const sl_connector_conf *c, int force)
{
    char *o = NULL, *e = NULL;
    size_t ol = 0, el = 0;
    FILE *fo = open_memstream(&o, &ol), *fe = open_memstream(&e, &el);
    int rc = sl_reset_connector(dir, c, force, fo, fe);
    fclose(fo);
    fclose(fe);
    snprintf(r_out, sizeof r_out, "%s", o);
    snprintf(r_err, sizeof r_err, "%s", e);
    free(o);
    free(e);
    return rc;
}

static void test_reset(void)
{
    sl_schema *s1 = id_schema(SL_TYPE_INTEGER);
    sl_schema *s2 = id_schema(SL_TYPE_STRING);
    sl_connector_conf c = {.name = "orders", .file = "connectors/orders.lua",
                           .schema = s2};
    char dir[256], e[512];
    snprintf(dir, sizeof dir, "%s/reset/orders", base);
    sl_test_rm_rf(dir);

    /* never ran */
    CHECK(reset(dir, &c, 0) == 0);
    CHECK_CONTAINS(r_out, "nothing to reset");

    char top[128];
    snprintf(top, sizeof top, "%s/reset", base);
    CHECK(sl_state_dir(top, "orders", 1, dir, sizeof dir, e, sizeof e) == 0);
    CHECK(reset(dir, &c, 0) == 0); /* ran, but no schema lock */
    CHECK_CONTAINS(r_out, "has no schema lock");

    /* in use */
    CHECK(sl_state_schema_write(dir, s1, e, sizeof e) == 0);
    int fd = sl_state_lock(dir, e, sizeof e);
    CHECK(fd >= 0);
    CHECK(reset(dir, &c, 1) == 1);
    char want[256];
    snprintf(want, sizeof want, "sluice reset: connector orders is in use by "
             "a running sluice (pid %ld); stop it first\n", (long)getpid());
    CHECK_STR(r_err, want);
    CHECK(exists(dir, "schema.lock"));
    sl_state_unlock(fd);

    /* holds replayed records in its inbox: refused, then forced */
    char inbox[300];
    snprintf(inbox, sizeof inbox, "%s/inbox", dir);
    CHECK(mkdir(inbox, 0750) == 0);
    write_file(inbox, "1.ndjson", "{\"id\":1}\n{\"id\":22}\n", 19);
    write_file(inbox, "skip.tmp", "{\"id\":3}\n", 9); /* not yet renamed */
    CHECK(reset(dir, &c, 0) == 1);
    CHECK_STR(r_err, "sluice reset: connector orders still holds 2 "
                     "undelivered records and 0 dead letters; deliver them "
                     "(start sluice with the old schema), or replay/purge "
                     "the dead letters, or use --force to discard them\n");
    CHECK(exists(dir, "schema.lock"));
    CHECK(exists(inbox, "1.ndjson"));

    CHECK(reset(dir, &c, 1) == 0);
    CHECK_STR(r_out, "accepting these schema changes:\n"
                     "  field \"id\": type was integer, now string\n"
                     "discarding 2 undelivered records (17 bytes) and 0 dead "
                     "letters\n"
                     "connector orders reset: its next run locks the schema "
                     "in connectors/orders.lua\n");
    CHECK_STR(r_err, "");
    CHECK(!exists(dir, "schema.lock"));
    CHECK(!exists(inbox, "1.ndjson"));
    CHECK(!exists(inbox, "skip.tmp"));
    CHECK(exists(dir, "inbox")); /* the directory itself stays */
    CHECK(sl_state_locked(dir, NULL) == 0); /* reset let go of the lock */

    /* nothing held: the lock goes, nothing else is touched */
    CHECK(sl_state_schema_write(dir, s1, e, sizeof e) == 0);
    write_file(dir, "keep", "x", 1);
    CHECK(reset(dir, &c, 0) == 0);
    CHECK_CONTAINS(r_out, "connector orders reset");
    CHECK(!exists(dir, "schema.lock"));
    CHECK(exists(dir, "keep"));

    /* a corrupt lock can be reset too */
    write_file(dir, "schema.lock", "junk\n", 5);
    CHECK(reset(dir, &c, 0) == 0);
    CHECK(!exists(dir, "schema.lock"));

    sl_schema_free(s1);
    sl_schema_free(s2);
}

/* Spool `n` records {"id":N} in dir, through the real spool. */
static void spool_records(const char *dir, int n)
{
    struct event_base *eb = event_base_new();
    sl_spool_opts o = {.dir = dir, .name = "orders",
                       .durability = SL_DURABILITY_OS, .max_bytes = 1 << 20,
                       .segment_bytes = 1 << 16, .cache_bytes = 1 << 16};
    char err[512];
    sl_spool *sp = sl_spool_open(eb, &o, err, sizeof err);
    CHECK(sp != NULL);
    sl_buf block;
    sl_buf_init(&block, 0);
    for (int i = 0; i < n; i++) {
        char rec[32];
        uint32_t len = (uint32_t)snprintf(rec, sizeof rec, "{\"id\":%d}", i);
        sl_buf_append(&block, &len, 4);
        sl_buf_append(&block, rec, len);
    }
    uint64_t ticket;
    if (sp) {
        CHECK(sl_spool_append(sp, &block, (size_t)n, 1, &ticket) ==
              SL_SPOOL_OK);
        CHECK(sl_spool_sync(sp) == 0);
    }
    sl_spool_close(sp);
    sl_buf_free(&block);
    event_base_free(eb);
}

/* Reset against what the real spool and dead letters hold. */
static void test_reset_stores(void)
{
    sl_schema *s1 = id_schema(SL_TYPE_INTEGER);
    sl_schema *s2 = id_schema(SL_TYPE_STRING);
    sl_connector_conf c = {.name = "orders", .file = "connectors/orders.lua",
                           .schema = s2};
    char dir[256], top[128], e[512];
    snprintf(top, sizeof top, "%s/stores", base);
    sl_test_rm_rf(top);
    CHECK(sl_state_dir(top, "orders", 1, dir, sizeof dir, e, sizeof e) == 0);
    CHECK(sl_state_schema_write(dir, s1, e, sizeof e) == 0);

    spool_records(dir, 3); /* 3 x 8 bytes */
    sl_dlq *d = sl_dlq_open(dir, e, sizeof e);
    CHECK(d != NULL);
    sl_dlq_entry ent = {.record = "{\"id\":9}", .record_len = 8,
                        .status = 400, .reason = "HTTP 400 (permanent)",
                        .attempts = 1, .batch_id = "b1"};
    if (d)
        CHECK(sl_dlq_append(d, &ent, 1, e, sizeof e) == 0);
    sl_dlq_close(d);

    CHECK(reset(dir, &c, 0) == 1);
    CHECK_CONTAINS(r_err, "connector orders still holds 3 undelivered "
                          "records and 1 dead letter;");
    CHECK(exists(dir, "schema.lock"));

    CHECK(reset(dir, &c, 1) == 0);
    CHECK_CONTAINS(r_out, "discarding 3 undelivered records (24 bytes) and 1 "
                          "dead letter\n");
    CHECK(!exists(dir, "schema.lock"));
    uint64_t records = 1, bytes = 1;
    CHECK(sl_spool_inspect(dir, &records, &bytes, e, sizeof e) == 0);
    CHECK(records == 0 && bytes == 0);
    CHECK(sl_dlq_count_dir(dir, e, sizeof e) == 0);

    /* the spool opens again, empty */
    spool_records(dir, 1);
    CHECK(sl_spool_inspect(dir, &records, &bytes, e, sizeof e) == 0);
    CHECK(records == 1);

    sl_schema_free(s1);
    sl_schema_free(s2);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"reset_plan", test_reset_plan},
        {"reset", test_reset},
        {"reset_stores", test_reset_stores},
        {NULL, NULL}};
    if (!mkdtemp(base)) {
        perror(base);
        return 1;
    }
    int rc = sl_test_run(cases);
    sl_test_rm_rf(base);
    return rc;
}
