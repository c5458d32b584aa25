/* Unit tests for sl_tls_files: certificates and keys made here with
 * OpenSSL (sl_test_tls.h: an EC key, a self-signed certificate with
 * chosen dates) and written as PEM; then what the checker says of good
 * files, of dates (expired, not yet valid, expiring soon; in a CA bundle,
 * an expired one among valid ones and a bundle with none valid), of keys
 * (mismatched, encrypted with the right, a wrong and no password), and of
 * hostile input: missing, a directory, a FIFO, empty, garbage, 10 MiB of
 * garbage, truncated PEM, a BEGIN line without its END, base64 that is
 * not DER, NUL bytes, a 3 MiB line, thousands of BEGIN lines. Every
 * message names the file and never the password. Also what
 * sl_tls_files_info_of reads of a certificate file, and the one rule of
 * the expiry warning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sl_test.h"
#include "sl_test_dir.h"
#include "sl_test_tls.h"
#include "sl_tls_files.h"

#define DAY 86400L
#define PASSWORD "correct horse battery"

static char dir[256];
static time_t now;

typedef struct findings {
    int errors, warnings;
    char text[8192]; /* every message, one a line, "E key: msg" */
} findings;

static void collect(void *ud, sl_tls_files_level level, const char *key,
                    const char *msg)
{
    findings *f = ud;
    size_t n = strlen(f->text);
    if (level == SL_TLS_FILES_ERROR)
        f->errors++;
    else
        f->warnings++;
    snprintf(f->text + n, sizeof f->text - n, "%c %s: %s\n",
             level == SL_TLS_FILES_ERROR ? 'E' : 'W', key, msg);
}

static findings check(const sl_transport_tls *tls)
{
    findings f;
    memset(&f, 0, sizeof f);
    int n = sl_tls_files_check(tls, now, 14, collect, &f);
    CHECK(n == f.errors);
    CHECK(!strstr(f.text, PASSWORD));
    return f;
}

static const char *path_of(const char *name)
{
    return sl_test_path_in(dir, name);
}

static X509 *new_cert(EVP_PKEY *key, const char *cn, long from_days,
                      long to_days)
{
    return sl_test_tls_cert(key, cn, from_days, to_days, now);
}

static void write_cert(const char *name, X509 *x, int append)
{
    sl_test_tls_write_cert(path_of(name), x, append);
}

static void write_key(const char *name, EVP_PKEY *k, const char *pass)
{
    sl_test_tls_write_key(path_of(name), k, pass);
}

static char *slurp(const char *name, size_t *len)
{
    FILE *f = fopen(path_of(name), "rb");
    CHECK(f != NULL);
    char *buf = calloc(1, 1 << 16);
    *len = f ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    if (f)
        fclose(f);
    return buf;
}

static sl_transport_tls client(const char *cert, const char *key,
                               const char *pass)
{
    sl_transport_tls t = {0};
    t.verify = 1;
    t.client_cert = cert ? path_of(cert) : NULL;
    t.client_key = key ? path_of(key) : NULL;
    t.key_password = pass;
    return t;
}

static sl_transport_tls ca(const char *file)
{
    sl_transport_tls t = {0};
    t.verify = 1;
    t.ca_file = path_of(file);
    return t;
}

/* ---- fixtures ----------------------------------------------------------- */

static void make_fixtures(void)
{
    EVP_PKEY *k = sl_test_tls_key(), *other = sl_test_tls_key();
    X509 *good = new_cert(k, "good client", -1, 60);
    write_cert("good.pem", good, 0);
    write_key("good.key", k, NULL);
    write_key("good.enc", k, PASSWORD);
    write_key("other.key", other, NULL);
    write_cert("both.pem", good, 0); /* certificate and key in one file */
    FILE *f = fopen(path_of("both.pem"), "a");
    CHECK(f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
    if (f)
        fclose(f);
    X509 *old = new_cert(k, "old client", -30, -1);
    write_cert("old.pem", old, 0);
    X509 *future = new_cert(k, "future client", 2, 9);
    write_cert("future.pem", future, 0);
    X509 *soon = new_cert(k, "soon client", -1, 5);
    write_cert("soon.pem", soon, 0);
    X509 *ca1 = new_cert(other, "CA one", -1, 365);
    write_cert("bundle.pem", ca1, 0);
    write_cert("bundle.pem", good, 1);
    write_cert("bad-bundle.pem", ca1, 0);
    write_cert("bad-bundle.pem", old, 1);
    write_cert("dead-bundle.pem", old, 0);
    write_cert("dead-bundle.pem", future, 1);
    write_cert("soon-bundle.pem", ca1, 0);
    write_cert("soon-bundle.pem", soon, 1);
    CHECK(mkfifo(path_of("fifo"), 0600) == 0);
    X509_free(good);
    X509_free(old);
    X509_free(future);
    X509_free(soon);
    X509_free(ca1);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}

/* ---- good files ----------------------------------------------------------- */

static void test_good_files(void)
{
    sl_transport_tls t = client("good.pem", "good.key", NULL);
    t.ca_file = path_of("bundle.pem");
    t.ca_path = dir;
    findings f = check(&t);
    CHECK(f.errors == 0 && f.warnings == 0);
    t = client("both.pem", NULL, NULL); /* the key in the cert file */
    f = check(&t);
    CHECK(f.errors == 0 && f.warnings == 0);
    t = client("good.pem", "good.enc", PASSWORD);
    f = check(&t);
    CHECK(f.errors == 0 && f.warnings == 0);
    sl_transport_tls none = {0};
    f = check(&none);
    CHECK(f.errors == 0 && f.warnings == 0);
}

/* ---- what a certificate file says ---------------------------------------- */

static void test_info(void)
{
    sl_tls_files_info info;
    char err[640];
    CHECK(sl_tls_files_info_of(path_of("bundle.pem"), &info, err,
                               sizeof err) == 0);
    CHECK(info.ncerts == 2);
    CHECK_STR(info.subject, "CN=CA one");
    CHECK_CONTAINS(info.not_after, " UTC");
    CHECK(info.expires > now + 364 * DAY && info.expires <= now + 365 * DAY);
    CHECK(sl_tls_files_info_of(path_of("good.key"), &info, err,
                               sizeof err) == -1);
    CHECK_CONTAINS(err, "good.key\" is PEM, but holds no CERTIFICATE block");
    CHECK(info.ncerts == 0 && info.expires == 0);
    CHECK(sl_tls_files_info_of(path_of("nope.pem"), &info, err,
                               sizeof err) == -1);
    CHECK_CONTAINS(err, "cannot open \"");
    CHECK_CONTAINS(err, "No such file");
    CHECK(sl_tls_files_info_of(path_of("fifo"), &info, err,
                               sizeof err) == -1);
    CHECK_CONTAINS(err, "fifo\" is not a regular file");
    CHECK(sl_tls_files_info_of(path_of("nope.pem"), &info, NULL, 0) == -1);
    /* the one rule of the warning: expired at its end, expiring within
     * warn_days, else valid */
    CHECK(sl_tls_files_expiry_at(now, now, 14) == SL_TLS_FILES_EXPIRED);
    CHECK(sl_tls_files_expiry_at(now - 1, now, 14) == SL_TLS_FILES_EXPIRED);
    CHECK(sl_tls_files_expiry_at(now + 1, now, 14) == SL_TLS_FILES_EXPIRING);
    CHECK(sl_tls_files_expiry_at(now + 14 * DAY, now, 14) ==
          SL_TLS_FILES_EXPIRING);
    CHECK(sl_tls_files_expiry_at(now + 14 * DAY + 1, now, 14) ==
          SL_TLS_FILES_VALID);
    CHECK(sl_tls_files_expiry_at(now + 1, now, 0) == SL_TLS_FILES_VALID);
}

/* ---- dates --------------------------------------------------------------- */

static void test_dates(void)
{
    sl_transport_tls t = client("old.pem", "good.key", NULL);
    findings f = check(&t);
    CHECK(f.errors == 1);
    CHECK_CONTAINS(f.text, "E client_cert: ");
    CHECK_CONTAINS(f.text, "old.pem\": the certificate (CN=old client) has "
                           "expired: valid until ");
    t = client("future.pem", "good.key", NULL);
    f = check(&t);
    CHECK(f.errors == 1);
    CHECK_CONTAINS(f.text, "(CN=future client) is not valid yet: valid "
                           "from ");
    t = client("soon.pem", "good.key", NULL);
    f = check(&t);
    CHECK(f.errors == 0 && f.warnings == 1);
    CHECK_CONTAINS(f.text, "W client_cert: ");
    CHECK_CONTAINS(f.text, "(CN=soon client) expires in 5 days, on ");
    /* not within 3 days: no warning */
    f.warnings = 0;
    memset(&f, 0, sizeof f);
    CHECK(sl_tls_files_check(&t, now, 3, collect, &f) == 0);
    CHECK(f.warnings == 0);
    /* one expired CA among valid ones cannot fail a handshake: a
     * warning that names it */
    t = ca("bad-bundle.pem");
    f = check(&t);
    CHECK(f.errors == 0 && f.warnings == 1);
    CHECK_CONTAINS(f.text, "W ca_file: ");
    CHECK_CONTAINS(f.text, "1 of its 2 CA certificates have expired or are "
                           "not valid yet and cannot verify anything: 2 "
                           "(CN=old client)");
    /* none valid: each one an error */
    t = ca("dead-bundle.pem");
    f = check(&t);
    CHECK(f.errors == 2 && f.warnings == 0);
    CHECK_CONTAINS(f.text, "E ca_file: ");
    CHECK_CONTAINS(f.text, "CA certificate 1 (CN=old client) has expired");
    CHECK_CONTAINS(f.text, "CA certificate 2 (CN=future client) is not "
                           "valid yet");
    /* an expiring CA is warned of, among valid ones too */
    t = ca("soon-bundle.pem");
    f = check(&t);
    CHECK(f.errors == 0 && f.warnings == 1);
    CHECK_CONTAINS(f.text, "CA certificate 2 (CN=soon client) expires in 5 "
                           "days");
}

/* ---- keys ---------------------------------------------------------------- */

static void test_keys(void)
{
    sl_transport_tls t = client("good.pem", "other.key", NULL);
    findings f = check(&t);
    CHECK(f.errors == 1);
    CHECK_CONTAINS(f.text, "E client_key: the key in \"");
    CHECK_CONTAINS(f.text, "other.key\" does not match the certificate in");
    t = client("good.pem", "good.enc", NULL);
    f = check(&t);
    CHECK(f.errors == 1);
    CHECK_CONTAINS(f.text, "good.enc\" is encrypted: set "
                           "tls.client_key_password");
    t = client("good.pem", "good.enc", "not " PASSWORD);
    f = check(&t);
    CHECK(f.errors == 1);
    CHECK_CONTAINS(f.text, "E client_key_password: cannot decrypt \"");
    CHECK(!strstr(f.text, "not " PASSWORD));
    t = client("good.pem", "good.key", PASSWORD); /* not needed */
    f = check(&t);
    CHECK(f.errors == 0 && f.warnings == 1);
    CHECK_CONTAINS(f.text, "is not encrypted; the password is not needed");
    t = client("good.pem", NULL, NULL); /* no key anywhere */
    f = check(&t);
    CHECK(f.errors == 1);
    CHECK_CONTAINS(f.text, "holds no PRIVATE KEY block; set "
                           "tls.client_key");
    t = client("good.pem", "good.pem", NULL); /* a certificate as the key */
    f = check(&t);
    CHECK(f.errors == 1);
    CHECK_CONTAINS(f.text, "E client_key: ");
    CHECK_CONTAINS(f.text, "holds no PRIVATE KEY block");
    t = client("good.key", "good.key", NULL); /* a key as the cert */
    f = check(&t);
    CHECK(f.errors == 1);
    CHECK_CONTAINS(f.text, "E client_cert: ");
    CHECK_CONTAINS(f.text, "is PEM, but holds no CERTIFICATE block");
}

/* ---- hostile and broken files ------------------------------------------- */

/* The one error the CA file `name` gets, containing `want`. */
static void one_ca_error(const char *name, const char *want)
{
    sl_transport_tls t = ca(name);
    findings f = check(&t);
    if (f.errors != 1 || !strstr(f.text, want))
        fprintf(stderr, "%s: %s", name, f.text);
    CHECK(f.errors == 1 && f.warnings == 0);
    CHECK_CONTAINS(f.text, "E ca_file: ");
    CHECK_CONTAINS(f.text, name); /* the file is named */
    CHECK_CONTAINS(f.text, want);
    /* and as a client certificate and key, an error each, no crash */
    t = client(name, name, PASSWORD);
    f = check(&t);
    CHECK(f.errors >= 1);
}

static void test_missing_and_unreadable(void)
{
    one_ca_error("nope.pem", "cannot open \"");
    CHECK_CONTAINS(path_of("x"), dir);
    mkdir(path_of("adir"), 0700);
    one_ca_error("adir", "Is a directory");
    sl_test_put_file(path_of("empty.pem"), "", 0);
    one_ca_error("empty.pem", "is not PEM");
    /* a FIFO without a writer: refused unread, not waited on for ever */
    one_ca_error("fifo", "fifo\" is not a regular file");
    sl_transport_tls t = {0};
    t.ca_path = path_of("nodir");
    findings f = check(&t);
    CHECK(f.errors == 1);
    CHECK_CONTAINS(f.text, "E ca_path: cannot open directory \"");
    CHECK_CONTAINS(f.text, "No such file or directory");
    if (geteuid() != 0) { /* root reads anything */
        sl_test_put_file(path_of("locked.pem"), "x", 1);
        chmod(path_of("locked.pem"), 0);
        one_ca_error("locked.pem", "Permission denied");
    }
}

static void test_garbage(void)
{
    unsigned char junk[4096];
    srand(12);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)rand();
    sl_test_put_file(path_of("junk.pem"), junk, sizeof junk);
    one_ca_error("junk.pem", "is not PEM");
    /* 10 MiB: refused by size before any parsing */
    size_t big = (size_t)10 << 20;
    char *huge = malloc(big);
    CHECK(huge != NULL);
    if (!huge)
        return;
    for (size_t i = 0; i < big; i++)
        huge[i] = (char)('A' + i % 26);
    memcpy(huge, "-----BEGIN CERTIFICATE-----\n", 28);
    sl_test_put_file(path_of("huge.pem"), huge, big);
    one_ca_error("huge.pem", "is larger than 4 MiB");
    /* 3 MiB of one base64 line inside a certificate block */
    size_t line = (size_t)3 << 20;
    memcpy(huge + line - 26, "\n-----END CERTIFICATE-----\n", 27);
    sl_test_put_file(path_of("longline.pem"), huge, line + 1);
    one_ca_error("longline.pem", "certificate 1 is malformed PEM");
    /* thousands of BEGIN lines, none ended */
    size_t n = 0;
    while (n + 28 < line) {
        memcpy(huge + n, "-----BEGIN CERTIFICATE-----\n", 28);
        n += 28;
    }
    sl_test_put_file(path_of("begins.pem"), huge, n);
    one_ca_error("begins.pem", "malformed PEM");
    free(huge);
}

static void test_broken_pem(void)
{
    size_t len = 0;
    char *pem = slurp("good.pem", &len);
    CHECK(len > 200);
    /* cut in half: no END line */
    sl_test_put_file(path_of("half.pem"), pem, len / 2);
    one_ca_error("half.pem", "certificate 1 is malformed PEM");
    /* the END line gone */
    sl_test_put_file(path_of("noend.pem"), pem, len - 26);
    one_ca_error("noend.pem", "malformed PEM");
    /* valid base64, not a certificate */
    static const char notder[] = "-----BEGIN CERTIFICATE-----\n"
                                 "aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IERFUg==\n"
                                 "-----END CERTIFICATE-----\n";
    sl_test_put_file(path_of("notder.pem"), notder, sizeof notder - 1);
    one_ca_error("notder.pem", "malformed PEM");
    /* not base64 at all */
    static const char notb64[] = "-----BEGIN CERTIFICATE-----\n"
                                 "!!!! $$$$ ####\n"
                                 "-----END CERTIFICATE-----\n";
    sl_test_put_file(path_of("notb64.pem"), notb64, sizeof notb64 - 1);
    one_ca_error("notb64.pem", "malformed PEM");
    /* a NUL byte in the middle of the base64 */
    char *nul = malloc(len);
    memcpy(nul, pem, len);
    nul[100] = '\0';
    sl_test_put_file(path_of("nul.pem"), nul, len);
    one_ca_error("nul.pem", "malformed PEM");
    /* a good certificate, then a broken one: which one is said */
    char *two = malloc(len * 2);
    memcpy(two, pem, len);
    memcpy(two + len, pem, len);
    two[len + 120] = '*';
    sl_test_put_file(path_of("second.pem"), two, len * 2);
    one_ca_error("second.pem", "certificate 2 is malformed PEM");
    free(two);
    free(nul);
    /* a truncated key */
    char *key = slurp("good.key", &len);
    sl_test_put_file(path_of("halfkey.pem"), key, len / 2);
    sl_transport_tls t = client("good.pem", "halfkey.pem", NULL);
    findings f = check(&t);
    CHECK(f.errors == 1);
    CHECK_CONTAINS(f.text, "E client_key: ");
    CHECK_CONTAINS(f.text, "halfkey.pem");
    free(key);
    free(pem);
}

int main(void)
{
    sl_test_dir_fresh(dir, sizeof dir, "tls-files");
    now = time(NULL);
    make_fixtures();
    static const sl_test_case cases[] = {
        {"good_files", test_good_files},
        {"info", test_info},
        {"dates", test_dates},
        {"keys", test_keys},
        {"missing_and_unreadable", test_missing_and_unreadable},
        {"garbage", test_garbage},
        {"broken_pem", test_broken_pem},
        {NULL, NULL}};
    int rc = sl_test_run(cases);
    sl_test_rm_rf(dir);
    return rc;
}
