/* sl_send_opts: parses `sluice send`'s options; every value is checked
 * before anything is opened. */
#include "sl_send_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sl_help.h"
#include "sl_log.h"

static int bad(FILE *err, const char *what, const char *arg)
{
    fprintf(err, "sluice send: %s", what);
    if (arg) {
        fputs(" \"", err);
        sl_help_print_arg(arg, err);
        fputc('"', err);
    }
    fputs(" (sluice send --help)\n", err);
    return -1;
}

static int number(const char *s, unsigned long long max,
                  unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

int sl_send_opts_parse(int argc, char **argv, sl_send_opts *o, FILE *err)
{
    memset(o, 0, sizeof *o);
    o->config = "conf/sluice.lua";
    o->batch_rows = SL_SEND_OPTS_DEF_BATCH_ROWS;
    o->batch_bytes = SL_SEND_OPTS_DEF_BATCH_BYTES;
    o->progress = 1;
    o->log_level = -1;
    o->files = calloc((size_t)argc + 1, sizeof *o->files);
    if (!o->files)
        return bad(err, "out of memory", NULL);
    bool dashdash = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long n;
        bool opt = !dashdash && a[0] == '-' && a[1];
        if (!opt) {
            if (!o->connector)
                o->connector = a;
            else
                o->files[o->nfiles++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            dashdash = true;
            continue;
        }
        if (strcmp(a, "--tsv") == 0) {
            o->format = SL_SOURCE_TSV;
            continue;
        }
        if (strcmp(a, "--no-progress") == 0) {
            o->progress = 0;
            continue;
        }
        bool takes = strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
                     strcmp(a, "--format") == 0 ||
                     strcmp(a, "--delimiter") == 0 ||
                     strcmp(a, "--batch") == 0 ||
                     strcmp(a, "--batch-bytes") == 0 ||
                     strcmp(a, "--rejects") == 0 ||
                     strcmp(a, "--progress-interval") == 0 ||
                     strcmp(a, "--log-level") == 0;
        if (!takes)
            return bad(err, "unknown option", a);
        if (!v)
            return bad(err, "this option needs a value:", a);
        i++;
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
            o->config = v;
        else if (strcmp(a, "--format") == 0) {
            if (sl_source_format_parse(v, &o->format) != 0)
                return bad(err, "--format wants csv, tsv, ndjson, jsonl or "
                           "json, not", v);
        } else if (strcmp(a, "--delimiter") == 0) {
            if (sl_source_delimiter_parse(v, &o->delimiter) != 0)
                return bad(err, "--delimiter wants one character (or tab), "
                           "not", v);
        } else if (strcmp(a, "--batch") == 0) {
            if (number(v, 100000, &n) != 0)
                return bad(err, "--batch wants rows, 1 to 100000, not", v);
            o->batch_rows = (size_t)n;
        } else if (strcmp(a, "--batch-bytes") == 0) {
            if (number(v, (unsigned long long)1 << 30, &n) != 0)
                return bad(err, "--batch-bytes wants 1 to 1073741824, not", v);
            o->batch_bytes = (size_t)n;
        } else if (strcmp(a, "--rejects") == 0) {
            o->rejects = v;
        } else if (strcmp(a, "--progress-interval") == 0) {
            if (number(v, 86400, &n) != 0)
                return bad(err, "--progress-interval wants seconds, 1 to "
                           "86400, not", v);
            o->progress_ms = (unsigned)n * 1000;
        } else {
            o->log_level = sl_log_level_from_name(v);
            if (o->log_level < 0)
                return bad(err, "--log-level wants debug, info, warn, error "
                           "or off, not", v);
        }
    }
    if (!o->connector)
        return bad(err, "which connector? sluice send CONNECTOR FILE...",
                   NULL);
    if (!o->nfiles)
        return bad(err, "which file? sluice send CONNECTOR FILE... (- for "
                   "standard input)", NULL);
    size_t stdin_n = 0;
    for (size_t i = 0; i < o->nfiles; i++)
        stdin_n += strcmp(o->files[i], "-") == 0;
    if (stdin_n > 1)
        return bad(err, "standard input (-) can be read once only", NULL);
    if (o->rejects && o->nfiles > 1)
        return bad(err, "--rejects names the rejects file of one input; with "
                   "several, each has FILE.rejects.ndjson", NULL);
    if (o->delimiter && !sl_source_takes_delimiter(o->format))
        return bad(err, "--delimiter is for CSV and TSV", NULL);
    return 0;
}
