/* sl_config_load: loads the gateway file (conf/sluice.lua) and every
 * connector file it names into the structs of sl_config.h. Every problem
 * is reported, each with file, line (where Lua knows it), key and what is
 * wrong. */
#ifndef SL_CONFIG_LOAD_H
#define SL_CONFIG_LOAD_H

#include <stdio.h>

#include "sl_config.h"
#include "sl_config_errors.h"

/* Load the gateway file at `path` and the connector files it names (glob
 * patterns, relative to the gateway file's directory). Returns the config,
 * or NULL with one message per problem appended to `errs` (all problems
 * found are reported, not only the first). Caller frees with
 * sl_config_free. */
sl_config *sl_config_load(const char *path, sl_config_errors *errs);

/* sl_config_load for a command: the config, or NULL after writing to
 * `err` every error (one a line) and then "<prog>: N configuration
 * error(s) in <path>". Caller frees with sl_config_free. */
sl_config *sl_config_load_or_report(const char *path, const char *prog,
                                    FILE *err);

void sl_config_free(sl_config *c); /* accepts NULL */

/* Free what a TCP listener's settings own (its strings and allow list),
 * and zero *t. */
void sl_config_tcp_clear(sl_tcp_conf *t);

/* Find a connector by name; NULL if absent. */
const sl_connector_conf *sl_config_connector(const sl_config *c,
                                             const char *name);

/* Does connector c have a `transform` (a registry reference: Lua's refs
 * are positive; LUA_NOREF and LUA_REFNIL are not)? */
bool sl_config_has_transform(const sl_connector_conf *c);

/* A new Lua state in which connector c's file (its text as loaded,
 * c->source) has run again, as at load, with *ref the registry
 * reference of its `transform` and the memory limit of lua.max_memory_mb:
 * a check thread's own state for a connector with a transform (Lua
 * states are never shared between threads). Owned by the caller
 * (sl_luahost_free). NULL with a message in err. Touches nothing of c
 * but reads. */
struct lua_State *sl_config_transform_state(const sl_connector_conf *c,
                                            int *ref, char *err,
                                            size_t errlen);

#endif
