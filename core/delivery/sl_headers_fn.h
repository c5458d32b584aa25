/* sl_headers_fn: one call of a connector's headers_fn(req) on the loop
 * (an sl_luaruntime task, so it may wait in sluice.http.request or
 * sluice.sleep), the table it returns made into the attempt's header
 * list (sl_attempt_headers). */
#ifndef SL_HEADERS_FN_H
#define SL_HEADERS_FN_H

#include "sl_batch.h"
#include "sl_config.h"
#include "sl_lua_req.h"
#include "sl_luaruntime.h"

struct curl_slist;
struct sl_headers_fn;
typedef struct sl_headers_fn sl_headers_fn;

/* headers_fn is done: `headers` is the attempt's list (the callee owns
 * it: sl_attempt_headers_free), or NULL with the reason in err (a Lua
 * error, a limit, not a table, a header sl_attempt_headers refuses). The
 * call is freed after `done` returns. */
typedef void (*sl_headers_fn_done_fn)(void *ud, struct curl_slist *headers,
                                      const char *err);

/* Call connector c's headers_fn (run by rt) with req r (pushed at once;
 * borrowed for this call only) for the current piece of recs (borrowed
 * until `done` or sl_headers_fn_cancel: its key and, for a per-record
 * connector, its record fill the headers). `done` runs once, from the
 * loop, never inside this call. NULL when out of memory (then done never
 * runs). */
sl_headers_fn *sl_headers_fn_start(sl_luaruntime *rt,
                                   const sl_connector_conf *c,
                                   const sl_lua_req *r, const sl_batch *recs,
                                   sl_headers_fn_done_fn done, void *ud);

/* Stop the call; `done` never runs. Accepts NULL. */
void sl_headers_fn_cancel(sl_headers_fn *h);

#endif
