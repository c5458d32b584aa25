/* bench/bench_transform.c: CPU time per record of the intake's check, with
 * and without the small Lua transform of bench/callgrind.sh transform
 * (rename a field, uppercase a string, add a field), on the records of
 * bench/gen_records.py. The difference is what the transform path costs.
 *
 *   cmake --build build-bench --target bench_transform
 *   python3 bench/gen_records.py --count 100 >/tmp/body.json
 *   build-bench/tests/bench_transform /tmp/body.json [RECORDS (1000000)]
 *
 * CPU time of this process (CLOCK_PROCESS_CPUTIME_ID), best of 3 runs:
 * other load on a shared machine still slows it (caches, frequency). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "sl_ingest.h"
#include "sl_luahost.h"
#include "sl_transform.h"

static const char TRANSFORM[] =
    "return function(rec)\n"
    "  rec.total = rec.amount\n"
    "  rec.amount = nil\n"
    "  rec.name = string.upper(rec.name)\n"
    "  rec.source = \"bench\"\n"
    "  return rec\n"
    "end\n";

static sl_schema *make_schema(int transformed)
{
    char err[128];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    int bad = !s ||
              sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, sizeof err) ||
              sl_schema_add(s, "email", SL_TYPE_STRING, false, err, sizeof err) ||
              sl_schema_add(s, "name", SL_TYPE_STRING, false, err, sizeof err) ||
              sl_schema_add(s, transformed ? "total" : "amount",
                            SL_TYPE_NUMBER, true, err, sizeof err) ||
              sl_schema_add(s, "active", SL_TYPE_BOOLEAN, false, err, sizeof err) ||
              sl_schema_add(s, "created_at", SL_TYPE_DATETIME, false, err,
                            sizeof err) ||
              (transformed &&
               sl_schema_add(s, "source", SL_TYPE_STRING, false, err, sizeof err));
    if (bad) {
        fprintf(stderr, "schema: %s\n", s ? err : "out of memory");
        exit(1);
    }
    return s;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ns of CPU per record to check (and transform) `records` records. */
static double run(const sl_schema *s, sl_transform *t, const char *body,
                  size_t len, size_t records)
{
    sl_buf block, rejects;
    sl_ingest_result res;
    size_t done = 0;
    sl_buf_init(&block, 0);
    sl_buf_init(&rejects, 0);
    double t0 = cpu_s();
    while (done < records) {
        sl_buf_reset(&block);
        sl_buf_reset(&rejects);
        if (sl_ingest(s, t, SL_INGEST_JSON, body, len, NULL, &block, &rejects,
                      &res) != 0 || res.rejected || res.malformed) {
            fprintf(stderr, "ingest failed: %.*s\n", (int)rejects.len,
                    rejects.data ? rejects.data : "");
            exit(1);
        }
        done += res.accepted;
    }
    double ns = (cpu_s() - t0) * 1e9 / (double)done;
    sl_buf_free(&block);
    sl_buf_free(&rejects);
    return ns;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *p = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            char *q = realloc(p, cap = cap ? 2 * cap : 65536);
            if (!q) {
                free(p);
                fclose(f);
                return NULL;
            }
            p = q;
        }
        size_t n = fread(p + *len, 1, cap - *len, f);
        if (n == 0)
            break;
        *len += n;
    }
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_transform BODY.json [RECORDS]\n");
        return 2;
    }
    size_t records = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    size_t len;
    char *body = slurp(argv[1], &len);
    char err[256];
    lua_State *L = sl_luahost_new(64u << 20, err, sizeof err);
    if (!body || !L || luaL_loadstring(L, TRANSFORM) != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    sl_schema *plain = make_schema(0), *out = make_schema(1);
    sl_transform *t = sl_transform_new(L, ref, out, "bench", 1000000);
    if (!t)
        return 1;
    double best_plain = 1e30, best_tr = 1e30;
    for (int i = 0; i < 3; i++) {
        double a = run(plain, NULL, body, len, records);
        double b = run(out, t, body, len, records);
        best_plain = a < best_plain ? a : best_plain;
        best_tr = b < best_tr ? b : best_tr;
    }
    printf("check only:       %7.0f ns/record\n", best_plain);
    printf("with transform:   %7.0f ns/record\n", best_tr);
    printf("transform path:   %7.0f ns/record\n", best_tr - best_plain);
    sl_transform_free(t);
    sl_schema_free(plain);
    sl_schema_free(out);
    sl_luahost_free(L);
    free(body);
    return 0;
}
