/* sl_luaruntime: Lua on the event loop. Runs a connector's Lua function as a
 * coroutine that may suspend in sluice.http.request (libcurl on the same
 * loop) or sluice.sleep, with an instruction budget per call. Those two
 * functions are here; sl_luastd registers them in the `sluice` module. */
#ifndef SL_LUARUNTIME_H
#define SL_LUARUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "sl_transport.h"

struct event_base;
struct sl_http_client;
struct sl_luaruntime;
typedef struct sl_luaruntime sl_luaruntime;
struct sl_luaruntime_task;
typedef struct sl_luaruntime_task sl_luaruntime_task;

/* A runtime for state L (borrowed; outlives the runtime; at most one
 * runtime per state), calling into it with at most max_instructions per
 * task (0: 1,000,000). Transfers go through `http` (borrowed) on `base`.
 * NULL with a message in err on failure. */
sl_luaruntime *sl_luaruntime_new(lua_State *L, struct event_base *base,
                                 struct sl_http_client *http,
                                 unsigned long max_instructions, char *err,
                                 size_t errlen);

/* The transport of rt's requests (sluice.http.request): the connector's,
 * copied, but without tls.server_name, which names the connector's `url`
 * host and not the hosts a function may call (a token endpoint). Its
 * strings are borrowed and must outlive rt. NULL (the default): curl's
 * defaults as sl_transport_init says. */
void sl_luaruntime_set_transport(sl_luaruntime *rt, const sl_transport *t);

/* With `off` non-zero, sluice.http.request on rt makes no request: it
 * raises "sluice.http.request to URL was not made: --no-network" in the
 * calling task (`sluice preview --no-network`). 0 (the default): requests
 * are made. */
void sl_luaruntime_set_no_network(sl_luaruntime *rt, int off);

/* Free every task (no callbacks). Free the sl_http_client first, so that no
 * transfer completes into a freed task. Accepts NULL. */
void sl_luaruntime_free(sl_luaruntime *rt);

/* What the calls of one function did (sluice_lua_* metrics): counted
 * when a call ends (a cancelled one is not). time_us is from the start to
 * the end, waits in sluice.http.request and sluice.sleep included. */
typedef struct sl_luaruntime_tally {
    uint64_t calls;     /* calls ended */
    uint64_t errors;    /* ... that raised, ran out of memory or budget */
    uint64_t overruns;  /* ... that ran past the instruction budget */
    uint64_t time_us;   /* their time, summed */
} sl_luaruntime_tally;

/* The tally of the calls of fn_ref on rt so far (zeros when none; a
 * runtime keeps SL_LUARUNTIME_TALLIES functions, later ones are not
 * counted). */
#define SL_LUARUNTIME_TALLIES 8
sl_luaruntime_tally sl_luaruntime_tally_of(const sl_luaruntime *rt,
                                           int fn_ref);

/* Push the call's arguments onto co (runs in protected mode; may raise). */
typedef void (*sl_luaruntime_args_fn)(lua_State *co, void *ud);

/* The call finished: on success err is NULL and the nres results are the
 * top of co's stack (read them now; co is released after the callback);
 * on failure err says why (Lua error with file:line, instruction or memory
 * limit) and nres is 0. */
typedef void (*sl_luaruntime_done_fn)(void *ud, lua_State *co, int nres,
                                 const char *err);

/* Call the function at registry ref fn_ref with nargs arguments from args.
 * `done` is called exactly once, from the event loop, unless the task is
 * cancelled first; never before this returns, even when the function
 * ends without waiting (its outcome is then reported on the next loop
 * turn), so `done` may free what the caller of start is still using.
 * Returns the running task, valid until `done` or sl_luaruntime_cancel; NULL
 * when no task could be made (out of memory), and then `done` is never
 * called. */
sl_luaruntime_task *sl_luaruntime_start(sl_luaruntime *rt, int fn_ref,
                                        sl_luaruntime_args_fn args, int nargs,
                                        sl_luaruntime_done_fn done, void *ud);

/* Stop a running task; its `done` is never called. A task waiting for a
 * transfer is freed when the transfer completes (or with the client);
 * any other at once. Accepts NULL. */
void sl_luaruntime_cancel(sl_luaruntime_task *t);

/* sluice.sleep(ms): suspends the calling task for ms milliseconds (a
 * negative ms is 0) while the loop runs on. Raises "sluice.sleep is only
 * available in headers_fn or response_fn while sluice runs" when not
 * called from a task of the state's runtime (while a file loads, in a
 * transform, in `sluice check`). A lua_CFunction; sl_luastd_open registers it. */
int sl_luaruntime_sleep(lua_State *co);

/* sluice.http.request{url, method = "GET", headers = {}, body,
 * timeout_ms = 10000}: suspends the calling task until the transfer ends;
 * returns {status, body, headers} (header names in lower case), or nil
 * and the transport error. Raises "sluice.http.request is only available
 * in headers_fn or response_fn while sluice runs" outside a task, as
 * sl_luaruntime_sleep does. A lua_CFunction; sl_luastd_open registers it. */
int sl_luaruntime_http_request(lua_State *co);

#endif
