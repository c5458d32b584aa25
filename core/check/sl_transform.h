/* sl_transform: runs a connector's Lua `transform(rec, ctx)` on one record
 * at the intake and checks and encodes what it returns against the schema
 * (a record, a list of records, or nil to drop it). */
#ifndef SL_TRANSFORM_H
#define SL_TRANSFORM_H

#include <stddef.h>

#include <lua.h>

#include "sl_buf.h"
#include "sl_json.h"
#include "sl_luaruntime.h"
#include "sl_schema.h"

struct sl_transform;
typedef struct sl_transform sl_transform;

/* A transform calling the function at registry ref `fn_ref` of L (both
 * borrowed) with at most max_instructions per record. NULL on ENOMEM. */
sl_transform *sl_transform_new(lua_State *L, int fn_ref,
                               const sl_schema *schema, const char *connector,
                               unsigned long max_instructions);
void sl_transform_free(sl_transform *transform); /* accepts NULL */

/* The calls so far: every call counted, errors (a Lua error, a budget or
 * memory limit), overruns (the instruction budget) and the time in the
 * function. Zeros for NULL. */
sl_luaruntime_tally sl_transform_tally(const sl_transform *transform);

/* Called for each output that is rejected (field "" when not field-bound). */
typedef int (*sl_transform_reject_fn)(void *ud, const char *field,
                                      const char *msg);

typedef struct sl_transform_result {
    size_t accepted; /* frames appended to block */
    size_t dropped;  /* 1 when the transform returned nil */
    size_t rejected; /* outputs (or the input) rejected */
} sl_transform_result;

/* Transform the record whose first token is *first (read from js) and
 * append each accepted output to block as a queue frame; reject() is called
 * for each rejected one (a Lua error, a budget or memory limit, an output
 * the schema refuses). The scanner is left after the record. Returns 0, 1
 * when the record is malformed JSON (js->err says why; nothing appended),
 * or -1 when block's cap is reached or reject() failed. */
int sl_transform_record(sl_transform *transform, sl_json *js,
                        const sl_json_token *first, size_t index,
                        sl_buf *block, sl_transform_reject_fn reject,
                        void *ud, sl_transform_result *res);

#endif
