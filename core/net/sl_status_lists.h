/* sl_status_lists: a connector's `status` key — which HTTP status codes
 * (100..599) its operator puts in which class (success, retry,
 * permanent), overriding sluice's default classes (sl_retry). A byte per
 * code: a lookup is one index. */
#ifndef SL_STATUS_LISTS_H
#define SL_STATUS_LISTS_H

#include <stddef.h>

#define SL_STATUS_LISTS_MIN 100
#define SL_STATUS_LISTS_MAX 599

/* The list a code is in. */
typedef enum sl_status_list {
    SL_STATUS_LIST_NONE = 0,  /* in none: the default class */
    SL_STATUS_LIST_SUCCESS,   /* status.success: delivered */
    SL_STATUS_LIST_RETRY,     /* status.retry: again after the backoff */
    SL_STATUS_LIST_PERMANENT  /* status.permanent: bisect or dead-letter */
} sl_status_list;

typedef struct sl_status_lists sl_status_lists;

/* Empty lists; NULL when out of memory. Free with sl_status_lists_free
 * (which accepts NULL). */
sl_status_lists *sl_status_lists_new(void);
void sl_status_lists_free(sl_status_lists *l);

/* Put `status` in `list` (not NONE). Returns SL_STATUS_LIST_NONE when
 * done; the list it already is in when it is in one (then nothing
 * changes: a code is in one list at most, even twice in the same); -1
 * when status is out of SL_STATUS_LISTS_MIN..MAX or list is NONE. */
int sl_status_lists_add(sl_status_lists *l, long status, sl_status_list list);

/* The list `status` is in; SL_STATUS_LIST_NONE when in none, out of
 * range (0: the transfer failed), or l is NULL. */
sl_status_list sl_status_lists_get(const sl_status_lists *l, long status);

/* The codes in `list`, ascending, into out (at most n); returns how many
 * there are (may be more than n). */
size_t sl_status_lists_codes(const sl_status_lists *l, sl_status_list list,
                             long *out, size_t n);

/* "success", "retry", "permanent" (the keys of `status`); "none". */
const char *sl_status_lists_name(sl_status_list list);

#endif
