/* sl_help: the table of every command's help, and its two printers: text
 * for a terminal and roff for the man page. */
#include "sl_help.h"

#include <string.h>

#define CONFIG_OPT "-c, --config FILE\tthe gateway configuration " \
    "(default conf/sluice.lua)\n"

static const sl_help_cmd help_cmds[] = {
    {"run", "sluice run [-c FILE] [--log-level LEVEL]",
     "serve the intake and deliver records",
     "Load and check FILE and every connector file it names, open the\n"
     "intake (HTTP, and TCP where configured) and deliver the records\n"
     "each connector accepts to its destination, with retries. Records\n"
     "are spooled to disk under the state directory before the intake\n"
     "acknowledges them. SIGINT or SIGTERM stops it gracefully: the\n"
     "intake closes and batches in flight finish. SIGHUP reloads the\n"
     "configuration (see sluice reload).\n"
     "\n"
     "GET /healthz answers while the process runs; /readyz, /metrics,\n"
     "GET /v1/connectors (each connector's state: delivering, degraded,\n"
     "blocked) and the status page at / are on admin_listen when it is\n"
     "set, behind admin_keys when they are (docs/operations.md, Health).\n"
     "\n"
     "Logs are JSON lines on standard error; a failure repeated within\n"
     "60 s is logged once and then summarised with a count\n"
     "(docs/operations.md, Logging).\n",
     CONFIG_OPT
     "--log-level LEVEL\tdebug, info, warn, error or off; over the "
     "gateway's log_level (default info)\n",
     "0 after a graceful stop; 1 when it cannot start (a port taken, the\n"
     "state directory not writable) or lost records held only in memory\n"
     "(durability \"memory\") at the stop; 2 when the configuration has\n"
     "errors or a connector's schema changed since it last ran (see\n"
     "sluice reset).\n",
     "sluice run -c /etc/sluice/sluice.lua\n"
     "sluice run --log-level debug\n"},
    {"check", "sluice check [-c FILE]",
     "load and validate the configuration",
     "Load FILE and every connector file it names exactly as run would,\n"
     "report every problem at once, and print the gateway settings and\n"
     "each connector (keys, schema, a preview of a request made from a\n"
     "sample record). Nothing is started and nothing is written.\n",
     CONFIG_OPT,
     "0 when the configuration is valid; 2 when it has errors or a\n"
     "connector's schema differs from the one it locked on its first run.\n",
     "sluice check -c conf/sluice.lua\n"},
    {"reload", "sluice reload [-c FILE]",
     "check FILE, then ask its running gateway to reload",
     "Load and check FILE as check does; when it has no errors, send\n"
     "SIGHUP to the gateway serving its state directory (the pid in\n"
     "<state_dir>/sluice.pid). The gateway reads its files again and\n"
     "checks them completely before anything changes; its log says what\n"
     "the reload changed or why it changed nothing. SIGHUP to the gateway\n"
     "does the same without the check here.\n",
     CONFIG_OPT,
     "0 when the gateway was signalled; 1 when there is no gateway to\n"
     "signal (no pid file, a stale one, the process gone); 2 when the\n"
     "configuration has errors (nothing is signalled).\n",
     "sluice reload -c /etc/sluice/sluice.lua\n"},
    {"sink", "sluice sink --listen HOST:PORT [--status N] [--body]",
     "a printing HTTP destination for trying connectors",
     "Listen on HOST:PORT and print each request it receives (method,\n"
     "path, headers, the number of records) to standard output, answering\n"
     "each with a fixed status. Point a connector's url at it to see what\n"
     "sluice sends. Runs until SIGINT or SIGTERM.\n",
     "--listen HOST:PORT\twhere to listen (required)\n"
     "--status N\tthe status to answer with, 100..599 (default 200)\n"
     "--body\talso print each body (up to 4 KiB)\n",
     "0 after SIGINT or SIGTERM; 1 when it cannot listen; 2 on a usage\n"
     "error.\n",
     "sluice sink --listen 127.0.0.1:9000\n"
     "sluice sink --listen 127.0.0.1:9000 --status 503 --body\n"},
    {"keys", "sluice keys", "print the connector key reference (Markdown)",
     "Print every key a connector file may set, with its type, default and\n"
     "meaning, as Markdown: the same table that parses connector files\n"
     "produces docs/connectors.md.\n",
     "", "0.\n", "sluice keys > connector-keys.md\n"},
    {"send",
     "sluice send CONNECTOR FILE... [-c FILE] [--format F] [options]",
     "send a CSV, TSV, NDJSON or JSON file through a connector",
     "Read each FILE (- for standard input) and put every row through\n"
     "CONNECTOR's transform, checks, spool and delivery, as if it had been\n"
     "posted to the intake. The format is the file's extension (.csv .tsv\n"
     ".ndjson .jsonl .json) or --format; standard input without --format\n"
     "is a JSON array when it starts with [ and NDJSON when it starts\n"
     "with {. A CSV file's header row names the fields; each cell is\n"
     "converted by the schema (integers, numbers, true/false/1/0, an empty\n"
     "cell is null, nested fields from a cell holding JSON).\n"
     "\n"
     "When no gateway holds the connector's state directory, the\n"
     "connector runs in this process and send waits until every accepted\n"
     "record is delivered or dead-lettered. When a gateway holds it, the\n"
     "rows are posted to that gateway's intake (its listen address, TLS\n"
     "and the connector's intake key from the same configuration), and\n"
     "send returns once the gateway has acknowledged every row: delivery\n"
     "is the gateway's job from then on. Rows rejected (by the reader\n"
     "or the connector's checks) go to FILE.rejects.ndjson beside the\n"
     "input (stdin.rejects.ndjson for standard input), one JSON object a\n"
     "line with the row's line number, field, reason and text as read; a\n"
     "rejects file from an earlier run is removed first.\n"
     "\n"
     "On a terminal a progress bar is redrawn in place; otherwise a plain\n"
     "line is written every few seconds. The first SIGINT (Ctrl-C) or\n"
     "SIGTERM stops reading and finishes delivering what was accepted; a\n"
     "second stops at once, leaving the rest in the spool for the next\n"
     "sluice run or send.\n",
     CONFIG_OPT
     "--format F\tcsv, tsv, ndjson (or jsonl) or json (an array)\n"
     "--tsv\tthe same as --format tsv\n"
     "--delimiter C\tthe CSV cell separator (default , and tab for TSV)\n"
     "--batch N\trows per batch handed on (default and most 1000)\n"
     "--batch-bytes N\tbytes per batch at most (default 1048576)\n"
     "--rejects PATH\twhere the rejected rows go (one input only)\n"
     "--progress-interval S\tseconds between plain lines (default 5)\n"
     "--no-progress\tno progress, only the summary\n"
     "--log-level LEVEL\tdebug, info, warn, error or off (default warn)\n",
     "0 when every row was delivered (through a gateway: acknowledged);\n"
     "1 when some were rejected or\n"
     "dead-lettered, or a signal stopped it (the summary says how many and\n"
     "where they are); 2 for a usage or configuration error: a bad\n"
     "option, an unknown connector, a file that cannot be read, a CSV\n"
     "header that cannot be read with the schema, a gateway that refuses\n"
     "this configuration's intake key or connector.\n",
     "sluice send crm contacts.csv\n"
     "sluice send crm -c /etc/sluice/sluice.lua export.ndjson\n"
     "sluice send crm - --format json < rows.json\n"},
    {"dlq",
     "sluice dlq list|show|replay|purge CONNECTOR [options] [-c FILE]",
     "list, show, replay or purge dead letters",
     "Work on the dead letters of CONNECTOR: the records its destination\n"
     "refused for good or that ran out of retries.\n"
     "\n"
     "list CONNECTOR [--json]: one line per dead letter.\n"
     "show CONNECTOR ID: every field of one dead letter.\n"
     "replay CONNECTOR [--since T] [--id ID]...: send them again, through\n"
     "the spool inbox; a running gateway takes them within a second,\n"
     "otherwise at its next start.\n"
     "purge CONNECTOR [--since T] [--id ID]... [--yes]: delete them\n"
     "(without --yes it only shows what it would delete).\n",
     CONFIG_OPT
     "--json\tlist: one JSON object a line\n"
     "--since T\tonly those dead-lettered at or after T: RFC 3339 "
     "(2026-11-26T10:00:00Z) or unix seconds\n"
     "--id ID\tonly the dead letter ID; may be repeated\n"
     "--yes\tpurge: delete, rather than show what would be deleted\n",
     "0 done (or nothing to do); 1 refused or failed (the state directory\n"
     "cannot be read or written); 2 on a usage or configuration error or\n"
     "an unknown connector.\n",
     "sluice dlq list crm_contacts\n"
     "sluice dlq show crm_contacts 42\n"
     "sluice dlq replay crm_contacts --since 2026-11-26T10:00:00Z\n"
     "sluice dlq purge crm_contacts --id 42 --yes\n"},
    {"reset", "sluice reset CONNECTOR [--force] [-c FILE]",
     "forget a connector's schema lock to accept a new schema",
     "Forget the schema CONNECTOR locked on its first run, so that its\n"
     "next run accepts the schema in its file. Refused while a sluice runs\n"
     "it, and while it holds undelivered records or dead letters (made\n"
     "with the old schema) unless --force discards them.\n",
     CONFIG_OPT
     "--force\tdiscard the connector's undelivered records and dead "
     "letters too\n",
     "0 when the lock is gone (or there was none); 1 when refused (a\n"
     "sluice runs it, or it holds records and no --force) or the state\n"
     "directory cannot be changed; 2 on a usage or configuration error or\n"
     "an unknown connector.\n",
     "sluice reset crm_contacts\n"
     "sluice reset crm_contacts --force -c /etc/sluice/sluice.lua\n"},
    {"openapi", "sluice openapi [-c FILE]",
     "print the intake's OpenAPI 3.1 document",
     "Load and check FILE as check does and print the OpenAPI 3.1\n"
     "document of its HTTP intake on standard output, one line of JSON:\n"
     "a path per connector (POST /v1/connectors/NAME/records) with its\n"
     "request bodies, parameters, answers and security, and each\n"
     "connector's record as a JSON Schema 2020-12\n"
     "(components.schemas.NAME_record). A running gateway serves the\n"
     "same document as GET /openapi.json, beside /metrics (on\n"
     "admin_listen when it is set, behind admin_keys when they are).\n"
     "What sluice checks beyond the JSON Schema is listed in\n"
     "docs/tools.md, OpenAPI.\n",
     CONFIG_OPT,
     "0 when the document was printed; 1 when it could not be written;\n"
     "2 when the configuration has errors.\n",
     "sluice openapi -c conf/sluice.lua > openapi.json\n"},
    {"preview",
     "sluice preview CONNECTOR FILE [-n N] [--show-secrets] [--no-network]",
     "print the requests a file's first records would make",
     "Read the first N records of FILE (CSV, TSV, NDJSON or a JSON array,\n"
     "read as sluice send reads it; - for standard input), check each\n"
     "through CONNECTOR's transform and schema exactly as the intake\n"
     "would, list the records it would refuse\n"
     "(line, field, reason), and cut the accepted ones into the batches\n"
     "delivery would cut (batch.max_records, batch.max_bytes; one request\n"
     "per record for body \"object\"). For each request print the method,\n"
     "the URL with its placeholders filled, every header it carries (the\n"
     "static ones and those headers_fn returns; values of secret-looking\n"
     "headers masked) and the body exactly as it would be sent (before\n"
     "compression: the end line gives both sizes).\n"
     "\n"
     "headers_fn runs as for a first attempt, with req.preview = true; a\n"
     "sluice.http.request in it (a token endpoint) is made, unless\n"
     "--no-network, where it raises an error instead. Nothing is sent to\n"
     "the destination and nothing is spooled: the connector's state\n"
     "directory is not opened, so a gateway may be running it.\n",
     "-n N\tthe number of records to read, 1 to 1000000 (default one "
     "batch: batch.max_records, 1 for body \"object\")\n"
     "--show-secrets\tshow the values of secret-looking headers "
     "(Authorization, *token*, *key*, *secret*, *signature*, ...)\n"
     "--no-network\tsluice.http.request in headers_fn raises instead of "
     "making the request\n"
     "--json\tone JSON object a line (kind request, rejected, dropped, "
     "summary) instead of text\n"
     "--format F\tcsv, tsv, ndjson, jsonl or json (default: by FILE's "
     "extension; standard input: a JSON array or NDJSON by its first byte)\n"
     "--tsv\tthe same as --format tsv\n"
     "--delimiter C\tCSV's field separator: one character, or tab\n"
     CONFIG_OPT,
     "0 when every record read was accepted and every request could be\n"
     "made; 1 when some were rejected, or a request could not be made\n"
     "(headers_fn raised, as with --no-network and a token request); 2 for\n"
     "a usage or configuration error, an unknown connector or a file that\n"
     "cannot be read.\n",
     "sluice preview crm_contacts contacts.csv\n"
     "sluice preview crm_contacts contacts.ndjson -n 3 --no-network\n"
     "sluice preview rest_users users.ndjson --json --show-secrets\n"},
    {"version", "sluice version", "print the version",
     "Print \"sluice VERSION\". Also sluice --version.\n", "", "0.\n", ""},
    {"help", "sluice help [COMMAND | --man]",
     "list the commands, or show one command's help",
     "Without COMMAND, list the commands. With COMMAND, show its usage,\n"
     "what it does, its options, its exit status and examples: the same\n"
     "text as sluice COMMAND --help (or -h). --man prints this manual,\n"
     "sluice(1), as roff.\n",
     "--man\tprint the man page sluice(1) in roff\n",
     "0; 2 when COMMAND is unknown.\n",
     "sluice help dlq\n"
     "sluice run --help\n"},
};
#define HELP_NCMDS (sizeof help_cmds / sizeof help_cmds[0])

size_t sl_help_count(void) { return HELP_NCMDS; }

const sl_help_cmd *sl_help_at(size_t i)
{
    return i < HELP_NCMDS ? &help_cmds[i] : NULL;
}

const sl_help_cmd *sl_help_find(const char *name)
{
    for (size_t i = 0; name && i < HELP_NCMDS; i++)
        if (strcmp(help_cmds[i].name, name) == 0)
            return &help_cmds[i];
    return NULL;
}

int sl_help_wanted(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

void sl_help_print_overview(FILE *out)
{
    fprintf(out, "usage: sluice <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < HELP_NCMDS; i++)
        fprintf(out, "  %-8s %s\n", help_cmds[i].name, help_cmds[i].summary);
    fprintf(out, "\n`sluice help COMMAND` or `sluice COMMAND --help` shows "
            "a command's usage,\noptions and exit status; `man sluice` all "
            "of them.\n");
}

/* Print `text` indented by `indent` columns, every line of it. */
static void print_indented(const char *text, int indent, FILE *out)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        if (n)
            fprintf(out, "%*s%.*s\n", indent, "", (int)n, text);
        else
            fputc('\n', out);
        text += n + (text[n] == '\n');
    }
}

/* "  FLAGS   what it does", the text wrapped at 78 columns under itself. */
static void print_option(const char *flags, size_t flen, const char *what,
                         size_t wlen, FILE *out)
{
    enum { COL = 24, WIDTH = 78 };
    int col = fprintf(out, "  %.*s", (int)flen, flags);
    if (col > COL - 1) {
        fputc('\n', out);
        col = 0;
    }
    fprintf(out, "%*s", COL - col, "");
    col = COL;
    size_t i = 0;
    while (i < wlen) {
        size_t w = 0;
        while (i + w < wlen && what[i + w] != ' ')
            w++;
        if (col > COL && col + 1 + (int)w > WIDTH) {
            fprintf(out, "\n%*s", COL, "");
            col = COL;
        } else if (col > COL) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", (int)w, what + i);
        col += (int)w;
        i += w;
        while (i < wlen && what[i] == ' ')
            i++;
    }
    fputc('\n', out);
}

/* Call `fn` on each "FLAGS\tWHAT" line of `options`. */
static void each_option(const char *options,
                        void (*fn)(const char *, size_t, const char *, size_t,
                                   FILE *),
                        FILE *out)
{
    while (*options) {
        size_t n = strcspn(options, "\n");
        const char *tab = memchr(options, '\t', n);
        size_t flen = tab ? (size_t)(tab - options) : n;
        const char *what = tab ? tab + 1 : options + n;
        fn(options, flen, what, (size_t)(options + n - what), out);
        options += n + (options[n] == '\n');
    }
}

void sl_help_print_cmd(const sl_help_cmd *c, FILE *out)
{
    fprintf(out, "usage: %s\n\n", c->synopsis);
    print_indented(c->description, 0, out);
    if (c->options[0]) {
        fprintf(out, "\noptions:\n");
        each_option(c->options, print_option, out);
    }
    fprintf(out, "\nexit status:\n");
    print_indented(c->exit_status, 2, out);
    if (c->examples[0]) {
        fprintf(out, "\nexamples:\n");
        print_indented(c->examples, 2, out);
    }
}

/* roff text: a backslash as \e, '-' as \-, and a line that would start
 * with a control character ('.' or '\'') behind \&. */
static void man_escape(const char *s, size_t n, FILE *out)
{
    if (n && (s[0] == '.' || s[0] == '\''))
        fputs("\\&", out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            fputs("\\e", out);
        else if (s[i] == '-')
            fputs("\\-", out);
        else
            fputc(s[i], out);
    }
}

/* Prose: lines as they are, a blank line as a new paragraph. */
static void man_prose(const char *text, FILE *out)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        if (n == 0) {
            fputs(".PP\n", out);
        } else {
            man_escape(text, n, out);
            fputc('\n', out);
        }
        text += n + (text[n] == '\n');
    }
}

static void man_option(const char *flags, size_t flen, const char *what,
                       size_t wlen, FILE *out)
{
    fputs(".TP\n\\fB", out);
    man_escape(flags, flen, out);
    fputs("\\fR\n", out);
    man_escape(what, wlen, out);
    fputc('\n', out);
}

/* Literal lines (examples), one a line, not filled. */
static void man_literal(const char *text, FILE *out)
{
    fputs(".PP\n.RS 4\n.nf\n", out);
    while (*text) {
        size_t n = strcspn(text, "\n");
        man_escape(text, n, out);
        fputc('\n', out);
        text += n + (text[n] == '\n');
    }
    fputs(".fi\n.RE\n", out);
}

static void man_cmd(const sl_help_cmd *c, FILE *out)
{
    fputs(".SS ", out);
    man_escape(c->name, strlen(c->name), out);
    fputs("\n.PP\n\\fB", out);
    man_escape(c->synopsis, strlen(c->synopsis), out);
    fputs("\\fR\n.PP\n", out);
    man_prose(c->description, out);
    if (c->options[0]) {
        fputs(".PP\nOptions:\n", out);
        each_option(c->options, man_option, out);
    }
    fputs(".PP\nExit status: ", out);
    man_prose(c->exit_status, out);
    if (c->examples[0]) {
        fputs(".PP\nExamples:\n", out);
        man_literal(c->examples, out);
    }
}

void sl_help_print_man(const char *version, FILE *out)
{
    fputs(".TH SLUICE 1 \"\" \"sluice ", out);
    man_escape(version, strlen(version), out);
    fputs("\" \"User Commands\"\n"
          ".SH NAME\n"
          "sluice \\- a gateway that checks records against a schema, "
          "spools them and delivers them to HTTP APIs\n"
          ".SH SYNOPSIS\n"
          "\\fBsluice\\fR \\fIcommand\\fR [\\fIoptions\\fR]\n"
          ".SH DESCRIPTION\n"
          "sluice takes records over HTTP and TCP, checks each against its\n"
          "connector's schema, spools it durably, batches the records and\n"
          "delivers them to the connector's HTTP destination with retries.\n"
          "Records a destination refuses for good go to the connector's\n"
          "dead letters.\n"
          ".PP\n"
          "Every command has its help as \\fBsluice help\\fR "
          "\\fIcommand\\fR or\n"
          "\\fBsluice\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR; this page "
          "holds the same text.\n"
          ".SH COMMANDS\n", out);
    for (size_t i = 0; i < HELP_NCMDS; i++)
        man_cmd(&help_cmds[i], out);
    fputs(".SH FILES\n"
          ".TP\n"
          "\\fIconf/sluice.lua\\fR\n"
          "the gateway configuration read when \\fB\\-c\\fR is not given\n"
          "(relative to the current directory); connector files are found\n"
          "relative to it.\n"
          ".SH ENVIRONMENT\n"
          ".TP\n"
          "\\fBSLUICE_LUA_PATH\\fR\n"
          "where the Lua modules are looked for before the installed ones.\n"
          ".TP\n"
          "\\fBHTTPS_PROXY\\fR, \\fBHTTP_PROXY\\fR, \\fBNO_PROXY\\fR\n"
          "a proxy for destinations, unless a connector sets its own.\n"
          ".SH SEE ALSO\n"
          "The documents installed with sluice: README.md, "
          "docs/operations.md,\n"
          "docs/connectors.md and docs/architecture.md.\n", out);
}

void sl_help_print_arg(const char *arg, FILE *out)
{
    size_t i = 0;
    for (; arg[i] && i < 64; i++) {
        unsigned char c = (unsigned char)arg[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    if (arg[i])
        fputs("...", out);
}

void sl_help_print_unknown(const char *who, const char *name, FILE *out)
{
    fprintf(out, "%s: unknown command \"", who);
    sl_help_print_arg(name, out);
    fputs("\"\n\n", out);
    sl_help_print_overview(out);
}

int sl_help_main(int argc, char **argv, const char *version)
{
    if (argc < 1) {
        sl_help_print_overview(stdout);
        return 0;
    }
    if (strcmp(argv[0], "--man") == 0) {
        sl_help_print_man(version, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    const sl_help_cmd *c = sl_help_find(argv[0]);
    if (!c && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0))
        c = sl_help_find("help");
    if (!c) {
        sl_help_print_unknown("sluice help", argv[0], stderr);
        return 2;
    }
    sl_help_print_cmd(c, stdout);
    return 0;
}
