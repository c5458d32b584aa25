/* sl_test_tls: keys and certificates for the unit tests of the TLS code,
 * made with OpenSSL and written as PEM files: a P-256 key, a self-signed
 * certificate valid over chosen days. Header only, like sl_test.h, whose
 * CHECK it uses. */
#ifndef SL_TEST_TLS_H
#define SL_TEST_TLS_H

#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sl_test.h"

/* A new P-256 key (CHECKed; the caller frees it). */
static inline EVP_PKEY *sl_test_tls_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    CHECK(k != NULL);
    return k;
}

/* A certificate of key for CN=cn, self-signed, valid from now + from_days
 * to now + to_days (CHECKed; the caller frees it). */
static inline X509 *sl_test_tls_cert(EVP_PKEY *key, const char *cn,
                                     long from_days, long to_days, time_t now)
{
    X509 *x = X509_new();
    CHECK(x != NULL);
    if (!x)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_time_adj_ex(X509_getm_notBefore(x), (int)from_days, 0, &now);
    X509_time_adj_ex(X509_getm_notAfter(x), (int)to_days, 0, &now);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    CHECK(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

/* x as PEM at path: the whole file, or appended to it (CHECKed). */
static inline void sl_test_tls_write_cert(const char *path, X509 *x,
                                          int append)
{
    FILE *f = fopen(path, append ? "a" : "w");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(PEM_write_X509(f, x) == 1);
    fclose(f);
}

/* k as a PEM private key at path, encrypted (AES-256) with pass unless
 * it is NULL (CHECKed). */
static inline void sl_test_tls_write_key(const char *path, EVP_PKEY *k,
                                         const char *pass)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(PEM_write_PrivateKey(f, k, pass ? EVP_aes_256_cbc() : NULL, NULL,
                               0, NULL, (void *)pass) == 1);
    fclose(f);
}

#endif
