/* sl_config: the configuration as plain C structs — the gateway file
 * (conf/sluice.lua) and every connector file it names, as
 * sl_config_load (sl_config_load.h) fills them — which every stage
 * reads. Types only; the config module's files (sl_config_*.c) share the
 * prefix sl_config_. */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_schema.h"
#include "sl_status_lists.h"
#include "sl_template.h"
#include "sl_transport.h"

typedef enum sl_body_form {
    SL_BODY_ARRAY = 0, /* one JSON array of records per request */
    SL_BODY_OBJECT,    /* one record per request, the object itself */
    SL_BODY_NDJSON     /* one record per line */
} sl_body_form;

typedef enum sl_compression {
    SL_COMPRESSION_NONE = 0, /* the body as it is */
    SL_COMPRESSION_GZIP      /* gzip, sent with Content-Encoding: gzip */
} sl_compression;

enum {
    SL_ON_PERMANENT_BISECT = 0, /* isolate the failing records by halving */
    SL_ON_PERMANENT_DEAD_LETTER /* the whole batch to the dead letters */
};

struct sl_fieldtpl;

/* Where a connector's proxy setting came from (sluice check says). */
typedef enum sl_proxy_source {
    SL_PROXY_FROM_NONE = 0, /* no key and no variable: no proxy */
    SL_PROXY_FROM_KEY,      /* the connector key (proxy, no_proxy) */
    SL_PROXY_FROM_ENV,      /* an environment variable, `var` */
    SL_PROXY_FROM_OFF       /* proxy = false: none, the environment
                               ignored */
} sl_proxy_source;

/* One proxy setting as resolved at load: the value and its origin. */
typedef struct sl_proxy_setting {
    char *value;            /* owned; NULL: none */
    sl_proxy_source source;
    const char *var;        /* static: the variable's name (FROM_ENV) */
} sl_proxy_setting;

typedef struct sl_header {
    char *name;  /* owned */
    char *value; /* owned */
} sl_header;

/* One connector, as declared in its file. All pointers are owned by the
 * enclosing sl_config and freed with it. */
typedef struct sl_connector_conf {
    char *name;              /* identifier [A-Za-z_][A-Za-z0-9_-]*, <= 64 */
    char *file;              /* path of the connector file */
    unsigned long long file_hash; /* FNV-1a of its text as loaded: a
                                     reload tells a changed file by it */
    char *url;               /* http:// or https://, host, optional port */
    struct sl_fieldtpl *url_tpl; /* owned; url's {field} placeholders (body
                                    "object" only), NULL when it has none */
    struct sl_fieldtpl **record_tpls; /* owned NULL-terminated list of
                                         url_tpl and the header_tpls
                                         (borrowed), the schema's post-check
                                         (sl_schema_set_post); NULL when
                                         there are none */
    char *method;            /* "POST", "PUT" or "PATCH" */
    sl_header *headers;      /* static headers, in name order */
    size_t nheaders;
    struct sl_fieldtpl **header_tpls; /* owned; nheaders entries: header
                                         i's {field} placeholders (body
                                         "object" only) or NULL; the array
                                         is NULL when no value has one */
    sl_schema *schema;       /* owned */
    sl_body_form body;       /* default SL_BODY_ARRAY */
    int compression;         /* sl_compression; default none */
    int compression_level;   /* gzip level 1..9; default 6 */
    sl_template *body_template;   /* body.template: around the whole body
                                     ($records or $record, $batch_id,
                                     $count); NULL: none; owned */
    sl_template *record_template; /* body.record_template: around each
                                     record ($record); NULL: none; owned */
    size_t batch_max_records;   /* default 500 */
    size_t batch_max_bytes;     /* default 1 MiB; body bytes per request */
    unsigned batch_max_delay_ms;/* default 200 */
    unsigned timeout_ms;        /* whole request; default 10000 */
    unsigned concurrency;       /* requests in flight; default 4 (1, the
                                   start, when adaptive) */
    bool concurrency_adaptive;  /* concurrency = "adaptive": sl_aimd sets
                                   the limit, 1 .. max_concurrency */
    unsigned max_concurrency;   /* the adaptive limit's ceiling; default 64 */
    double rate_requests_per_s; /* rate_limit.requests_per_s; 0: none */
    double rate_records_per_s;  /* rate_limit.records_per_s; 0: none */
    double rate_burst;          /* rate_limit.burst; default 1 */
    unsigned retry_base_ms;     /* first backoff; default 200 */
    unsigned retry_max_ms;      /* backoff ceiling; default 30000 */
    unsigned retry_max_elapsed_s; /* give up (dead letters) after this long
                                     since a batch's first attempt; 0 never;
                                     default 86400 */
    unsigned degraded_after_s;  /* state "degraded" once attempts fail
                                   this long; default 60 */
    int on_permanent;           /* SL_ON_PERMANENT_*; default bisect */
    sl_status_lists *status;    /* owned: the `status` lists overriding
                                   the default classes; NULL: none given */
    bool ordered;               /* one request in flight, strict order */
    char *idempotency_header;   /* header carrying the batch key; NULL = off;
                                   default "Idempotency-Key" */
    size_t queue_max_bytes;     /* durability "memory": the queue's limit;
                                   default 64 MiB */
    int durability;             /* sl_durability (sl_spool.h); default fsync */
    size_t spool_max_bytes;     /* undelivered bytes on disk; default 1 GiB */
    size_t spool_segment_bytes; /* segment file size; default 64 MiB */
    size_t spool_cache_bytes;   /* recent records also kept in memory for
                                   delivery; default 8 MiB */
    char **intake_keys;         /* owned; callers must send one of them as
                                   "Authorization: Bearer <key>"; none =
                                   open intake */
    size_t nintake_keys;
    /* Lua (issue 3). The connector file's state stays open for the life of
     * the config so that transform/headers_fn can be called at run time. */
    struct lua_State *L;        /* owned; the state the file ran in */
    char *source;               /* owned: the file's text as run, for the
                                   check threads' own states
                                   (sl_config_transform_state) */
    size_t source_len;
    int transform_ref;          /* registry ref of `transform`, or LUA_NOREF */
    int headers_fn_ref;         /* registry ref of `headers_fn`, or LUA_NOREF */
    int response_fn_ref;        /* registry ref of `response_fn`, or
                                   LUA_NOREF; set when > 0 */
    size_t max_response_bytes;  /* answer body bytes response_fn sees;
                                   default 1 MiB */
    unsigned long lua_max_instructions; /* per call; lua.max_instructions,
                                           default 1000000 */
    size_t lua_max_memory;      /* cap of L after loading; lua.max_memory_mb,
                                   default 64 MiB */
    /* Per-record limits (key `limits`); also set on `schema`. */
    size_t limit_record_bytes;  /* one record's JSON text; default 1 MiB */
    size_t limit_string_bytes;  /* one string value; default 256 KiB */
    size_t limit_fields;        /* members of one record; default 1024 */
    int limit_depth;            /* JSON nesting; default 32 */
    size_t limit_records;       /* records in one HTTP request; default
                                   100000 */
    /* TLS to the destination (key `tls`); the strings owned (freed, the
     * password wiped, by sl_config_tls_free). Paths as written until the
     * loader resolves them: then absolute, or relative to the working
     * directory (the connector file's directory joined in front). */
    char *tls_ca_file;          /* NULL: the system store */
    char *tls_ca_path;
    char *tls_client_cert;
    char *tls_client_key;
    char *tls_key_password;     /* secret: never shown; wiped when freed */
    char *tls_server_name;
    bool tls_verify;            /* default true */
    int tls_min_version;        /* index in sl_config_tls_versions */
    /* How requests reach the destination: borrows the strings above and
     * the proxy settings below. The loader fills it (sl_transport_init
     * first, http_version kept); delivery and the Lua runtime pass it
     * with every request. */
    sl_transport transport;
    char **warnings;            /* owned: what `sluice check` prints as
                                   WARNING and the gateway logs at start
                                   (verify = false, a certificate about to
                                   expire) */
    size_t nwarnings;
    /* The proxy (keys `proxy`, `no_proxy`, else the environment), as
     * resolved at load. */
    sl_proxy_setting proxy_http;  /* proxy of http:// requests: key proxy,
                                     else http_proxy, HTTP_PROXY, ... */
    sl_proxy_setting proxy_https; /* proxy of https:// requests */
    sl_proxy_setting no_proxy;    /* curl's NOPROXY list: key no_proxy
                                     (joined by ","), else the
                                     environment's when a proxy came
                                     from there */
    char *proxy_ca_file;        /* owned; proxy.ca_file, relative to the
                                   connector file's directory resolved;
                                   NULL: the system store */
} sl_connector_conf;

/* TLS of an intake: the gateway's `tls` (the HTTP intake) or a listener's
 * `tcp[n].tls`. cert NULL: the intake is plain. Paths are made relative to
 * the gateway file's directory when loaded and checked then (readable,
 * PEM, the key matching the certificate). Strings owned by the enclosing
 * sl_config. */
typedef struct sl_tls_conf {
    char *cert;              /* PEM server certificate (then intermediates) */
    char *key;               /* its PEM private key */
    char *client_ca;         /* CAs of accepted client certificates; NULL:
                                none is asked for */
    bool require_client_cert;/* refuse a client without one; default false */
    int min_version;         /* index in sl_config_tls_versions:
                                0 "1.2" (default), 1 "1.3" */
} sl_tls_conf;

/* A raw-TCP listener: one JSON record per line (NDJSON) into a connector.
 * Owned by the enclosing sl_config. */
typedef struct sl_tcp_conf {
    char *listen;            /* "host:port" as written */
    char *host;              /* parsed host */
    int port;                /* parsed port */
    char *connector;         /* name of the connector it feeds (checked) */
    bool ack;                /* answer each line "ok" / "error <reason>"
                                once durable; default false */
    char **allow;            /* allowed peers: addresses or CIDR blocks
                                ("10.0.0.0/8", "::1"); default loopback
                                only ("127.0.0.0/8", "::1") */
    size_t nallow;
    size_t max_line_bytes;   /* longest line; default 1 MiB */
    unsigned idle_timeout_s; /* close a connection silent this long;
                                default 60 */
    unsigned line_timeout_s; /* a line must be whole this long after its
                                first byte; default 30 */
    unsigned max_connections;/* open connections at most; default 1024 */
    sl_tls_conf tls;         /* TLS on this listener (tcp[n].tls); the
                                handshake must be done within
                                line_timeout_s of the connect */
} sl_tcp_conf;

/* The gateway. */
typedef struct sl_config {
    char *file;              /* the gateway file as given */
    char *listen;            /* "host:port" as written, default
                                127.0.0.1:8080 */
    char *listen_host;       /* parsed host */
    int listen_port;         /* parsed port */
    char *state_dir;         /* absolute, or relative to the gateway
                                file's directory */
    size_t max_body_bytes;   /* intake request body limit; default 8 MiB */
    size_t max_decompressed_bytes; /* a gzip body once inflated; default
                                      64 MiB */
    size_t max_header_bytes; /* request line and headers; default 64 KiB */
    unsigned max_connections;/* HTTP connections open at once; default
                                1024 */
    unsigned workers;        /* threads checking records; 0 (default):
                                one per CPU */
    unsigned idle_timeout_s; /* an HTTP connection silent this long is
                                closed; default 60 */
    unsigned request_timeout_s; /* a request must arrive whole within this
                                   of its first byte; default 30 */
    sl_tls_conf tls;         /* HTTPS on the HTTP intake (gateway `tls`);
                                the handshake must be done within
                                request_timeout_s of the connect */
    int log_level;           /* gateway `log_level`: an sl_log_level
                                (0 debug .. 4 off); default 1, info */
    char *admin_listen;      /* gateway `admin_listen` as written; NULL:
                                the introspection routes are on `listen` */
    char *admin_listen_host; /* parsed host; NULL without admin_listen */
    int admin_listen_port;   /* parsed port */
    char **admin_keys;       /* owned; the introspection routes need one as
                                a bearer key; NULL: none needed */
    size_t nadmin_keys;
    sl_connector_conf *connectors;
    size_t nconnectors;
    sl_tcp_conf *tcp;        /* raw-TCP listeners (gateway key `tcp`) */
    size_t ntcp;
} sl_config;

#endif
