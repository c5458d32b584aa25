/* sl_progress: the two checksummed slots of a spool's progress file (the
 * format is in sl_progress.h). */
#include "sl_progress.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_fs.h"
#include "sl_segment.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the progress file format assumes a little-endian machine"
#endif

#define HEAD 40u  /* magic, seq, epoch, read_lsn, ncuts, pad */
#define CUT 24u   /* start, end, nrecords */

_Static_assert(HEAD + SL_PROGRESS_MAX_CUTS * CUT + 4 <= SL_PROGRESS_SLOT,
               "the cuts must fit a slot");

struct sl_progress {
    int fd;
    uint64_t seq;               /* of the newest slot read or written */
};

sl_progress *sl_progress_open(const char *spool_dir, int writable)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/progress", spool_dir) >=
        (int)sizeof path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    sl_progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->fd = writable ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)
                     : open(path, O_RDONLY | O_CLOEXEC);
    if (p->fd < 0) {
        int e = errno;
        free(p);
        errno = e;
        return NULL;
    }
    return p;
}

void sl_progress_close(sl_progress *p)
{
    if (!p)
        return;
    close(p->fd);
    free(p);
}

int sl_progress_fd(const sl_progress *p) { return p->fd; }

static void put64(unsigned char *b, uint64_t v) { memcpy(b, &v, 8); }
static uint64_t get64(const unsigned char *b)
{
    uint64_t v;
    memcpy(&v, b, 8);
    return v;
}
static void put32(unsigned char *b, uint32_t v) { memcpy(b, &v, 4); }
static uint32_t get32(const unsigned char *b)
{
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
}

int sl_progress_write(sl_progress *p, uint64_t epoch, uint64_t read_lsn,
                      const sl_cut *cuts, size_t ncuts)
{
    if (ncuts > SL_PROGRESS_MAX_CUTS) {
        errno = EINVAL;
        return -1;
    }
    unsigned char slot[SL_PROGRESS_SLOT];
    memset(slot, 0, sizeof slot);
    uint64_t seq = ++p->seq;
    put64(slot, SL_PROGRESS_MAGIC);
    put64(slot + 8, seq);
    put64(slot + 16, epoch);
    put64(slot + 24, read_lsn);
    put32(slot + 32, (uint32_t)ncuts); /* pad at 36 stays 0 */
    size_t o = HEAD;
    for (size_t i = 0; i < ncuts; i++, o += CUT) {
        put64(slot + o, cuts[i].start);
        put64(slot + o + 8, cuts[i].end);
        put64(slot + o + 16, (uint64_t)cuts[i].nrecords);
    }
    put32(slot + o, sl_segment_crc(slot, o));
    off_t at = (off_t)((seq & 1) * SL_PROGRESS_SLOT);
    return sl_fs_pwrite_all(p->fd, slot, sizeof slot, at);
}

/* Slot k into *st if it is valid; *seq gets its sequence number. */
static int read_slot(const sl_progress *p, int k, sl_progress_state *st,
                     uint64_t *seq)
{
    unsigned char slot[SL_PROGRESS_SLOT];
    size_t got;
    if (sl_fs_pread_all(p->fd, slot, sizeof slot,
                        (off_t)k * SL_PROGRESS_SLOT, &got) != 0 ||
        got != sizeof slot)
        return -1;
    uint32_t n = get32(slot + 32);
    if (get64(slot) != SL_PROGRESS_MAGIC || n > SL_PROGRESS_MAX_CUTS)
        return -1;
    size_t o = HEAD + (size_t)n * CUT;
    if (get32(slot + o) != sl_segment_crc(slot, o))
        return -1;
    memset(st, 0, sizeof *st);
    *seq = get64(slot + 8);
    st->epoch = get64(slot + 16);
    st->read_lsn = get64(slot + 24);
    st->ncuts = n;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *c = slot + HEAD + (size_t)i * CUT;
        st->cuts[i].start = get64(c);
        st->cuts[i].end = get64(c + 8);
        st->cuts[i].nrecords = (size_t)get64(c + 16);
        st->cuts[i].ms = 1; /* arrival not kept: before the open */
    }
    return 0;
}

int sl_progress_read(sl_progress *p, sl_progress_state *st)
{
    sl_progress_state cand;
    int found = 0;
    uint64_t best = 0;
    memset(st, 0, sizeof *st);
    for (int k = 0; k < 2; k++) {
        uint64_t seq;
        if (read_slot(p, k, &cand, &seq) != 0 || (found && seq <= best))
            continue;
        *st = cand;
        found = 1;
        best = seq;
    }
    if (!found)
        return 1;
    p->seq = best;
    return 0;
}
