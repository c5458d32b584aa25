/* sl_luasrc: locates keys of Lua table constructors in source text. Lexes
 * just enough Lua (comments, short and long strings, names, brackets and
 * block keywords) to know which `key =` belongs to which table. */
#include "sl_luasrc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum tkind { T_NAME, T_STRING, T_OPEN, T_CLOSE, T_EQ, T_SEP, T_OTHER };

typedef struct tok {
    unsigned char kind;
    char ch;        /* T_OPEN/T_CLOSE: '{' '(' '[' or 'k' (block keyword) */
    int line;
    int depth;      /* open brackets and blocks before this token */
    long match;     /* T_OPEN: index of the closing token, -1 if none */
    const char *p;  /* T_NAME/T_STRING text (strings: between quotes) */
    size_t len;
} tok;

struct sl_luasrc {
    tok *t;
    long n, cap;
    long root;       /* T_OPEN '{' of the returned table, or -1 */
    int return_line; /* line of the final top-level `return`, or 0 */
    char *text;      /* copy of the source; tokens point into it */
};

static int push(sl_luasrc *s, tok t)
{
    if (s->n == s->cap) {
        long nc = s->cap ? s->cap * 2 : 256;
        tok *nt = realloc(s->t, (size_t)nc * sizeof *nt);
        if (!nt)
            return -1;
        s->t = nt;
        s->cap = nc;
    }
    s->t[s->n++] = t;
    return 0;
}

/* At p == '[': level of a long bracket "[==[" (>= 0), or -1. */
static long long_open(const char *p, const char *end)
{
    const char *q = p + 1;
    while (q < end && *q == '=')
        q++;
    return q < end && *q == '[' ? (long)(q - p - 1) : -1;
}

/* Skip a long bracket of `level` starting at p; counts lines. Returns the
 * position after the closing bracket (or end); the body goes to body, blen. */
static const char *long_skip(const char *p, const char *end, long level,
                             int *line, const char **body, size_t *blen)
{
    p += level + 2;
    *body = p;
    for (; p < end; p++) {
        if (*p == '\n')
            (*line)++;
        if (*p == ']') {
            const char *q = p + 1;
            while (q < end && *q == '=')
                q++;
            if (q < end && *q == ']' && q - p - 1 == level) {
                *blen = (size_t)(p - *body);
                return q + 1;
            }
        }
    }
    *blen = (size_t)(end - *body);
    return end;
}

static bool is_word(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(p, w, n) == 0;
}

static bool id_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool id_char(char c) { return id_start(c) || (c >= '0' && c <= '9'); }

static int lex(sl_luasrc *s, const char *p, const char *end)
{
    long stack[256];
    int sp = 0, line = 1;
    while (p < end) {
        char c = *p;
        tok t = {.kind = T_OTHER, .line = line, .depth = sp, .match = -1};
        if (c == '\n') {
            line++;
            p++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            p++;
            continue;
        }
        if (c == '-' && p + 1 < end && p[1] == '-') {
            const char *b;
            size_t bl;
            long lv = p + 2 < end && p[2] == '[' ? long_open(p + 2, end) : -1;
            if (lv >= 0) {
                p = long_skip(p + 2, end, lv, &line, &b, &bl);
            } else {
                while (p < end && *p != '\n')
                    p++;
            }
            continue;
        }
        if (c == '"' || c == '\'') {
            const char *q = p + 1;
            while (q < end && *q != c && *q != '\n') {
                if (*q == '\\' && q + 1 < end) {
                    if (q[1] == '\n')
                        line++;
                    q++;
                }
                q++;
            }
            t.kind = T_STRING;
            t.p = p + 1;
            t.len = (size_t)(q - p - 1);
            p = q < end && *q == c ? q + 1 : q;
        } else if (c == '[' && long_open(p, end) >= 0) {
            t.kind = T_STRING;
            p = long_skip(p, end, long_open(p, end), &line, &t.p, &t.len);
        } else if (id_start(c)) {
            const char *q = p;
            while (q < end && id_char(*q))
                q++;
            size_t n = (size_t)(q - p);
            t.kind = T_NAME;
            t.p = p;
            t.len = n;
            if (is_word(p, n, "function") || is_word(p, n, "if") ||
                is_word(p, n, "do") || is_word(p, n, "repeat")) {
                t.kind = T_OPEN;
                t.ch = 'k';
            } else if (is_word(p, n, "end") || is_word(p, n, "until")) {
                t.kind = T_CLOSE;
                t.ch = 'k';
            }
            p = q;
        } else if ((c >= '0' && c <= '9') ||
                   (c == '.' && p + 1 < end && p[1] >= '0' && p[1] <= '9')) {
            const char *q = p;
            while (q < end && (id_char(*q) || *q == '.' ||
                               ((*q == '+' || *q == '-') &&
                                strchr("eEpP", q[-1]))))
                q++;
            p = q;
        } else if (c == '{' || c == '(' || c == '[') {
            t.kind = T_OPEN;
            t.ch = c;
            p++;
        } else if (c == '}' || c == ')' || c == ']') {
            t.kind = T_CLOSE;
            t.ch = c;
            p++;
        } else if (c == '=' && !(p + 1 < end && p[1] == '=')) {
            t.kind = T_EQ;
            p++;
        } else if (c == ',' || c == ';') {
            t.kind = T_SEP;
            p++;
        } else if (strchr("=<>~", c) && p + 1 < end && p[1] == '=') {
            p += 2; /* == <= >= ~= */
        } else {
            p++;
        }
        if (t.kind == T_CLOSE) {
            if (sp > 0) {
                s->t[stack[--sp]].match = s->n;
                t.depth = sp;
            }
        }
        if (push(s, t) < 0)
            return -1;
        if (t.kind == T_OPEN && sp < (int)(sizeof stack / sizeof *stack))
            stack[sp++] = s->n - 1;
    }
    return 0;
}

static bool name_is(const tok *t, const char *w)
{
    return t->kind == T_NAME && is_word(t->p, t->len, w);
}

static bool is_open(const sl_luasrc *s, long i, char ch)
{
    return i >= 0 && i < s->n && s->t[i].kind == T_OPEN && s->t[i].ch == ch;
}

/* Decide which table the file returns: `return { ... }`, or `return X`
 * where an earlier top-level `X = { ... }` built it. */
static void find_root(sl_luasrc *s)
{
    long ret = -1;
    s->root = -1;
    for (long i = 0; i < s->n; i++)
        if (s->t[i].depth == 0 && name_is(&s->t[i], "return"))
            ret = i;
    if (ret < 0)
        return;
    s->return_line = s->t[ret].line;
    if (is_open(s, ret + 1, '{')) {
        s->root = ret + 1;
        return;
    }
    if (ret + 1 < s->n && s->t[ret + 1].kind == T_NAME) {
        const tok *x = &s->t[ret + 1];
        for (long i = ret - 1; i >= 0; i--)
            if (s->t[i].depth == 0 && s->t[i].kind == T_NAME &&
                s->t[i].len == x->len && !memcmp(s->t[i].p, x->p, x->len) &&
                i + 2 < s->n && s->t[i + 1].kind == T_EQ &&
                is_open(s, i + 2, '{')) {
                s->root = i + 2;
                return;
            }
    }
}

sl_luasrc *sl_luasrc_new(const char *text, size_t len)
{
    sl_luasrc *s = calloc(1, sizeof *s);
    if (!s)
        goto fail;
    s->text = malloc(len + 1);
    if (!s->text)
        goto fail;
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    if (lex(s, s->text, s->text + len) < 0)
        goto fail;
    find_root(s);
    return s;
fail:
    sl_luasrc_free(s);
    return NULL;
}

void sl_luasrc_free(sl_luasrc *s)
{
    if (!s)
        return;
    free(s->t);
    free(s->text);
    free(s);
}

static bool text_is(const tok *t, const char *key)
{
    return (t->kind == T_NAME || t->kind == T_STRING) &&
           strlen(key) == t->len && memcmp(t->p, key, t->len) == 0;
}

/* In the constructor opened at token `b`, find the field for `seg`.
 * Returns the index of the field's first token, with *val the index of its
 * value's first token; -1 if absent. */
static long find_field(const sl_luasrc *s, long b, const sl_luasrc_seg *seg,
                       long *val)
{
    long end = s->t[b].match >= 0 ? s->t[b].match : s->n;
    long pos = 0;
    for (long i = b + 1; i < end;) {
        const tok *t = &s->t[i];
        long v = -1;
        bool keyed = false, hit = false;
        if (t->kind == T_NAME && i + 1 < end && s->t[i + 1].kind == T_EQ) {
            keyed = true;
            v = i + 2;
            hit = seg->key && text_is(t, seg->key);
        } else if (is_open(s, i, '[') && t->match == i + 2 &&
                   i + 3 < end && s->t[i + 3].kind == T_EQ) {
            keyed = true;
            v = i + 4;
            hit = seg->key && s->t[i + 1].kind == T_STRING &&
                  text_is(&s->t[i + 1], seg->key);
        }
        if (!keyed) {
            v = i;
            pos++;
            hit = !seg->key && pos == seg->index;
        }
        if (hit) {
            *val = v;
            return i;
        }
        /* skip to the separator that ends this field */
        long j = i;
        while (j < end && s->t[j].kind != T_SEP)
            j = s->t[j].kind == T_OPEN && s->t[j].match > j ? s->t[j].match + 1
                                                          : j + 1;
        i = j + 1;
    }
    return -1;
}

/* Without a known root table: the first `key =` anywhere. */
static long find_anywhere(const sl_luasrc *s, const char *key, long *val)
{
    for (long i = 0; i + 1 < s->n; i++) {
        if (s->t[i].kind == T_NAME && text_is(&s->t[i], key) &&
            s->t[i + 1].kind == T_EQ) {
            *val = i + 2;
            return i;
        }
        if (is_open(s, i, '[') && s->t[i].match == i + 2 && i + 3 < s->n &&
            s->t[i + 1].kind == T_STRING && text_is(&s->t[i + 1], key) &&
            s->t[i + 3].kind == T_EQ) {
            *val = i + 4;
            return i;
        }
    }
    return -1;
}

int sl_luasrc_line(const sl_luasrc *s, const sl_luasrc_seg *path, size_t n,
                   size_t *found)
{
    size_t k = 0;
    int line = 0;
    if (!s) {
        if (found)
            *found = 0;
        return 0;
    }
    long table = s->root;
    for (; k < n; k++) {
        long val = -1, f;
        if (table >= 0)
            f = find_field(s, table, &path[k], &val);
        else if (k == 0 && path[k].key)
            f = find_anywhere(s, path[k].key, &val);
        else
            break;
        if (f < 0)
            break;
        line = s->t[f].line;
        table = is_open(s, val, '{') ? val : -1;
        if (table < 0 && k + 1 < n) {
            k++;
            break;
        }
    }
    if (found)
        *found = k;
    return k > 0 ? line : s->return_line;
}
