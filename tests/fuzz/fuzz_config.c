/* fuzz_config: sl_config_load on an arbitrary connector file, named by a
 * fixed gateway file. If the input has a line "--gateway", what follows it
 * also runs inside the gateway file (its table's `connectors` is then
 * forced back to the one connector file, so that the loader never reads
 * outside the fuzzer's directory). Files live in a private directory
 * under /tmp, removed at exit. The loader's own limits (instructions,
 * memory, source size) must keep every input fast: libFuzzer's -timeout
 * reports one that is not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "sl_config.h"
#include "sl_config_load.h"
#include "sl_config_print.h"

static char dir[64], gateway[96], connector[96];
static FILE *devnull;

static void cleanup(void)
{
    unlink(gateway);
    unlink(connector);
    rmdir(dir);
}

static void write_file(const char *path, const char *a, size_t alen,
                       const char *b, size_t blen, const char *c, size_t clen)
{
    FILE *f = fopen(path, "wb");
    FUZZ_ASSERT(f != NULL);
    FUZZ_ASSERT(fwrite(a, 1, alen, f) == alen && fwrite(b, 1, blen, f) == blen &&
                fwrite(c, 1, clen, f) == clen);
    FUZZ_ASSERT(fclose(f) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "/tmp/sluice-fuzz-config.XXXXXX");
    FUZZ_ASSERT(mkdtemp(dir) != NULL);
    snprintf(gateway, sizeof gateway, "%s/sluice.lua", dir);
    snprintf(connector, sizeof connector, "%s/c.lua", dir);
    atexit(cleanup);
    devnull = fopen("/dev/null", "w");
    FUZZ_ASSERT(devnull != NULL);
    return 0;
}

static const char fixed_gateway[] =
    "return { state_dir = 'var', connectors = { 'c.lua' } }\n";
static const char gw_head[] = "local g = (function()\n";
static const char gw_tail[] =
    "\nend)()\n"
    "if type(g) == 'table' then g.connectors = { 'c.lua' } end\n"
    "return g\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char marker[] = "\n--gateway\n";
    const char *p = (const char *)data;
    const char *m = memmem(p, size, marker, sizeof marker - 1);
    size_t clen = m ? (size_t)(m - p) : size;

    write_file(connector, p, clen, "", 0, "", 0);
    if (m) {
        const char *g = m + sizeof marker - 1;
        write_file(gateway, gw_head, sizeof gw_head - 1, g,
                   (size_t)(p + size - g), gw_tail, sizeof gw_tail - 1);
    } else {
        write_file(gateway, fixed_gateway, sizeof fixed_gateway - 1, "", 0,
                   "", 0);
    }

    sl_config_errors errs;
    sl_config_errors_init(&errs);
    sl_config *c = sl_config_load(gateway, &errs);
    if (c) {
        FUZZ_ASSERT(errs.n == 0);
        FUZZ_ASSERT(c->nconnectors <= 1);
        for (size_t i = 0; i < c->nconnectors; i++) {
            const sl_connector_conf *cc = &c->connectors[i];
            FUZZ_ASSERT(cc->name && cc->url && cc->method && cc->schema);
            FUZZ_ASSERT(sl_config_connector(c, cc->name) == cc);
        }
        sl_config_print(c, devnull);
        sl_config_free(c);
    } else {
        FUZZ_ASSERT(errs.n > 0); /* a refusal says why */
        for (size_t i = 0; i < errs.n; i++)
            FUZZ_ASSERT(errs.msgs[i] && strchr(errs.msgs[i], '\n') == NULL);
    }
    sl_config_errors_free(&errs);
    return 0;
}
