/* sl_schema_rules: a field's constraints beyond its type (enum, min/max,
 * min_length/max_length), compiled once and checked on a value after its
 * type check. sl_schema attaches them to fields (sl_schema_set_rules); a
 * field without rules has none to run. */
#ifndef SL_SCHEMA_RULES_H
#define SL_SCHEMA_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_json.h"

#define SL_SCHEMA_RULES_ENUM_MAX   256      /* values in one enum */
#define SL_SCHEMA_RULES_VALUE_MAX  1024     /* bytes of one enum value */
#define SL_SCHEMA_RULES_LENGTH_MAX 67108864 /* min_length/max_length, code
                                               points (64 Mi) */

/* Bytes that need not be NUL-terminated (an enum value may hold a NUL). */
typedef struct sl_schema_text {
    const char *p;
    size_t len;
} sl_schema_text;

/* What a field's values must be besides their type, as a caller states
 * it; every part is optional (has_* false, nenum 0). Values are borrowed
 * only for the call that takes them. */
typedef struct sl_schema_rules {
    const sl_schema_text *enum_values; /* string: the allowed values, as the
                                          JSON means them (decoded UTF-8) */
    size_t nenum;                      /* 0: any value */
    bool has_min, has_max;             /* integer: imin/imax; number:
                                          nmin/nmax; inclusive */
    int64_t imin, imax;
    double nmin, nmax;
    bool has_min_length, has_max_length; /* string: in code points */
    size_t min_length, max_length;
} sl_schema_rules;

/* What kind of value the rules are checked on. */
typedef enum sl_schema_rules_kind {
    SL_SCHEMA_RULES_STRING = 0,
    SL_SCHEMA_RULES_INTEGER,
    SL_SCHEMA_RULES_NUMBER
} sl_schema_rules_kind;

struct sl_schema_rules_set;
typedef struct sl_schema_rules_set sl_schema_rules_set;

/* Whether r states no rule at all. */
bool sl_schema_rules_empty(const sl_schema_rules *r);

/* Compile r for values of `kind`: everything needed is copied. Returns the
 * set (the caller frees it with sl_schema_rules_free), or NULL with the
 * reason in err: a rule for another kind, more enum values than
 * SL_SCHEMA_RULES_ENUM_MAX, an enum value longer than
 * SL_SCHEMA_RULES_VALUE_MAX, not UTF-8 or listed twice, a non-finite
 * number bound, min > max, a length past SL_SCHEMA_RULES_LENGTH_MAX,
 * min_length > max_length, out of memory. */
sl_schema_rules_set *sl_schema_rules_new(sl_schema_rules_kind kind,
                                         const sl_schema_rules *r, char *err,
                                         size_t errlen);
void sl_schema_rules_free(sl_schema_rules_set *set); /* accepts NULL */

/* The rules of set as a caller states them (a bound at its type's extreme
 * reads as not set; enum values borrowed from set, valid while it lives). */
void sl_schema_rules_get(const sl_schema_rules_set *set, sl_schema_rules *out);

/* The rules of set in one line for a person, into buf (cap bytes, cut if
 * longer): `enum "new", "done"`, `min 1; max 9`, `min_length 1;
 * max_length 64`; a long enum list ends in ", ... (N values)". */
void sl_schema_rules_describe(const sl_schema_rules_set *set, char *buf,
                              size_t cap);

/* Check a value that passed its type check (a STRING token for a string
 * set, a NUMBER token that fits int64 for an integer set, a finite NUMBER
 * for a number set). Returns 0, or -1 with why (naming the rule, not the
 * field) in msg. No allocation; thread-safe. */
int sl_schema_rules_check(const sl_schema_rules_set *set,
                          const sl_json_token *v, char *msg, size_t msglen);

#endif
