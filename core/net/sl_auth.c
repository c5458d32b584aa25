/* sl_auth: intake keys as SHA-256 digests, compared in constant time. */
#include "sl_auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

struct sl_auth {
    size_t n;
    unsigned char (*digests)[SHA256_DIGEST_LENGTH];
};

sl_auth *sl_auth_new(const char *const *keys, size_t n)
{
    sl_auth *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (n && !(a->digests = calloc(n, sizeof *a->digests))) {
        free(a);
        return NULL;
    }
    a->n = n;
    for (size_t i = 0; i < n; i++)
        SHA256((const unsigned char *)keys[i], strlen(keys[i]), a->digests[i]);
    return a;
}

void sl_auth_free(sl_auth *a)
{
    if (!a)
        return;
    if (a->digests)
        OPENSSL_cleanse(a->digests, a->n * sizeof *a->digests);
    free(a->digests);
    free(a);
}

sl_auth_rc sl_auth_check(const sl_auth *a, const char *h)
{
    if (!h)
        return SL_AUTH_MISSING;
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return SL_AUTH_MISSING;
    h += 6;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t len = strlen(h);
    while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t'))
        len--;
    if (len == 0)
        return SL_AUTH_MISSING;
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)h, len, d);
    int match = 0;
    for (size_t i = 0; i < a->n; i++) /* no early exit */
        match |= CRYPTO_memcmp(d, a->digests[i], sizeof d) == 0;
    OPENSSL_cleanse(d, sizeof d);
    return match ? SL_AUTH_OK : SL_AUTH_WRONG;
}
