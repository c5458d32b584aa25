/* sl_pieces: sl_ingest of a large NDJSON chunk cut into pieces at line
 * ends, the pieces checked and encoded at the same time on sl_workers'
 * helper threads and the calling thread, then put back together in line
 * order. Only for checks that can run concurrently: a schema (read-only
 * and thread-safe), no transform (a Lua state is single-threaded). */
#ifndef SL_PIECES_H
#define SL_PIECES_H

#include <stddef.h>

#include "sl_buf.h"
#include "sl_ingest.h"
#include "sl_schema.h"

#define SL_PIECES_BYTES (16u << 10) /* about this much input per piece */

struct sl_pieces;
typedef struct sl_pieces sl_pieces;

/* Pieces spread over `nhelpers` threads besides the caller's. NULL with a
 * message in err on failure. */
sl_pieces *sl_pieces_new(unsigned nhelpers, char *err, size_t errlen);

/* Join the helpers and free. Accepts NULL. */
void sl_pieces_free(sl_pieces *p);

/* What sl_ingest(schema, NULL, SL_INGEST_NDJSON, data, len, lim, block,
 * rejects, res) would do, with the same records appended to `block` in the
 * same order and the same res, except for the rejections: they stay with
 * their piece (sl_pieces_piece), each piece listing at most
 * SL_INGEST_MAX_LISTED with indices counted from the piece's first
 * non-blank line, and res->listed is the sum over the pieces. Returns 0,
 * or -1 when a buffer's cap was reached (block restored, res zeroed). Not
 * reentrant; one calling thread at a time. The pieces stay valid until the
 * next call. */
int sl_pieces_ingest(sl_pieces *p, const sl_schema *schema, const char *data,
                     size_t len, const sl_ingest_limits *lim, sl_buf *block,
                     sl_ingest_result *res);

/* Pieces of the last sl_pieces_ingest. */
size_t sl_pieces_count(const sl_pieces *p);

/* Piece i (< sl_pieces_count) of the last call: its input (*data, *len:
 * whole lines of the caller's buffer, in order, together all of it), its
 * rejections (a list as sl_ingest's `rejects`, owned by p) and how many
 * it lists. */
void sl_pieces_piece(const sl_pieces *p, size_t i, const char **data,
                     size_t *len, const sl_buf **rejects, size_t *listed);

#endif
