/* sl_send_opts: the command line of `sluice send`. */
#ifndef SL_SEND_OPTS_H
#define SL_SEND_OPTS_H

#include <stddef.h>
#include <stdio.h>

#include "sl_source.h"

#define SL_SEND_OPTS_DEF_BATCH_ROWS 1000
#define SL_SEND_OPTS_DEF_BATCH_BYTES ((size_t)1 << 20)

typedef struct sl_send_opts {
    const char *config;        /* -c; default conf/sluice.lua */
    const char *connector;
    char **files;              /* borrowed from argv */
    size_t nfiles;
    sl_source_format format;   /* --format / --tsv; AUTO: by name */
    char delimiter;            /* --delimiter; 0: the format's */
    size_t batch_rows;         /* --batch */
    size_t batch_bytes;        /* --batch-bytes */
    const char *rejects;       /* --rejects PATH (one input only) */
    unsigned progress_ms;      /* --progress-interval, plain lines */
    int progress;              /* 1 auto, 0 --no-progress */
    int log_level;             /* --log-level, or -1 */
} sl_send_opts;

/* Parse argv[0..argc) (the words after "send") into *o. 0, or -1 with
 * the problem said on err (the caller exits 2). */
int sl_send_opts_parse(int argc, char **argv, sl_send_opts *o, FILE *err);

#endif
