/* sl_status_lists: a byte per HTTP status code 100..599, its list. */
#include "sl_status_lists.h"

#include <stdlib.h>

#define NCODES (SL_STATUS_LISTS_MAX - SL_STATUS_LISTS_MIN + 1)

struct sl_status_lists {
    unsigned char list[NCODES]; /* sl_status_list by status - MIN */
};

sl_status_lists *sl_status_lists_new(void)
{
    return calloc(1, sizeof(sl_status_lists));
}

void sl_status_lists_free(sl_status_lists *l) { free(l); }

static int in_range(long status)
{
    return status >= SL_STATUS_LISTS_MIN && status <= SL_STATUS_LISTS_MAX;
}

int sl_status_lists_add(sl_status_lists *l, long status, sl_status_list list)
{
    if (!in_range(status) || list <= SL_STATUS_LIST_NONE ||
        list > SL_STATUS_LIST_PERMANENT)
        return -1;
    unsigned char *at = &l->list[status - SL_STATUS_LISTS_MIN];
    if (*at != SL_STATUS_LIST_NONE)
        return *at;
    *at = (unsigned char)list;
    return SL_STATUS_LIST_NONE;
}

sl_status_list sl_status_lists_get(const sl_status_lists *l, long status)
{
    if (!l || !in_range(status))
        return SL_STATUS_LIST_NONE;
    return (sl_status_list)l->list[status - SL_STATUS_LISTS_MIN];
}

size_t sl_status_lists_codes(const sl_status_lists *l, sl_status_list list,
                             long *out, size_t n)
{
    size_t k = 0;
    for (long s = SL_STATUS_LISTS_MIN; l && s <= SL_STATUS_LISTS_MAX; s++) {
        if (l->list[s - SL_STATUS_LISTS_MIN] != list)
            continue;
        if (k < n)
            out[k] = s;
        k++;
    }
    return k;
}

const char *sl_status_lists_name(sl_status_list list)
{
    switch (list) {
    case SL_STATUS_LIST_SUCCESS:
        return "success";
    case SL_STATUS_LIST_RETRY:
        return "retry";
    case SL_STATUS_LIST_PERMANENT:
        return "permanent";
    default:
        return "none";
    }
}
