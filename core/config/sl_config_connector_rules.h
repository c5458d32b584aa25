/* sl_config_connector_rules: what a connector file's values must be beyond
 * what the connector key table (sl_config_keys.c) says: the custom parsers
 * and checks that table names, the struct its keys fill, and the checks
 * across keys once all are read. Private to the config module. */
#ifndef SL_CONFIG_CONNECTOR_RULES_H
#define SL_CONFIG_CONNECTOR_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_config.h"
#include "sl_config_parse.h"
#include "sl_config_schema.h"

/* What the connector keys fill. The loader owns what c points to and
 * frees `fields` (sl_config_schema_free; the names are borrowed from the
 * file's Lua state). */
typedef struct sl_config_connector_target {
    sl_connector_conf c;
    int unknown;              /* sl_unknown_policy */
    size_t lua_max_memory_mb; /* lua.max_memory_mb; c.lua_max_memory in
                                 bytes */
    bool compression_level_set; /* compression_level was written */
    bool max_concurrency_set;   /* max_concurrency was written */
    sl_config_field_list fields; /* `schema` as read */
    const char *proxy_url;      /* proxy = { url, user, password } as read; */
    const char *proxy_user;     /* borrowed from the file's Lua state while */
    const char *proxy_password; /* the key is parsed */
    const char *proxy_ca_file;
} sl_config_connector_target;

/* Value checks of string keys (sl_config_key.check): 0 if v is good, else
 * -1 with the reason in why (n bytes). */
/* A connector name: [A-Za-z_][A-Za-z0-9_-]*, 1 to 64 characters. */
int sl_config_check_name(const char *v, char *why, size_t n);
/* A destination URL (sl_addr_check_url) whose '{' and '}' are {field}
 * placeholders in its path or query (sl_fieldtpl's syntax); the fields
 * are checked after the schema is read. */
int sl_config_check_url(const char *v, char *why, size_t n);
/* A schema field name: 1 to 127 bytes, no control characters. */
int sl_config_check_field_name(const char *v, char *why, size_t n);

/* Custom parsers (sl_config_key.custom) of the connector keys. Each takes
 * the value at stack index idx (0: the key is absent, which sets the
 * default), reports every problem through ctx, and leaves the Lua stack as
 * it was. What they allocate is anchored in the target at once, so that a
 * Lua memory error midway leaks nothing (the loader frees the target). */

/* headers: name = value strings into c.headers, sorted by name
 * (case-insensitive); invalid, reserved and duplicate names reported. */
void sl_config_parse_headers(sl_config_parse_context *ctx,
                             const sl_config_key *key, int idx, void *target);
/* transform, headers_fn: a registry reference of the function in the
 * file's state, stored as an int at key->off (LUA_NOREF when absent). */
void sl_config_parse_function(sl_config_parse_context *ctx,
                              const sl_config_key *key, int idx, void *target);
/* idempotency_header: a header name, or false for none; absent,
 * "Idempotency-Key". */
void sl_config_parse_idempotency_header(sl_config_parse_context *ctx,
                                        const sl_config_key *key, int idx,
                                        void *target);
/* A list of bearer keys at idx (the key `name`, e.g. "intake_keys";
 * `example` is shown when it is not a list): 1 to 16 distinct
 * visible-ASCII keys of 16 to 1024 characters, copied into *keys (calloc'd,
 * the caller frees each and the array; *nkeys counts them). Messages never
 * show a key. 0, or -1 when nothing was kept (an error is reported). */
int sl_config_parse_key_list(sl_config_parse_context *ctx, int idx,
                             const char *name, const char *example,
                             char ***keys, size_t *nkeys);
/* intake_keys: sl_config_parse_key_list into c.intake_keys. */
void sl_config_parse_intake_keys(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target);
/* compression_level: an integer 1..9 into c.compression_level (absent:
 * 6), remembering whether it was written (it needs compression). */
void sl_config_parse_compression_level(sl_config_parse_context *ctx,
                                       const sl_config_key *key, int idx,
                                       void *target);
/* After the connector keys (target: sl_config_connector_target): the
 * checks across keys (retry, queue and spool sizes, compression and a
 * static Content-Encoding) and the values made
 * from several keys (the schema with its limits, lua.max_memory in
 * bytes). */
void sl_config_connector_after(sl_config_parse_context *ctx, void *target);

#endif
