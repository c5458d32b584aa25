/* sl_help: the one text of every command's help (usage, what it does,
 * options, exit status, examples), printed by `sluice help`, by
 * `sluice COMMAND --help` and, as roff, into the man page sluice(1). */
#ifndef SL_HELP_H
#define SL_HELP_H

#include <stddef.h>
#include <stdio.h>

/* One command's help. Every field is static text. `options` holds one
 * option a line, "FLAGS\tWHAT IT DOES\n"; `examples` one command a line;
 * `description` and `exit_status` are prose whose blank lines separate
 * paragraphs. Adding a command's help is adding one row to the table in
 * sl_help.c. */
typedef struct sl_help_cmd {
    const char *name;        /* "run" */
    const char *synopsis;    /* "sluice run [-c FILE] [--log-level LEVEL]" */
    const char *summary;     /* one line, for the list of commands */
    const char *description;
    const char *options;     /* may be "" */
    const char *exit_status;
    const char *examples;    /* may be "" */
} sl_help_cmd;

/* The commands in the order `sluice help` lists them: sl_help_count()
 * rows, sl_help_at(i) for i below it (NULL past the end). */
size_t sl_help_count(void);
const sl_help_cmd *sl_help_at(size_t i);

/* The row of the command called `name`, or NULL. */
const sl_help_cmd *sl_help_find(const char *name);

/* Whether argv[0..argc) holds "--help" or "-h" (anywhere among a
 * command's options). */
int sl_help_wanted(int argc, char **argv);

/* The list of commands with their summaries, for `sluice help`. */
void sl_help_print_overview(FILE *out);

/* A command's help as text. */
void sl_help_print_cmd(const sl_help_cmd *c, FILE *out);

/* The man page sluice(1) in roff (man macros), made from the same table;
 * `version` goes into its header. */
void sl_help_print_man(const char *version, FILE *out);

/* `who: unknown command "NAME"` and the list of commands, on `out`;
 * NAME as sl_help_print_arg writes it. */
void sl_help_print_unknown(const char *who, const char *name, FILE *out);

/* A command-line word as it may be shown on a terminal: bytes below 0x20,
 * 0x7f and above, '"' and '\\' as \xHH, and at most 64 bytes of it (then
 * "..."), so that a hostile argument cannot drive the terminal. */
void sl_help_print_arg(const char *arg, FILE *out);

/* `sluice help [COMMAND | --man]` with argv the words after "help":
 * prints to stdout and returns 0; an unknown command is reported on
 * stderr with the list of commands and returns 2. */
int sl_help_main(int argc, char **argv, const char *version);

#endif
