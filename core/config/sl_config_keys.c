/* sl_config_keys: every configuration key, declared once, with its type,
 * default, range and description: the tables that parse, default and
 * document the keys. What a table cannot say is a custom parser or check
 * in sl_config_connector_rules.c or sl_config_gateway_rules.c, named
 * here; the gateway file's table is in sl_config_gateway_keys.c.
 * sl_config_print.c makes the reference (`sluice keys`,
 * docs/connectors.md) and the `sluice check` printout from these
 * tables. */
#include <limits.h>
#include <stddef.h>

#include <lua.h>

#include "sl_addr.h"
#include "sl_config_body.h"
#include "sl_config_concurrency.h"
#include "sl_config_connector_rules.h"
#include "sl_config_gateway_rules.h"
#include "sl_config_keys.h"
#include "sl_config_proxy.h"
#include "sl_config_rate.h"
#include "sl_config_schema.h"
#include "sl_config_status.h"
#include "sl_config_tls.h"
#include "sl_gzip.h"
#include "sl_json.h"
#include "sl_schema.h"

#define KIB 1024LL
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)
/* offset of a field in the struct that a table fills */
#define CONNECTOR_OFFSET(f) offsetof(sl_config_connector_target, f)
#define FIELD_OFFSET(f) offsetof(sl_config_field, f)

_Static_assert(sizeof(sl_body_form) == sizeof(int), "body form stored as int");
_Static_assert(sizeof(sl_transport_http) == sizeof(int) &&
                   SL_TRANSPORT_HTTP_AUTO == 0 && SL_TRANSPORT_HTTP_1_1 == 1 &&
                   SL_TRANSPORT_HTTP_2 == 2,
               "http_version stored as an int index of its choices");
_Static_assert(SL_GZIP_LEVEL_MIN == 1 && SL_GZIP_LEVEL_MAX == 9 &&
               SL_GZIP_LEVEL_DEFAULT == 6, "update compression_level's doc");
_Static_assert(SL_SCHEMA_MAX_FIELDS == 512, "update the schema doc_allowed");
_Static_assert(SL_SCHEMA_RULES_ENUM_MAX == 256 &&
                   SL_SCHEMA_RULES_VALUE_MAX == 1024 &&
                   SL_SCHEMA_RULES_LENGTH_MAX == 67108864,
               "update the field rules' doc_allowed");

static const char *const method_choices[] = {"POST", "PUT", "PATCH", NULL};
const char *const sl_config_http_version_choices[] = {"auto", "1.1", "2",
                                                      NULL};
const char *const sl_config_body_choices[] = {"array", "object", "ndjson",
                                              NULL};
const char *const sl_config_compression_choices[] = {"none", "gzip", NULL};
const char *const sl_config_unknown_choices[] = {"reject", "drop", NULL};
const char *const sl_config_durability_choices[] = {"fsync", "os", "memory",
                                                    NULL};
const char *const sl_config_on_permanent_choices[] = {"bisect",
                                                      "dead_letter", NULL};
const char *const sl_config_tls_versions[] = {"1.2", "1.3", NULL};

/* body as a table; `form` first: the templates are checked for it */
static const sl_config_key body_keys[] = {
    {.name = "form", .kind = SL_CONFIG_ENUM, .store = SL_CONFIG_STORE_INT,
     .off = CONNECTOR_OFFSET(c.body), .def = 0,
     .choices = sl_config_body_choices,
     .desc = "How records become a request body; see "
             "[Body forms](#body-forms). `body = \"ndjson\"` is short for "
             "`body = { form = \"ndjson\" }`."},
    {.name = "template", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_body_template,
     .off = CONNECTOR_OFFSET(c.body_template), .ltype = LUA_TSTRING,
     .what = "a string", .defstr = "none", .doc_type = "string",
     .doc_allowed = "JSON with `$records` (form `array`) or `$record` "
                    "(form `object`) exactly once as a value, and "
                    "`$batch_id`, `$count` as values; at most 64 KiB; not "
                    "with `ndjson`",
     .desc = "Wraps the whole body: `'{\"inputs\": $records}'`; see "
             "[Body templates](#body-templates)."},
    {.name = "record_template", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_body_template,
     .off = CONNECTOR_OFFSET(c.record_template), .ltype = LUA_TSTRING,
     .what = "a string", .defstr = "none", .doc_type = "string",
     .doc_allowed = "JSON with `$record` exactly once as a value and no "
                    "other placeholder; at most 64 KiB",
     .desc = "Wraps each record, in every form: "
             "`'{\"properties\": $record}'`."},
    {0}};

static const sl_config_key batch_keys[] = {
    {.name = "max_records", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE,
     .off = CONNECTOR_OFFSET(c.batch_max_records), .def = 500, .min = 1,
     .max = 100000, .desc = "Records in one request, at most."},
    {.name = "max_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE, .off = CONNECTOR_OFFSET(c.batch_max_bytes),
     .def = MIB, .min = KIB, .max = 64 * MIB, .unit = "bytes",
     .desc = "Body bytes of one request, at most; a single record larger "
             "than this is sent alone."},
    {.name = "max_delay_ms", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED,
     .off = CONNECTOR_OFFSET(c.batch_max_delay_ms), .def = 200, .min = 0,
     .max = 3600000, .unit = "ms",
     .desc = "How long the oldest waiting record may wait for the batch to "
             "fill; 0 sends at once."},
    {0}};

static const sl_config_key retry_keys[] = {
    {.name = "base_ms", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED,
     .off = CONNECTOR_OFFSET(c.retry_base_ms), .def = 200, .min = 1,
     .max = 600000, .unit = "ms",
     .desc = "Backoff ceiling after the first failure."},
    {.name = "max_ms", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED, .off = CONNECTOR_OFFSET(c.retry_max_ms),
     .def = 30000, .min = 1, .max = 3600000, .unit = "ms",
     .desc = "Largest backoff; the ceiling doubles per failure up to this. "
             "Must not be less than `base_ms`. A `Retry-After` from the "
             "destination (seconds or an HTTP date) wins over it."},
    {.name = "max_elapsed_s", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED,
     .off = CONNECTOR_OFFSET(c.retry_max_elapsed_s), .def = 86400, .min = 0,
     .max = 31536000, .unit = "s",
     .desc = "How long a batch may keep failing, from its first attempt; "
             "then its records go to the dead letters. 0 retries forever."},
    {0}};

static const sl_config_key rate_limit_keys[] = {
    {.name = "requests_per_s", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_rate, .ltype = LUA_TNUMBER, .what = "a number",
     .off = CONNECTOR_OFFSET(c.rate_requests_per_s), .def = 0,
     .defstr = "none", .doc_type = "number",
     .doc_allowed = "1/86400 .. 1e9; fractions allowed (`100/60`: 100 a "
                    "minute)",
     .desc = "Attempts per second, at most: first tries, retries and each "
             "half of a split batch count."},
    {.name = "records_per_s", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_rate, .ltype = LUA_TNUMBER, .what = "a number",
     .off = CONNECTOR_OFFSET(c.rate_records_per_s), .def = 0,
     .defstr = "none", .doc_type = "number",
     .doc_allowed = "as `requests_per_s`",
     .desc = "Records per second, at most, counted in every attempt. A "
             "batch larger than the limit allows at once still goes, and "
             "the next waits until it is paid off."},
    {.name = "burst", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_rate, .ltype = LUA_TNUMBER, .what = "a number",
     .off = CONNECTOR_OFFSET(c.rate_burst), .def = 1, .defstr = "1",
     .doc_type = "number", .doc_allowed = "1 .. 1000000",
     .desc = "Attempts that may go back to back after a pause; 1 spaces "
             "them evenly, as a leaky-bucket limiter at the destination "
             "(nginx `limit_req`) expects. For `records_per_s`: seconds of "
             "records that may go at once."},
    {0}};

static const sl_config_key spool_keys[] = {
    {.name = "max_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE, .off = CONNECTOR_OFFSET(c.spool_max_bytes),
     .def = GIB, .min = MIB, .max = LLONG_MAX, .unit = "bytes",
     .desc = "Undelivered records on disk, at most (in flight included); "
             "when full, the intake answers 503 with `Retry-After`."},
    {.name = "segment_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE,
     .off = CONNECTOR_OFFSET(c.spool_segment_bytes), .def = 64 * MIB,
     .min = 64 * KIB, .max = GIB, .unit = "bytes",
     .desc = "Size at which the spool starts a new segment file; a "
             "segment is deleted once everything in it is delivered."},
    {.name = "cache_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE,
     .off = CONNECTOR_OFFSET(c.spool_cache_bytes), .def = 8 * MIB, .min = 0,
     .max = GIB, .unit = "bytes",
     .desc = "Recent records also kept in memory, so that delivery does "
             "not read them back while the destination keeps up; a larger "
             "backlog is read from the segments, and memory stays flat."},
    {0}};

static const sl_config_key lua_keys[] = {
    {.name = "max_instructions", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_ULONG,
     .off = CONNECTOR_OFFSET(c.lua_max_instructions), .def = 1000000,
     .min = 1000, .max = 1000000000,
     .desc = "Lua VM instructions that one call of `transform`, "
             "`headers_fn` or `response_fn` may run; past it that call "
             "fails with \"instruction limit exceeded\"."},
    {.name = "max_memory_mb", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE, .off = CONNECTOR_OFFSET(lua_max_memory_mb),
     .def = 64, .min = 1, .max = 4096, .unit = "MiB",
     .desc = "Memory of the connector's Lua state once the file has "
             "loaded; an allocation past it fails with \"memory limit of "
             "N MiB exceeded\"."},
    {0}};

static const sl_config_key limits_keys[] = {
    {.name = "record_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE,
     .off = CONNECTOR_OFFSET(c.limit_record_bytes), .def = MIB, .min = 64,
     .max = 64 * MIB, .unit = "bytes",
     .desc = "One record's JSON text as received (whitespace included); a "
             "longer record is rejected: `record is N bytes, more than "
             "limits.record_bytes`."},
    {.name = "string_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE,
     .off = CONNECTOR_OFFSET(c.limit_string_bytes), .def = 256 * KIB, .min = 16,
     .max = 64 * MIB, .unit = "bytes",
     .desc = "The value of a `string` field, between its quotes as "
             "received (an escape counts as written); a longer one rejects "
             "the record, naming the field. (`date` and `datetime` values "
             "are bounded by their form.)"},
    {.name = "fields", .kind = SL_CONFIG_INTEGER, .store = SL_CONFIG_STORE_SIZE,
     .off = CONNECTOR_OFFSET(c.limit_fields), .def = 1024, .min = 1,
     .max = 65536,
     .desc = "Members of one record object, unknown ones included; more "
             "rejects the record."},
    {.name = "depth", .kind = SL_CONFIG_INTEGER, .store = SL_CONFIG_STORE_INT,
     .off = CONNECTOR_OFFSET(c.limit_depth), .def = 32, .min = 1,
     .max = SL_JSON_MAX_DEPTH,
     .desc = "JSON nesting (objects and arrays, the body's array counted); "
             "deeper is malformed JSON: the whole body (JSON) or that line "
             "(NDJSON) is rejected."},
    {.name = "records_per_request", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE, .off = CONNECTOR_OFFSET(c.limit_records),
     .def = 100000, .min = 1, .max = 10000000,
     .desc = "Records in one HTTP request (array elements or NDJSON "
             "lines); more gets 413 and nothing of the request is "
             "accepted. Not applied to TCP listeners, which have no "
             "requests."},
    {0}};

/* tls: how the connector's requests trust the destination and present
 * themselves; sl_config_tls_after resolves the paths and checks the files */
static const sl_config_key tls_keys[] = {
    {.name = "ca_file", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING, .off = CONNECTOR_OFFSET(c.tls_ca_file),
     .check = sl_config_check_nonempty, .defstr = NULL, .doc_type = "string",
     .doc_allowed = "a PEM file of CA certificates; relative to the "
                    "connector file's directory",
     .desc = "Trust these CAs instead of the system's store (default: the "
             "system store; `SSL_CERT_FILE` and `CURL_CA_BUNDLE` are not "
             "read)."},
    {.name = "ca_path", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING, .off = CONNECTOR_OFFSET(c.tls_ca_path),
     .check = sl_config_check_nonempty, .doc_type = "string",
     .doc_allowed = "a directory of CA certificates named by "
                    "`openssl rehash`; relative as `ca_file`",
     .desc = "Trust the CAs in this directory (with `ca_file`: both)."},
    {.name = "client_cert", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING,
     .off = CONNECTOR_OFFSET(c.tls_client_cert),
     .check = sl_config_check_nonempty, .doc_type = "string",
     .doc_allowed = "a PEM certificate (chain); relative as `ca_file`",
     .desc = "Client certificate presented to a destination that asks for "
             "one (mTLS)."},
    {.name = "client_key", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING,
     .off = CONNECTOR_OFFSET(c.tls_client_key),
     .check = sl_config_check_nonempty, .doc_type = "string",
     .doc_allowed = "a PEM private key matching `client_cert`; relative as "
                    "`ca_file`",
     .desc = "The client certificate's private key (default: read from "
             "the `client_cert` file)."},
    {.name = "client_key_password", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING,
     .off = CONNECTOR_OFFSET(c.tls_key_password), .secret = true,
     .doc_type = "string",
     .doc_allowed = "a string; read it with `sluice.env`",
     .desc = "Passphrase of an encrypted `client_key`; never shown or "
             "logged."},
    {.name = "verify", .kind = SL_CONFIG_BOOLEAN,
     .store = SL_CONFIG_STORE_BOOL, .off = CONNECTOR_OFFSET(c.tls_verify),
     .def = 1, .doc_type = "boolean",
     .desc = "Verify the destination's certificate and name. `false` "
             "accepts any certificate (anyone in the path can read and "
             "change the requests): `sluice check` and the start warn."},
    {.name = "min_version", .kind = SL_CONFIG_ENUM,
     .store = SL_CONFIG_STORE_INT,
     .off = CONNECTOR_OFFSET(c.tls_min_version), .def = 0,
     .choices = sl_config_tls_versions,
     .desc = "Oldest TLS version accepted."},
    {.name = "server_name", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_STRING,
     .off = CONNECTOR_OFFSET(c.tls_server_name),
     .check = sl_config_check_server_name, .doc_type = "string",
     .doc_allowed = "a DNS name",
     .desc = "Name asked for (SNI), verified in the certificate and sent "
             "as `Host`, while the connection still goes to `url`'s host "
             "and port; see [TLS](#tls-to-the-destination)."},
    {0}};

/* proxy as a table: the credentials apart from the URL, so that they
 * need no percent-encoding */
static const sl_config_key proxy_keys[] = {
    {.name = "url", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_BORROWED, .off = CONNECTOR_OFFSET(proxy_url),
     .required = true, .check = sl_config_check_proxy_bare_url,
     .doc_type = "string",
     .doc_allowed = "a proxy URL as `proxy` takes, without `user@`",
     .desc = "The proxy."},
    {.name = "user", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_proxy_secret,
     .off = CONNECTOR_OFFSET(proxy_user), .ltype = LUA_TNONE,
     .defstr = "none", .doc_type = "string",
     .doc_allowed = "1 to 1024 bytes, any characters",
     .desc = "User name for the proxy (Basic), written as it is: sluice "
             "percent-encodes it into the URL."},
    {.name = "password", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_proxy_secret,
     .off = CONNECTOR_OFFSET(proxy_password), .ltype = LUA_TNONE,
     .defstr = "none", .doc_type = "string",
     .doc_allowed = "1 to 1024 bytes, any characters; needs `user`",
     .desc = "Its password; read it with `sluice.env`. Never shown or "
             "logged."},
    {.name = "ca_file", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_BORROWED,
     .off = CONNECTOR_OFFSET(proxy_ca_file),
     .check = sl_config_check_nonempty, .defstr = NULL,
     .doc_type = "string",
     .doc_allowed = "a PEM file of CA certificates, relative to the "
                    "connector file's directory; `https://` proxies only",
     .desc = "Verify the proxy's own certificate against these CAs "
             "(default: the system store; the connector's `tls` is for the "
             "destination)."},
    {0}};

const sl_config_key sl_config_field_keys[] = {
    {.name = "name", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_BORROWED, .off = FIELD_OFFSET(name),
     .required = true, .check = sl_config_check_field_name,
     .doc_type = "string",
     .doc_allowed = "1 to 127 bytes of UTF-8 without quotes, backslashes "
                    "or control characters; unique in its list",
     .desc = "The JSON member name."},
    {.name = "type", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_field_type, .ltype = LUA_TSTRING,
     .what = "a string", .required = true, .doc_type = "string",
     .doc_allowed = "`\"string\"`, `\"integer\"`, `\"number\"`, "
                    "`\"boolean\"`, `\"date\"`, `\"datetime\"`, "
                    "`\"object\"`, `\"array\"`, `\"json\"`",
     .desc = "What a value must be; see [Types](#types) and "
             "[Nested types](#nested-types)."},
    {.name = "nullable", .kind = SL_CONFIG_BOOLEAN,
     .store = SL_CONFIG_STORE_BOOL, .off = FIELD_OFFSET(nullable), .def = 0,
     .doc_type = "boolean",
     .desc = "Whether `null` (or a missing member, sent as `null`) is "
             "accepted; in `items`, whether an item may be `null`."},
    /* after type: these parsers check it */
    {.name = "fields", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_field_fields, .sub = sl_config_field_keys,
     .doc_sub_apart = true, .ltype = LUA_TTABLE, .what = "a list of fields",
     .defstr = "none", .doc_type = "list of fields",
     .doc_allowed = "`type = \"object\"` only (and required there): 1 to "
                    "512 fields, these keys each; at most 8 levels of "
                    "objects and arrays",
     .desc = "The object's members, in the order they are encoded."},
    {.name = "items", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_field_items, .sub = sl_config_field_keys + 1,
     .doc_sub_apart = true, .ltype = LUA_TTABLE, .what = "a table",
     .defstr = "none", .doc_type = "table",
     .doc_allowed = "`type = \"array\"` only (and required there): these "
                    "keys but `name`",
     .desc = "What each item of the array must be, as in `{ type = "
             "\"object\", fields = {...} }`; its `min`, `enum`, ... hold "
             "for each item."},
    {.name = "min_items", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_field_count, .ltype = LUA_TNUMBER,
     .what = "an integer", .defstr = "0", .doc_type = "integer",
     .doc_allowed = "`type = \"array\"` only: 0 .. 1000000000, at most "
                    "`max_items`",
     .desc = "The fewest items the array may have."},
    {.name = "max_items", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_field_count, .ltype = LUA_TNUMBER,
     .what = "an integer", .defstr = "none", .doc_type = "integer",
     .doc_allowed = "`type = \"array\"` only: 1 .. 1000000000",
     .desc = "The most items the array may have."},
    {.name = "min", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_field_bound, .ltype = LUA_TNUMBER,
     .what = "a number", .defstr = "none", .doc_type = "number",
     .doc_allowed = "`integer` fields: an integer within 64 bits; `number` "
                    "fields: a finite number; at most `max`",
     .desc = "`integer` and `number` fields: the smallest value accepted; "
             "see [Field constraints](#field-constraints)."},
    {.name = "max", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_field_bound, .ltype = LUA_TNUMBER,
     .what = "a number", .defstr = "none", .doc_type = "number",
     .doc_allowed = "as `min`",
     .desc = "`integer` and `number` fields: the largest value accepted."},
    {.name = "min_length", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_field_length, .ltype = LUA_TNUMBER,
     .what = "an integer", .defstr = "none", .doc_type = "integer",
     .doc_allowed = "0 .. 67108864; at most `max_length`",
     .desc = "`string` fields: the fewest characters (Unicode code points, "
             "escapes decoded) a value may have."},
    {.name = "max_length", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_field_length, .ltype = LUA_TNUMBER,
     .what = "an integer", .defstr = "none", .doc_type = "integer",
     .doc_allowed = "0 .. 67108864",
     .desc = "`string` fields: the most characters (code points) a value "
             "may have."},
    /* last: its parser hands a C array to the field, and no key after it
     * may raise a Lua error before the field is kept */
    {.name = "enum", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_field_enum, .ltype = LUA_TTABLE,
     .what = "a list of strings", .defstr = "none",
     .doc_type = "list of strings",
     .doc_allowed = "1 to 256 distinct strings of UTF-8, each at most 1024 "
                    "bytes",
     .desc = "`string` fields: the only values accepted, compared after "
             "escapes are decoded (`\"\\u0061\"` is `\"a\"`)."},
    {0}};

const sl_config_key sl_config_connector_keys[] = {
    {.name = "name", .kind = SL_CONFIG_STRING, .store = SL_CONFIG_STORE_STRING,
     .off = CONNECTOR_OFFSET(c.name), .required = true,
     .check = sl_config_check_name, .doc_type = "string",
     .doc_allowed = "`[A-Za-z_][A-Za-z0-9_-]*`, at most 64 characters, "
                    "unique across files",
     .desc = "Names the connector in the intake URL "
             "(`/v1/connectors/{name}/records`), in logs and in metrics."},
    {.name = "url", .kind = SL_CONFIG_STRING, .store = SL_CONFIG_STORE_STRING,
     .off = CONNECTOR_OFFSET(c.url), .required = true,
     .check = sl_config_check_url, .doc_type = "string",
     .doc_allowed = "`http://` or `https://`, a host, optional `:port` "
                    "(1-65535), path and query; no spaces, credentials or "
                    "fragment; `{field}` placeholders in the path and query "
                    "with body `\"object\"`",
     .desc = "Where every request goes; with placeholders, one URL per "
             "record (see [Per-record URLs](#per-record-urls))."},
    {.name = "method", .kind = SL_CONFIG_ENUM, .store = SL_CONFIG_STORE_STRING,
     .off = CONNECTOR_OFFSET(c.method), .def = 0, .choices = method_choices,
     .desc = "HTTP method of every request; written in any case, stored in "
             "upper case."},
    {.name = "headers", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_headers, .ltype = LUA_TTABLE,
     .what = "a table of name = value strings", .defstr = "`{}`",
     .doc_type = "table: name → string",
     .doc_allowed = "header names are tokens; values without CR/LF; not "
                    "`Content-Type`, `Content-Length`, `Host`, "
                    "`Transfer-Encoding`; `{field}` placeholders with body "
                    "`\"object\"`",
     .desc = "Static request headers, sent with every request; a value's "
             "`{field}` is filled from the record (see "
             "[Per-record URLs](#per-record-urls))."},
    {.name = "schema", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_schema, .sub = sl_config_field_keys,
     .off = CONNECTOR_OFFSET(fields),
     .doc_sub_apart = true, .ltype = LUA_TTABLE, .what = "a list of fields",
     .required = true, .doc_type = "list of fields",
     .doc_allowed = "1 to 512 fields",
     .desc = "The record's fields, in the order they are encoded; see "
             "[Schema fields](#schema-fields)."},
    {.name = "unknown_fields", .kind = SL_CONFIG_ENUM,
     .store = SL_CONFIG_STORE_INT, .off = CONNECTOR_OFFSET(unknown), .def = 0,
     .choices = sl_config_unknown_choices,
     .desc = "A record member that is not in the schema: `reject` rejects "
             "the record, `drop` leaves the member out."},
    {.name = "body", .kind = SL_CONFIG_CUSTOM, .custom = sl_config_parse_body,
     .sub = body_keys, .doc_sub_one = true, .ltype = LUA_TNONE,
     .defstr = "`\"array\"`", .doc_type = "string or table",
     .doc_allowed = "`\"array\"`, `\"object\"`, `\"ndjson\"`, or a "
                    "table of `body.*` below",
     .desc = "How records become a request body: the form's name, or a "
             "table with the form and templates; see "
             "[Body forms](#body-forms)."},
    {.name = "compression", .kind = SL_CONFIG_ENUM,
     .store = SL_CONFIG_STORE_INT, .off = CONNECTOR_OFFSET(c.compression),
     .def = 0, .choices = sl_config_compression_choices,
     .desc = "`gzip` compresses each request body (once per body, the same "
             "bytes on every retry) and sends `Content-Encoding: gzip`; see "
             "[Compressed bodies](#compressed-bodies)."},
    {.name = "compression_level", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_compression_level, .ltype = LUA_TNUMBER,
     .what = "an integer", .defstr = "6", .doc_type = "integer",
     .doc_allowed = "1 .. 9; only with `compression = \"gzip\"`",
     .desc = "zlib's level: 1 is fastest, 9 compresses most."},
    {.name = "batch", .kind = SL_CONFIG_TABLE, .sub = batch_keys,
     .desc = "When a batch is sent: as soon as the first of its limits is "
             "reached."},
    {.name = "timeout_ms", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED, .off = CONNECTOR_OFFSET(c.timeout_ms),
     .def = 10000, .min = 100, .max = 600000, .unit = "ms",
     .desc = "Time limit of one attempt, from connecting to the last byte "
             "of the answer."},
    {.name = "tls", .kind = SL_CONFIG_TABLE, .sub = tls_keys,
     .desc = "TLS to an `https://` destination: whom to trust, the client "
             "certificate, the version; see "
             "[TLS](#tls-to-the-destination)."},
    {.name = "concurrency", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_concurrency, .ltype = LUA_TNONE,
     .defstr = "4", .doc_type = "integer or string",
     .doc_allowed = "1 .. 64, or `\"adaptive\"` (not with `ordered`)",
     .desc = "Batches outstanding at once (in flight or waiting to be "
             "retried); 1 keeps records in order. `\"adaptive\"`: requests "
             "in flight follow the destination, from 1 up to "
             "`max_concurrency`; see "
             "[Adaptive concurrency](#adaptive-concurrency)."},
    {.name = "max_concurrency", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_max_concurrency, .ltype = LUA_TNUMBER,
     .what = "an integer", .defstr = "64", .doc_type = "integer",
     .doc_allowed = "1 .. 1024; only with `concurrency = \"adaptive\"`",
     .desc = "The adaptive limit's ceiling."},
    {.name = "http_version", .kind = SL_CONFIG_ENUM,
     .store = SL_CONFIG_STORE_INT,
     .off = CONNECTOR_OFFSET(c.transport.http_version),
     .def = 0, .choices = sl_config_http_version_choices,
     .desc = "`auto`: HTTP/2 when the destination offers it over TLS "
             "(ALPN), else HTTP/1.1; `1.1`: always HTTP/1.1; `2`: HTTP/2, "
             "over `http://` too (prior knowledge: the destination must "
             "speak it without TLS). With HTTP/2 the concurrent batches "
             "share one connection; see [HTTP/2](#http2)."},
    {.name = "proxy", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_proxy, .ltype = LUA_TNONE,
     .sub = proxy_keys, .doc_sub_one = true,
     .defstr = "the environment", .doc_type = "string, table or false",
     .doc_allowed = "a URL `scheme://[user:password@]host:port` with scheme "
                    "`http`, `https`, `socks5h`, `socks5`, `socks4a` or "
                    "`socks4`; a table of `proxy.*` below; or `false`",
     .desc = "Forward proxy of every request (the `sluice.http.request` "
             "ones too); `false`: none, whatever the environment says. "
             "Without the key, `http_proxy`/`HTTP_PROXY`, "
             "`https_proxy`/`HTTPS_PROXY`, `all_proxy`/`ALL_PROXY` apply. "
             "The password is shown as `***`; see [Proxies](#proxies)."},
    {.name = "no_proxy", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_no_proxy, .ltype = LUA_TTABLE,
     .what = "a list of strings", .defstr = "none (with a proxy from the "
     "environment: `no_proxy`/`NO_PROXY`)", .doc_type = "list of strings",
     .doc_allowed = "1 to 256 host names, domains (`example.com` covers its "
                    "subdomains), IP addresses, CIDR blocks, or `\"*\"` "
                    "alone; not with `proxy = false`",
     .desc = "Destinations reached directly, not through the proxy."},
    {.name = "retry", .kind = SL_CONFIG_TABLE, .sub = retry_keys,
     .desc = "Backoff between attempts of a failed batch."},
    {.name = "degraded_after_s", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED,
     .off = CONNECTOR_OFFSET(c.degraded_after_s), .def = 60, .min = 1, .max = 86400, .unit = "s",
     .desc = "Its state turns `degraded` once attempts have been failing "
             "this long; see [Health](operations.md#health)."},
    {.name = "rate_limit", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_rate_limit, .ltype = LUA_TTABLE,
     .what = "a table", .sub = rate_limit_keys, .doc_sub_one = true,
     .defstr = "none", .doc_type = "table",
     .doc_allowed = "`rate_limit.*` below, at least one of the rates",
     .desc = "Paces the attempts to the destination's published limit "
             "(Customer.io: `{ requests_per_s = 100 }`; Brevo: `{ "
             "requests_per_s = 100/60 }`): an attempt that would exceed it "
             "waits, and its records and those behind them wait in the "
             "spool; `concurrency` still caps requests in flight. See "
             "[Rate limits](#rate-limits)."},
    {.name = "on_permanent", .kind = SL_CONFIG_ENUM,
     .store = SL_CONFIG_STORE_INT, .off = CONNECTOR_OFFSET(c.on_permanent),
     .def = 0, .choices = sl_config_on_permanent_choices,
     .desc = "A batch that fails permanently (a 4xx other than 401, 403, "
             "408, 413, 429): `bisect` halves it until the failing records "
             "are isolated and dead-letters only those; `dead_letter` "
             "dead-letters the whole batch."},
    {.name = "status", .kind = SL_CONFIG_TABLE, .sub = sl_config_status_keys,
     .desc = "Override the class of HTTP status codes for an API that uses "
             "them its own way; a listed 401/403 loses its one retry with "
             "fresh headers, a listed 413 its halving; see "
             "[Status classes](#status-classes)."},
    {.name = "ordered", .kind = SL_CONFIG_BOOLEAN,
     .store = SL_CONFIG_STORE_BOOL, .off = CONNECTOR_OFFSET(c.ordered),
     .def = 0, .doc_type = "boolean",
     .desc = "Strict order: one request in flight whatever `concurrency` "
             "says, and a failing batch holds back the ones after it."},
    {.name = "idempotency_header", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_idempotency_header, .ltype = LUA_TNONE,
     .defstr = "`\"Idempotency-Key\"`", .doc_type = "string or false",
     .doc_allowed = "a header name, or false",
     .desc = "Header that carries the batch's key, the same on every retry "
             "and after a restart (`req.batch_id` in Lua); `false` sends "
             "none."},
    {.name = "durability", .kind = SL_CONFIG_ENUM, .store = SL_CONFIG_STORE_INT,
     .off = CONNECTOR_OFFSET(c.durability), .def = 0,
     .choices = sl_config_durability_choices,
     .desc = "When the intake answers: `fsync` once the records are on disk "
             "(group commit), `os` once written to the OS (survives a crash "
             "of sluice, not of the machine), `memory` at once (lost if "
             "sluice stops); see docs/operations.md."},
    {.name = "spool", .kind = SL_CONFIG_TABLE, .sub = spool_keys,
     .desc = "The connector's on-disk spool (durability `fsync` or `os`)."},
    {.name = "queue_max_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE, .off = CONNECTOR_OFFSET(c.queue_max_bytes),
     .def = 64 * MIB, .min = MIB, .max = LLONG_MAX, .unit = "bytes",
     .desc = "With durability `memory`: records not yet delivered, at "
             "most; when full the intake answers 503 with `Retry-After`. "
             "(The spool modes use `spool.max_bytes` and "
             "`spool.cache_bytes`.)"},
    {.name = "intake_keys", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_intake_keys, .ltype = LUA_TTABLE,
     .what = "a list of strings", .defstr = "none",
     .doc_type = "list of strings",
     .doc_allowed = "1 to 16 keys of 16 to 1024 visible ASCII characters",
     .desc = "Callers must send one of these as `Authorization: Bearer "
             "<key>`, or get 401; several allow rotation. Read them with "
             "`sluice.env`; they are never shown or logged."},
    {.name = "transform", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_function,
     .off = CONNECTOR_OFFSET(c.transform_ref), .ltype = LUA_TFUNCTION,
     .what = "a function", .defstr = "none", .doc_type = "function",
     .doc_allowed = "`function(rec, ctx)`",
     .desc = "Runs at intake on each record, before the schema check; "
             "returns the record, `nil` to drop it, or a list of records; "
             "see [Transforms](#transforms)."},
    {.name = "headers_fn", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_function,
     .off = CONNECTOR_OFFSET(c.headers_fn_ref), .ltype = LUA_TFUNCTION,
     .what = "a function", .defstr = "none", .doc_type = "function",
     .doc_allowed = "`function(req)`",
     .desc = "Runs for every attempt of every request; returns headers that "
             "override the static ones; see "
             "[Dynamic headers](#dynamic-headers-headers_fn)."},
    {.name = "response_fn", .kind = SL_CONFIG_CUSTOM,
     .custom = sl_config_parse_function,
     .off = CONNECTOR_OFFSET(c.response_fn_ref), .ltype = LUA_TFUNCTION,
     .what = "a function", .defstr = "none", .doc_type = "function",
     .doc_allowed = "`function(res, req)`",
     .desc = "Runs for every answer of the destination (any status); "
             "returns `nil` for the default meaning of the status, or "
             "what the answer means: the outcome and the records it "
             "refused; see [Reading answers](#reading-answers-response_fn)."},
    {.name = "max_response_bytes", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_SIZE,
     .off = CONNECTOR_OFFSET(c.max_response_bytes), .def = MIB, .min = KIB,
     .max = 64 * MIB, .unit = "bytes",
     .desc = "With `response_fn`: the answer's body bytes it is shown, at "
             "most; the rest is read and dropped, and `res.truncated` "
             "says so."},
    {.name = "limits", .kind = SL_CONFIG_TABLE, .sub = limits_keys,
     .desc = "Per-record limits on what callers send; see "
             "`limits.*` below and [operations](operations.md#limits)."},
    {.name = "lua", .kind = SL_CONFIG_TABLE, .sub = lua_keys,
     .desc = "Limits of the connector's Lua state at run time; see "
             "[Limits](#limits)."},
    {0}};
