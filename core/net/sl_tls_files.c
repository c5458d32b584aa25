/* sl_tls_files: a connector's TLS files read with OpenSSL before curl
 * needs them, each problem reported with its cause. */
#include "sl_tls_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sl_fs.h"

#define DAY_S 86400L

typedef struct checker {
    sl_tls_files_report_fn report;
    void *ud;
    int errors;
} checker;

static void say(checker *ck, sl_tls_files_level level, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void say(checker *ck, sl_tls_files_level level, const char *key,
                const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (level == SL_TLS_FILES_ERROR)
        ck->errors++;
    ck->report(ck->ud, level, key, msg);
}

/* OpenSSL's reason for the last failure, for a message. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown error";
}

/* The bytes of the file at path (NUL-terminated, caller frees), or NULL
 * with the reason, naming the file, in why. Anything but a regular file
 * or a directory (whose read says why) is refused unread: a FIFO would
 * block `sluice check` for ever. */
static char *read_text(const char *path, size_t *len, char *why, size_t n)
{
    struct stat st;
    char *buf = NULL;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
        !S_ISDIR(st.st_mode)) {
        snprintf(why, n, "\"%s\" is not a regular file", path);
        return NULL;
    }
    switch (sl_fs_read_file(path, SL_TLS_FILES_MAX_BYTES, &buf, len)) {
    case SL_FS_OK:
        return buf;
    case SL_FS_OPEN:
        snprintf(why, n, "cannot open \"%s\": %s", path, strerror(errno));
        break;
    case SL_FS_TOOBIG:
        snprintf(why, n, "\"%s\" is larger than %zu MiB: not a PEM file of "
                 "certificates or keys", path, SL_TLS_FILES_MAX_BYTES >> 20);
        break;
    case SL_FS_NOMEM:
        snprintf(why, n, "\"%s\": out of memory", path);
        break;
    default:
        snprintf(why, n, "cannot read \"%s\": %s", path, strerror(errno));
        break;
    }
    return NULL;
}

/* read_text, its failure reported. */
static char *read_pem(checker *ck, const char *key, const char *path,
                      size_t *len)
{
    char why[640];
    char *buf = read_text(path, len, why, sizeof why);
    if (!buf)
        say(ck, SL_TLS_FILES_ERROR, key, "%s", why);
    return buf;
}

/* t as a time, or -1 when it cannot be read. */
static time_t time_of(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return (time_t)-1;
    return timegm(&tm);
}

sl_tls_files_expiry sl_tls_files_expiry_at(time_t expires, time_t now,
                                           int warn_days)
{
    if (expires <= now)
        return SL_TLS_FILES_EXPIRED;
    if (warn_days > 0 && expires - now <= (time_t)warn_days * DAY_S)
        return SL_TLS_FILES_EXPIRING;
    return SL_TLS_FILES_VALID;
}

static void utc_text(const ASN1_TIME *t, char *out, size_t n)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1 ||
        strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(out, n, "(unreadable date)");
}

static void subject_text(X509 *x, char *out, size_t n)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long len = 0;
    out[0] = '\0';
    if (b && X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
                                XN_FLAG_RFC2253) >= 0)
        len = BIO_get_mem_data(b, &p);
    if (len <= 0 || !p) {
        snprintf(out, n, "(no subject)");
    } else {
        size_t k = (size_t)len < n - 1 ? (size_t)len : n - 1;
        for (size_t i = 0; i < k; i++)
            out[i] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i];
        out[k] = '\0';
    }
    BIO_free(b);
}

/* Every certificate in buf, in order (NULL out of memory); *bad set when
 * a block would not parse (the ERR queue says why) or memory ran out. */
static STACK_OF(X509) *read_certs(const char *buf, size_t len, int *bad)
{
    STACK_OF(X509) *all = sk_X509_new_null();
    BIO *b = BIO_new_mem_buf(buf, (int)len);
    X509 *x;
    *bad = 0;
    if (!all || !b) {
        sk_X509_free(all);
        BIO_free(b);
        *bad = 1;
        return NULL;
    }
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
        if (!sk_X509_push(all, x)) {
            X509_free(x);
            *bad = 1;
            break;
        }
    unsigned long e = ERR_peek_last_error();
    /* the end of the file is "no start line"; anything else is a block
     * that would not parse */
    if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
               ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
        *bad = 1;
    else
        ERR_clear_error();
    BIO_free(b);
    return all;
}

/* What a PEM file that gave no certificate holds instead. */
static const char *not_certs(const char *buf)
{
    if (!strstr(buf, "-----BEGIN "))
        return "not PEM (no \"-----BEGIN\" line; a DER file can be "
               "converted with openssl x509 -inform der)";
    if (!strstr(buf, "-----BEGIN CERTIFICATE-----"))
        return "PEM, but holds no CERTIFICATE block";
    return NULL;
}

/* One certificate's dates against now: expired or not yet valid is an
 * error, expiring within warn_days a warning. */
static void check_dates(checker *ck, const char *key, const char *path,
                        X509 *x, const char *which, time_t now,
                        int warn_days)
{
    char subj[256], when[40];
    const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
    subject_text(x, subj, sizeof subj);
    if (X509_cmp_time(nb, &now) > 0) {
        utc_text(nb, when, sizeof when);
        say(ck, SL_TLS_FILES_ERROR, key, "\"%s\": %s (%s) is not valid "
            "yet: valid from %s", path, which, subj, when);
        return;
    }
    time_t end = time_of(na);
    if (end == (time_t)-1) {
        say(ck, SL_TLS_FILES_ERROR, key, "\"%s\": %s (%s): its expiry date "
            "cannot be read", path, which, subj);
        return;
    }
    utc_text(na, when, sizeof when);
    switch (sl_tls_files_expiry_at(end, now, warn_days)) {
    case SL_TLS_FILES_EXPIRED:
        say(ck, SL_TLS_FILES_ERROR, key, "\"%s\": %s (%s) has expired: "
            "valid until %s", path, which, subj, when);
        break;
    case SL_TLS_FILES_EXPIRING: {
        long days = (long)((end - now) / DAY_S);
        say(ck, SL_TLS_FILES_WARNING, key, "\"%s\": %s (%s) expires in %ld "
            "day%s, on %s", path, which, subj, days, days == 1 ? "" : "s",
            when);
        break;
    }
    default:
        break;
    }
}

/* Read the certificates at path (key names the tls key); NULL reported
 * when there is none or the file is broken. */
static STACK_OF(X509) *load_certs(checker *ck, const char *key,
                                  const char *path, char **text, size_t *len)
{
    int bad = 0;
    *text = read_pem(ck, key, path, len);
    if (!*text)
        return NULL;
    STACK_OF(X509) *all = read_certs(*text, *len, &bad);
    if (!bad && all && sk_X509_num(all) > 0)
        return all;
    const char *why = not_certs(*text);
    if (why)
        say(ck, SL_TLS_FILES_ERROR, key, "\"%s\" is %s", path, why);
    else
        say(ck, SL_TLS_FILES_ERROR, key, "\"%s\": certificate %d is "
            "malformed PEM: %s", path, all ? sk_X509_num(all) + 1 : 1,
            ssl_reason());
    ERR_clear_error();
    sk_X509_pop_free(all, X509_free);
    return NULL;
}

/* Whether x is valid at now. */
static int valid_at(X509 *x, time_t now)
{
    return X509_cmp_time(X509_get0_notBefore(x), &now) < 0 &&
           X509_cmp_time(X509_get0_notAfter(x), &now) > 0;
}

/* A CA bundle: when no certificate in it is valid, each one's dates are
 * an error (nothing can be verified). When some are, the others cannot
 * make a handshake fail (verification skips them; Debian's own bundle
 * carries expired roots), so they are one warning that lists them. */
static void check_ca_file(checker *ck, const char *path, time_t now,
                          int warn_days)
{
    char *text = NULL, which[48], subj[256], list[512] = "";
    size_t len = 0, nlist = 0;
    STACK_OF(X509) *all = load_certs(ck, "ca_file", path, &text, &len);
    int n = all ? sk_X509_num(all) : 0, valid = 0, invalid = 0;
    for (int i = 0; i < n; i++)
        valid += valid_at(sk_X509_value(all, i), now);
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(all, i);
        snprintf(which, sizeof which, "CA certificate %d", i + 1);
        if (valid == 0 || valid_at(x, now)) {
            check_dates(ck, "ca_file", path, x, which, now, warn_days);
            continue;
        }
        if (invalid++ < 3) {
            subject_text(x, subj, sizeof subj);
            nlist += (size_t)snprintf(list + nlist, nlist < sizeof list
                                                        ? sizeof list - nlist
                                                        : 0,
                                      "%s%d (%.100s)", invalid > 1 ? ", " : "",
                                      i + 1, subj);
        }
    }
    if (invalid)
        say(ck, SL_TLS_FILES_WARNING, "ca_file", "\"%s\": %d of its %d CA "
            "certificates have expired or are not valid yet and cannot "
            "verify anything: %s%s", path, invalid, n, list,
            invalid > 3 ? ", ..." : "");
    sk_X509_pop_free(all, X509_free);
    free(text);
}

static void check_ca_path(checker *ck, const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        say(ck, SL_TLS_FILES_ERROR, "ca_path", "cannot open directory "
            "\"%s\": %s", path, strerror(errno));
        return;
    }
    closedir(d);
}

typedef struct password {
    const char *text; /* NULL: none configured */
    int asked;        /* the key is encrypted: OpenSSL asked for it */
} password;

/* pem_password_cb: the configured password, never a prompt. */
static int give_password(char *buf, int size, int rwflag, void *u)
{
    password *pw = u;
    (void)rwflag;
    pw->asked = 1;
    if (!pw->text)
        return -1;
    size_t n = strlen(pw->text);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pw->text, n);
    return (int)n;
}

/* The private key at path (the key file, or client_cert when there is
 * none), or NULL reported. */
static EVP_PKEY *load_key(checker *ck, const char *key, const char *path,
                          const char *pass)
{
    size_t len = 0;
    char *text = read_pem(ck, key, path, &len);
    if (!text)
        return NULL;
    password pw = {pass, 0};
    BIO *b = BIO_new_mem_buf(text, (int)len);
    ERR_clear_error();
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, give_password, &pw)
                    : NULL;
    BIO_free(b);
    if (!k) {
        if (!strstr(text, "-----BEGIN "))
            say(ck, SL_TLS_FILES_ERROR, key, "\"%s\" is not PEM (no "
                "\"-----BEGIN\" line)", path);
        else if (!strstr(text, "PRIVATE KEY-----"))
            say(ck, SL_TLS_FILES_ERROR, key, "\"%s\" holds no PRIVATE KEY "
                "block%s", path, strcmp(key, "client_cert") == 0
                                    ? "; set tls.client_key to the key's "
                                      "file" : "");
        else if (pw.asked && !pass)
            say(ck, SL_TLS_FILES_ERROR, key, "\"%s\" is encrypted: set "
                "tls.client_key_password", path);
        else if (pw.asked)
            say(ck, SL_TLS_FILES_ERROR, "client_key_password", "cannot "
                "decrypt \"%s\" with tls.client_key_password (wrong "
                "password?): %s", path, ssl_reason());
        else
            say(ck, SL_TLS_FILES_ERROR, key, "\"%s\": malformed private "
                "key: %s", path, ssl_reason());
        ERR_clear_error();
    } else if (pass && !pw.asked) {
        say(ck, SL_TLS_FILES_WARNING, "client_key_password", "\"%s\" is "
            "not encrypted; the password is not needed", path);
    }
    OPENSSL_cleanse(text, len); /* a key, maybe unencrypted */
    free(text);
    return k;
}

static void check_client(checker *ck, const sl_transport_tls *tls,
                         time_t now, int warn_days)
{
    char *text = NULL;
    size_t len = 0;
    STACK_OF(X509) *all =
        load_certs(ck, "client_cert", tls->client_cert, &text, &len);
    if (text) /* it may hold the key too */
        OPENSSL_cleanse(text, len);
    free(text);
    X509 *leaf = all ? sk_X509_value(all, 0) : NULL;
    if (leaf)
        check_dates(ck, "client_cert", tls->client_cert, leaf,
                    "the certificate", now, warn_days);
    const char *kpath = tls->client_key ? tls->client_key : tls->client_cert;
    const char *kkey = tls->client_key ? "client_key" : "client_cert";
    EVP_PKEY *k = load_key(ck, kkey, kpath, tls->key_password);
    if (leaf && k) {
        ERR_clear_error();
        if (X509_check_private_key(leaf, k) != 1)
            say(ck, SL_TLS_FILES_ERROR, kkey, "the key in \"%s\" does not "
                "match the certificate in \"%s\" (%s)", kpath,
                tls->client_cert, ssl_reason());
        ERR_clear_error();
    }
    EVP_PKEY_free(k);
    sk_X509_pop_free(all, X509_free);
}

int sl_tls_files_check(const sl_transport_tls *tls, time_t now,
                       int warn_days, sl_tls_files_report_fn report,
                       void *ud)
{
    checker ck = {report, ud, 0};
    if (tls->ca_file)
        check_ca_file(&ck, tls->ca_file, now, warn_days);
    if (tls->ca_path)
        check_ca_path(&ck, tls->ca_path);
    if (tls->client_cert)
        check_client(&ck, tls, now, warn_days);
    return ck.errors;
}

int sl_tls_files_info_of(const char *path, sl_tls_files_info *info,
                         char *err, size_t errlen)
{
    size_t len = 0;
    int bad = 0;
    char why[640];
    memset(info, 0, sizeof *info);
    char *text = read_text(path, &len, why, sizeof why);
    if (!text) {
        if (err)
            snprintf(err, errlen, "%s", why);
        return -1;
    }
    STACK_OF(X509) *all = read_certs(text, len, &bad);
    int rc = -1;
    if (all && sk_X509_num(all) > 0) {
        X509 *x = sk_X509_value(all, 0);
        info->ncerts = (size_t)sk_X509_num(all);
        subject_text(x, info->subject, sizeof info->subject);
        utc_text(X509_get0_notAfter(x), info->not_after,
                 sizeof info->not_after);
        info->expires = time_of(X509_get0_notAfter(x));
        rc = 0;
    } else if (err) {
        const char *what = not_certs(text);
        snprintf(err, errlen, "\"%s\" is %s", path,
                 what ? what : "malformed PEM");
    }
    ERR_clear_error();
    OPENSSL_cleanse(text, len); /* a client_cert may hold its key too */
    free(text);
    sk_X509_pop_free(all, X509_free);
    return rc;
}
