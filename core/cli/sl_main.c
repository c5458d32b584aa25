/* sluice: command-line entry point. Subcommands: run, check, reload,
 * keys, sink, dlq, reset, preview, send, version, help; each is one call
 * into its own module. Their help text lives in sl_help.c, one row per command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sl_version.h"
#include "sl_config.h"
#include "sl_config_load.h"
#include "sl_config_print.h"
#include "sl_preview.h"
#include "sl_preview_cli.h"
#include "sl_dlq_cli.h"
#include "sl_gateway.h"
#include "sl_help.h"
#include "sl_leftover.h"
#include "sl_log.h"
#include "sl_openapi.h"
#include "sl_reload_cli.h"
#include "sl_reset.h"
#include "sl_send.h"
#include "sl_sink.h"
#include "sl_state.h"

#define SLUICE_VERSION SL_VERSION

static void usage(FILE *out) { sl_help_print_overview(out); }

static int parse_hostport(const char *s, char *host, size_t hlen, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -1;
    const char *h = s;
    size_t n = (size_t)(colon - s);
    if (h[0] == '[' && n >= 2 && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= hlen)
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 1 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

static int cmd_check(const char *path)
{
    sl_config *cfg = sl_config_load_or_report(path, "sluice", stderr);
    if (!cfg)
        return 2;
    sl_config_print_gateway(cfg, stdout);
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        sl_config_print_connector(&cfg->connectors[i], stdout);
        sl_preview_connector(&cfg->connectors[i], stdout);
    }
    /* a removed connector's spool and dead letters stay on disk */
    sl_leftover_report(cfg, stdout);
    /* a connector whose schema changed since it ran must not start */
    if (sl_state_check_locks(cfg, stderr) > 0) {
        sl_config_free(cfg);
        return 2;
    }
    printf("%s: OK (%zu connector%s)\n", path, cfg->nconnectors,
           cfg->nconnectors == 1 ? "" : "s");
    sl_config_free(cfg);
    return 0;
}

/* The intake's OpenAPI document for the configuration at path, on
 * standard output. */
static int cmd_openapi(const char *path)
{
    sl_config *cfg = sl_config_load_or_report(path, "sluice", stderr);
    if (!cfg)
        return 2;
    sl_buf doc;
    sl_buf_init(&doc, 0);
    int rc = sl_openapi_write_config(cfg, &doc) == 0 ? 0 : 1;
    if (rc == 0 && (fwrite(doc.data, 1, doc.len, stdout) != doc.len ||
                    putchar('\n') == EOF || fflush(stdout) != 0)) {
        fprintf(stderr, "sluice openapi: cannot write the document\n");
        rc = 1;
    } else if (rc != 0) {
        fprintf(stderr, "sluice openapi: out of memory\n");
    }
    sl_buf_free(&doc);
    sl_config_free(cfg);
    return rc;
}

/* level_given: --log-level was, and wins over the gateway's log_level */
static int cmd_run(const char *path, int level_given)
{
    sl_config *cfg = sl_config_load_or_report(path, "sluice", stderr);
    if (!cfg)
        return 2;
    if (!level_given)
        sl_log_set_level((sl_log_level)cfg->log_level);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "sluice: curl_global_init failed\n");
        sl_config_free(cfg);
        return 1;
    }
    int rc = sl_gateway_run(cfg, level_given);
    sl_log_flush(); /* the counts of repeated lines not summarised yet */
    sl_log_reset();
    curl_global_cleanup();
    sl_config_free(cfg);
    return rc;
}

static int cmd_sink(int argc, char **argv)
{
    char host[256] = "127.0.0.1";
    sl_sink_opts o = {.host = host, .port = 0, .status = 200, .out = stdout};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            if (parse_hostport(argv[++i], host, sizeof host, &o.port) != 0) {
                fprintf(stderr, "sluice sink: --listen wants HOST:PORT, got "
                        "\"%s\"\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc) {
            o.status = atoi(argv[++i]);
            if (o.status < 100 || o.status > 599) {
                fprintf(stderr, "sluice sink: --status wants 100..599\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--body") == 0) {
            o.show_body = 1;
        } else {
            fprintf(stderr, "sluice sink: unknown option \"%s\"\n", argv[i]);
            return 2;
        }
    }
    if (o.port == 0) {
        fprintf(stderr, "sluice sink: --listen HOST:PORT is required\n");
        return 2;
    }
    return sl_sink_run(&o);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    /* `sluice COMMAND ... --help`: the command's help, whatever else */
    const sl_help_cmd *help = sl_help_find(cmd);
    if (help && sl_help_wanted(argc - 2, argv + 2)) {
        sl_help_print_cmd(help, stdout);
        return 0;
    }
    if (strcmp(cmd, "sink") == 0)
        return cmd_sink(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0)
        return sl_help_main(argc - 2, argv + 2, SLUICE_VERSION);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "keys") == 0) {
        sl_config_print_reference(stdout);
        return 0;
    }
    if (strcmp(cmd, "dlq") == 0)
        return sl_dlq_cli_main(argc - 2, argv + 2);
    if (strcmp(cmd, "reset") == 0)
        return sl_reset_main(argc - 2, argv + 2);
    if (strcmp(cmd, "preview") == 0)
        return sl_preview_cli_main(argc - 2, argv + 2);
    if (strcmp(cmd, "send") == 0)
        return sl_send_main(argc - 2, argv + 2);
    if (strcmp(cmd, "check") != 0 && strcmp(cmd, "run") != 0 &&
        strcmp(cmd, "reload") != 0 && strcmp(cmd, "openapi") != 0) {
        sl_help_print_unknown("sluice", cmd, stderr);
        return 2;
    }
    const char *path = "conf/sluice.lua";
    int level_given = 0;
    for (int i = 2; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
            i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
            int lvl = sl_log_level_from_name(argv[++i]);
            if (lvl < 0) {
                fprintf(stderr, "sluice: --log-level: debug, info, warn, "
                        "error or off\n");
                return 2;
            }
            sl_log_set_level((sl_log_level)lvl);
            level_given = 1;
        } else {
            fprintf(stderr, "sluice %s: unknown option \"", cmd);
            sl_help_print_arg(argv[i], stderr);
            fputs("\"\n\n", stderr);
            sl_help_print_cmd(help, stderr);
            return 2;
        }
    }
    if (strcmp(cmd, "check") == 0)
        return cmd_check(path);
    if (strcmp(cmd, "reload") == 0)
        return sl_reload_cli_main(path);
    if (strcmp(cmd, "openapi") == 0)
        return cmd_openapi(path);
    return cmd_run(path, level_given);
}
