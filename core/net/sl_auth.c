/* sl_auth: intake keys as SHA-256 digests, compared in constant time. */
#include "sl_auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
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

/* Is key[0..len) one of the keys? Every digest is compared, in constant
 * time. */
static sl_auth_rc matches(const sl_auth *a, const char *key, size_t len)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)key, len, d);
    int match = 0;
    for (size_t i = 0; i < a->n; i++) /* no early exit */
        match |= CRYPTO_memcmp(d, a->digests[i], sizeof d) == 0;
    OPENSSL_cleanse(d, sizeof d);
    return match ? SL_AUTH_OK : SL_AUTH_WRONG;
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
    return matches(a, h, len);
}

/* Longest Basic credentials decoded (a key is at most 1024 bytes). */
#define BASIC_MAX 2048

sl_auth_rc sl_auth_check_browser(const sl_auth *a, const char *h)
{
    const char *p = h;
    while (p && (*p == ' ' || *p == '\t'))
        p++;
    if (!p || strncasecmp(p, "Basic", 5) != 0 || (p[5] != ' ' && p[5] != '\t'))
        return sl_auth_check(a, h);
    p += 5;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, " \t");
    if (n == 0 || n % 4 != 0 || n > BASIC_MAX / 3 * 4 ||
        p[n + strspn(p + n, " \t")] != '\0') /* one token, blanks after */
        return SL_AUTH_WRONG;
    unsigned char dec[BASIC_MAX + 1];
    int len = EVP_DecodeBlock(dec, (const unsigned char *)p, (int)n);
    sl_auth_rc rc = SL_AUTH_WRONG;
    if (len >= 0) {
        /* EVP_DecodeBlock counts the padding as zero bytes */
        len -= (p[n - 1] == '=') + (n > 1 && p[n - 2] == '=');
        const unsigned char *colon = memchr(dec, ':', (size_t)len);
        size_t pw = colon ? (size_t)len - (size_t)(colon + 1 - dec) : 0;
        if (pw > 0)
            rc = matches(a, (const char *)colon + 1, pw);
    }
    OPENSSL_cleanse(dec, sizeof dec);
    return rc;
}
