/* sl_send_rejects: writes the rejects file of one input of `sluice
 * send`, made at its first rejection. */
#include "sl_send_rejects.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_buf.h"
#include "sl_json.h"

struct sl_send_rejects {
    char *path;
    FILE *f;          /* NULL until the first rejection */
    uint64_t count;
    sl_buf line;
};

int sl_send_rejects_path_for(const char *input, char *out, size_t n)
{
    int k = strcmp(input, "-") == 0
                ? snprintf(out, n, "stdin.rejects.ndjson")
                : snprintf(out, n, "%s.rejects.ndjson", input);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

sl_send_rejects *sl_send_rejects_new(const char *path, char *err,
                                     size_t errlen)
{
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove the old %s: %s", path,
                 strerror(errno));
        return NULL;
    }
    sl_send_rejects *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sl_buf_init(&r->line, 0);
    return r;
}

/* s[0..n) as a JSON string, each ill-formed UTF-8 part as U+FFFD. */
static void put_text(sl_buf *b, const char *s, size_t n)
{
    sl_buf clean;
    sl_buf_init(&clean, 0);
    for (size_t i = 0; i < n;) {
        size_t bad = 0;
        size_t k = sl_json_utf8_len((const unsigned char *)s + i, n - i, &bad);
        if (k) {
            sl_buf_append(&clean, s + i, k);
            i += k;
        } else {
            sl_buf_append(&clean, "\xef\xbf\xbd", 3);
            i += bad ? bad : 1;
        }
    }
    sl_buf_json_string(b, clean.data ? clean.data : "", clean.len);
    sl_buf_free(&clean);
}

int sl_send_rejects_add(sl_send_rejects *r, uint64_t line, const char *field,
                        const char *error, const char *raw, size_t raw_len,
                        bool raw_cut, char *err, size_t errlen)
{
    if (!r->f && !(r->f = fopen(r->path, "w"))) {
        snprintf(err, errlen, "cannot create %s: %s", r->path,
                 strerror(errno));
        return -1;
    }
    sl_buf *b = &r->line;
    sl_buf_reset(b);
    sl_buf_printf(b, "{\"line\":%llu,\"field\":", (unsigned long long)line);
    put_text(b, field ? field : "", field ? strlen(field) : 0);
    sl_buf_printf(b, ",\"error\":");
    put_text(b, error, strlen(error));
    sl_buf_printf(b, ",\"row\":");
    put_text(b, raw ? raw : "", raw ? raw_len : 0);
    if (raw_cut)
        sl_buf_printf(b, ",\"row_cut\":true");
    sl_buf_printf(b, "}\n");
    if (fwrite(b->data, 1, b->len, r->f) != b->len) {
        snprintf(err, errlen, "cannot write %s: %s", r->path,
                 strerror(errno));
        return -1;
    }
    r->count++;
    return 0;
}

uint64_t sl_send_rejects_count(const sl_send_rejects *r) { return r->count; }
const char *sl_send_rejects_path(const sl_send_rejects *r) { return r->path; }

int sl_send_rejects_close(sl_send_rejects *r, char *err, size_t errlen)
{
    if (!r->f)
        return 0;
    int bad = ferror(r->f);
    if (fclose(r->f) != 0)
        bad = 1;
    r->f = NULL;
    if (bad) {
        snprintf(err, errlen, "cannot write %s: %s", r->path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

void sl_send_rejects_free(sl_send_rejects *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    sl_buf_free(&r->line);
    free(r->path);
    free(r);
}
