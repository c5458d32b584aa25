/* sl_intake_tcp_lines: where a TCP chunk of whole lines ends. */
#include "sl_intake_tcp_lines.h"

#include <stdint.h>
#include <string.h>

size_t sl_intake_tcp_lines_whole(size_t max, int ack, const char *data,
                                 size_t n, int *too_long)
{
    size_t at = 0;
    uint64_t lines = 0;
    *too_long = 0;
    if (!ack && n <= max) {
        const char *nl = memrchr(data, '\n', n);
        return nl ? (size_t)(nl - data) + 1 : 0;
    }
    while (at < n) {
        const char *nl = memchr(data + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - data) : n;
        if (end - at > max) {
            if (at == 0)
                *too_long = 1;
            return at;
        }
        if (!nl)
            return at;
        at = end + 1;
        if (++lines == SL_INTAKE_TCP_LINES_ACK_MAX && ack)
            return at;
    }
    return at;
}
