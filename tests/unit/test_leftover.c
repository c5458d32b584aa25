/* Unit tests for sl_leftover: which entries of a state directory count as
 * a connector's directory (never dot entries, files or symbolic links),
 * and the report of those no connector owns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_leftover.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static char base[128];

static void mk(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", base, rel);
    CHECK(mkdir(path, 0700) == 0);
}

static void touch(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", base, rel);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
}

static void test_is_connector_dir(void)
{
    mk("a");
    touch("a/lock");
    mk("b");
    mk("b/dlq");
    mk("empty");
    mk(".hidden");
    touch(".hidden/lock");
    touch("file");
    char target[256], link[256];
    snprintf(target, sizeof target, "%s/a", base);
    snprintf(link, sizeof link, "%s/link", base);
    CHECK(symlink(target, link) == 0);
    CHECK(sl_leftover_is_connector_dir(base, "a") == 1);
    CHECK(sl_leftover_is_connector_dir(base, "b") == 1);
    CHECK(sl_leftover_is_connector_dir(base, "empty") == 0);
    CHECK(sl_leftover_is_connector_dir(base, ".hidden") == 0);
    CHECK(sl_leftover_is_connector_dir(base, "file") == 0);
    CHECK(sl_leftover_is_connector_dir(base, "link") == 0);
    CHECK(sl_leftover_is_connector_dir(base, "missing") == 0);
    char longname[5000];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(sl_leftover_is_connector_dir(base, longname) == 0);
}

static void test_report(void)
{
    sl_connector_conf c = {.name = "a"};
    sl_config cfg = {.state_dir = base, .connectors = &c, .nconnectors = 1};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(sl_leftover_report(&cfg, out) == 1); /* b; a is configured */
    fclose(out);
    CHECK_CONTAINS(text, "no connector \"b\" is configured");
    CHECK_CONTAINS(text, "0 undelivered records (0 bytes) and 0 dead letters");
    CHECK(strstr(text, "\"a\"") == NULL);
    free(text);
    sl_config none = {.state_dir = "/nonexistent/sluice-state"};
    CHECK(sl_leftover_report(&none, stdout) == 0);
}

int main(void)
{
    sl_test_dir_fresh(base, sizeof base, "leftover");
    static const sl_test_case cases[] = {
        {"is_connector_dir", test_is_connector_dir},
        {"report", test_report},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_test_rm_rf(base);
    return rc;
}
