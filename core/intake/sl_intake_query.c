/* sl_intake_query: the query parameters of a POST of records. */
#include "sl_intake_query.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int sl_intake_query_dry_run(const char *uri, int *dry, char *msg,
                            size_t msglen)
{
    static const char key[] = "dry_run";
    const char *q = uri + strcspn(uri, "?#");
    *dry = 0;
    if (*q != '?')
        return 0;
    int seen = 0;
    size_t qlen = strcspn(++q, "#");
    for (const char *p = q, *end = q + qlen; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);
        size_t klen = strcspn(p, "=&#");
        klen = klen < n ? klen : n;
        if (klen == sizeof key - 1 && memcmp(p, key, klen) == 0) {
            const char *v = klen < n ? p + klen + 1 : "";
            size_t vlen = klen < n ? n - klen - 1 : 0;
            int t = (vlen == 4 && strncasecmp(v, "true", 4) == 0) ||
                    (vlen == 1 && *v == '1');
            int f = (vlen == 5 && strncasecmp(v, "false", 5) == 0) ||
                    (vlen == 1 && *v == '0');
            if (seen++ || (!t && !f)) {
                snprintf(msg, msglen, seen > 1
                         ? "query parameter dry_run given twice"
                         : "query parameter dry_run must be true or false "
                           "(or 1 or 0), not \"%.*s\"",
                         (int)(vlen > 40 ? 40 : vlen), v);
                *dry = 0;
                return -1;
            }
            *dry = t;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return 0;
}
