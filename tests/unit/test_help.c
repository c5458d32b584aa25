/* Unit tests for sl_help: every row of the help table is complete and
 * fits a terminal, a command's help prints its usage, options and exit
 * status, --help/-h is found anywhere among the options, and the man page
 * made from the same table is roff whose every line is a macro it uses or
 * escaped text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_help.h"
#include "sl_test.h"

/* What `fn` printed, NUL-terminated; the caller frees it. */
static char *capture_cmd(const sl_help_cmd *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    sl_help_print_cmd(c, f);
    fclose(f);
    return text;
}

static char *capture_man(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    sl_help_print_man("9.9.9", f);
    fclose(f);
    return text;
}

static size_t longest_line(const char *s)
{
    size_t best = 0;
    while (*s) {
        size_t n = strcspn(s, "\n");
        if (n > best)
            best = n;
        s += n + (s[n] == '\n');
    }
    return best;
}

static void test_every_row_is_complete(void)
{
    CHECK(sl_help_count() >= 8);
    CHECK(sl_help_at(sl_help_count()) == NULL);
    for (size_t i = 0; i < sl_help_count(); i++) {
        const sl_help_cmd *c = sl_help_at(i);
        char want[64];
        snprintf(want, sizeof want, "sluice %s", c->name);
        CHECK(strncmp(c->synopsis, want, strlen(want)) == 0);
        CHECK(c->summary[0] && strlen(c->summary) <= 60);
        CHECK(c->description[0] && longest_line(c->description) <= 72);
        CHECK(c->exit_status[0] && longest_line(c->exit_status) <= 72);
        CHECK(longest_line(c->examples) <= 72);
        CHECK(sl_help_find(c->name) == c);
        /* each option line: "-FLAGS\tWHAT" */
        for (const char *o = c->options; *o;) {
            size_t n = strcspn(o, "\n");
            const char *tab = memchr(o, '\t', n);
            CHECK(o[0] == '-' && tab && tab + 1 < o + n);
            CHECK(o[n] == '\n');
            o += n + (o[n] == '\n');
        }
        /* each example runs this command */
        for (const char *e = c->examples; *e;) {
            size_t n = strcspn(e, "\n");
            CHECK(strncmp(e, "sluice ", 7) == 0);
            e += n + (e[n] == '\n');
        }
    }
}

static void test_the_commands_main_dispatches_have_help(void)
{
    static const char *const cmds[] = {"run", "check", "sink", "keys", "dlq",
                                       "reset", "reload", "version", "help"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        CHECK(sl_help_find(cmds[i]) != NULL);
    CHECK(sl_help_find("bogus") == NULL);
    CHECK(sl_help_find("") == NULL);
    CHECK(sl_help_find(NULL) == NULL);
    CHECK(sl_help_find("RUN") == NULL);
}

static void test_a_commands_help_text(void)
{
    for (size_t i = 0; i < sl_help_count(); i++) {
        const sl_help_cmd *c = sl_help_at(i);
        char *t = capture_cmd(c);
        CHECK(t != NULL);
        if (!t)
            continue;
        char want[160];
        snprintf(want, sizeof want, "usage: %s\n\n", c->synopsis);
        CHECK(strncmp(t, want, strlen(want)) == 0);
        CHECK_CONTAINS(t, "\nexit status:\n  ");
        if (c->options[0])
            CHECK_CONTAINS(t, "\noptions:\n  -");
        CHECK(longest_line(t) <= 80);
        free(t);
    }
    char *t = capture_cmd(sl_help_find("dlq"));
    CHECK_CONTAINS(t, "  --since T             only those dead-lettered");
    /* a long option text wraps under its own column */
    CHECK_CONTAINS(t, "\n                        ");
    CHECK_CONTAINS(t, "  sluice dlq list crm_contacts\n");
    free(t);
}

static void test_help_wanted_anywhere(void)
{
    char *a[] = {"-c", "x.lua", "--help"};
    CHECK(sl_help_wanted(3, a) == 1);
    char *b[] = {"-h"};
    CHECK(sl_help_wanted(1, b) == 1);
    char *c[] = {"list", "crm", "--json"};
    CHECK(sl_help_wanted(3, c) == 0);
    char *d[] = {"--helpme", "-hh", "help", "--HELP"};
    CHECK(sl_help_wanted(4, d) == 0);
    CHECK(sl_help_wanted(0, NULL) == 0);
}

static void test_help_main(void)
{
    char *known[] = {"reset"};
    char *unknown[] = {"nope"};
    char *weird[] = {"\x1b[2J"};
    /* stdout/stderr of these go to the test log */
    CHECK(sl_help_main(1, known, "9.9.9") == 0);
    CHECK(sl_help_main(1, unknown, "9.9.9") == 2);
    CHECK(sl_help_main(1, weird, "9.9.9") == 2);
    CHECK(sl_help_main(0, NULL, "9.9.9") == 0);
}

static char *capture_arg(const char *arg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    sl_help_print_arg(arg, f);
    fclose(f);
    return text;
}

static void test_hostile_arguments_shown_safely(void)
{
    char *t = capture_arg("\x1b[2J\"x\\\r\n\x7f\xc3\xa9ok");
    CHECK_STR(t, "\\x1b[2J\\x22x\\x5c\\x0d\\x0a\\x7f\\xc3\\xa9ok");
    free(t);
    char longer[200];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    t = capture_arg(longer);
    CHECK(t && strlen(t) == 67 && strcmp(t + 64, "...") == 0);
    free(t);
    t = capture_arg("");
    CHECK_STR(t, "");
    free(t);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    sl_help_print_unknown("sluice", "r\x1bun", f);
    fclose(f);
    CHECK(text && strncmp(text, "sluice: unknown command \"r\\x1bun\"\n\n"
                          "usage: sluice <command>", 46) == 0);
    CHECK(text && !strchr(text, '\x1b'));
    free(text);
}

static int known_macro(const char *line)
{
    static const char *const macros[] = {".TH ", ".SH ", ".SS ", ".PP\n",
                                         ".TP\n", ".RS 4\n", ".RE\n",
                                         ".nf\n", ".fi\n"};
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
        if (strncmp(line, macros[i], strlen(macros[i])) == 0)
            return 1;
    return 0;
}

static void test_man_page(void)
{
    char *m = capture_man();
    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(strncmp(m, ".TH SLUICE 1 \"\" \"sluice 9.9.9\" ", 31) == 0);
    CHECK_CONTAINS(m, "\n.SH NAME\nsluice \\- ");
    for (size_t i = 0; i < sl_help_count(); i++) {
        char want[64];
        snprintf(want, sizeof want, "\n.SS %s\n", sl_help_at(i)->name);
        CHECK_CONTAINS(m, want);
    }
    CHECK_CONTAINS(m, "\\fB\\-c, \\-\\-config FILE\\fR\n");
    for (const char *l = m; *l;) {
        size_t n = strcspn(l, "\n");
        CHECK(n > 0); /* a blank line is a paragraph break in roff */
        if (l[0] == '.' || l[0] == '\'')
            CHECK(known_macro(l));
        /* every '-' is \- and every backslash starts an escape we use */
        for (size_t i = 0; i < n; i++) {
            if (l[i] == '-')
                CHECK(i > 0 && l[i - 1] == '\\');
            if (l[i] == '\\') {
                CHECK(i + 1 < n && strchr("-ef&", l[i + 1]));
                i++;
            }
        }
        l += n + (l[n] == '\n');
    }
    free(m);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"every_row_is_complete", test_every_row_is_complete},
        {"the_commands_main_dispatches_have_help",
         test_the_commands_main_dispatches_have_help},
        {"a_commands_help_text", test_a_commands_help_text},
        {"help_wanted_anywhere", test_help_wanted_anywhere},
        {"help_main", test_help_main},
        {"hostile_arguments_shown_safely",
         test_hostile_arguments_shown_safely},
        {"man_page", test_man_page},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
