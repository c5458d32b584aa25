/* sl_header: header name and value rules. */
#include "sl_header.h"

#include <string.h>
#include <strings.h>

static bool tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool sl_header_name_ok(const char *name)
{
    if (!*name)
        return false;
    for (const char *s = name; *s; s++)
        if (!tchar(*s))
            return false;
    return true;
}

bool sl_header_reserved(const char *name)
{
    static const char *const reserved[] = {"Content-Type", "Content-Length",
                                           "Host", "Transfer-Encoding"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return true;
    return false;
}

bool sl_header_value_ok(const char *value, size_t len)
{
    return strcspn(value, "\r\n") == len; /* a NUL also stops strcspn */
}
