/* sl_response: one call of a connector's response_fn(res, req) on the
 * loop. The answer is copied (its status, header lines, body up to
 * max_response_bytes and whether it was cut, Retry-After), the call runs
 * as an sl_luaruntime task (so it may wait in sluice.http.request or
 * sluice.sleep, within the instruction budget), and its result comes
 * back as an sl_verdict, or the reason it failed.
 *
 * In Lua: res = { status = n, headers = { ["lower-case-name"] = "value"
 * (a repeated header's values joined with ", ") }, body = "...",
 * truncated = bool }; req is headers_fn's (sl_lua_req) plus
 * req.record(i), the i-th record (from 1) of the piece sent, decoded into
 * a table on the first call for that i (as a transform sees a record:
 * null is sluice.json.null), valid only during the call. */
#ifndef SL_RESPONSE_H
#define SL_RESPONSE_H

#include <stddef.h>

#include <lua.h>

#include "sl_batch.h"
#include "sl_config.h"
#include "sl_http_client.h"
#include "sl_lua_req.h"
#include "sl_luaruntime.h"
#include "sl_verdict.h"

struct sl_response;
typedef struct sl_response sl_response;

/* response_fn is done. res is the answer as copied (valid during the
 * call; its body is what response_fn saw). On success v is what it
 * returned (freed after the call) and err NULL; on failure (a Lua error,
 * the instruction or memory limit, a result sl_verdict_read refuses) v
 * is NULL and err says why. The call is freed after `done` returns. */
typedef void (*sl_response_done_fn)(void *ud,
                                    const sl_http_client_response *res,
                                    const sl_verdict *v, const char *err);

/* Call connector c's response_fn (in its state c->L, run by rt) on
 * answer res (copied) with req r (pushed at once; borrowed for the call
 * only) and req.record over the current piece of recs (borrowed: recs and
 * its current piece must stay as they are until `done` or
 * sl_response_cancel). An answer cut at max_response_bytes is logged
 * unless *cut_said, which is then set (once per batch). `done` runs once,
 * from the loop, never inside this call. NULL when out of memory (then
 * done never runs). */
sl_response *sl_response_start(sl_luaruntime *rt, const sl_connector_conf *c,
                               const sl_http_client_response *res,
                               const sl_lua_req *r, const sl_batch *recs,
                               int *cut_said, sl_response_done_fn done,
                               void *ud);

/* Stop the call; `done` never runs; req.record fails from now on.
 * Accepts NULL. */
void sl_response_cancel(sl_response *c);

#endif
