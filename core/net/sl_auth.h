/* sl_auth: intake keys. A connector may require callers to present one of
 * several keys (several, so that a key can be rotated: add the new one,
 * move the callers, remove the old one) as "Authorization: Bearer <key>".
 * Keys are kept only as SHA-256 digests and compared digest against digest
 * with CRYPTO_memcmp, every key every time: the time a check takes says
 * nothing about the key, nor about which key came close. */
#ifndef SL_AUTH_H
#define SL_AUTH_H

#include <stddef.h>

struct sl_auth;
typedef struct sl_auth sl_auth;

typedef enum sl_auth_rc {
    SL_AUTH_OK = 0,
    SL_AUTH_MISSING,  /* no Authorization header, or not "Bearer <key>" */
    SL_AUTH_WRONG     /* a Bearer key that is none of the keys */
} sl_auth_rc;

/* Digest `n` keys (borrowed; not kept). NULL on ENOMEM. */
sl_auth *sl_auth_new(const char *const *keys, size_t n);
void sl_auth_free(sl_auth *a); /* accepts NULL; wipes the digests */

/* Check an Authorization header value (may be NULL). The scheme is
 * case-insensitive; spaces around the key are ignored. */
sl_auth_rc sl_auth_check(const sl_auth *a, const char *authorization);

/* As sl_auth_check, and also `Basic <base64 of user:password>` whose
 * password is one of the keys (the user is ignored): what a browser's
 * login prompt sends. Malformed Basic credentials are SL_AUTH_WRONG. */
sl_auth_rc sl_auth_check_browser(const sl_auth *a, const char *authorization);

#endif
