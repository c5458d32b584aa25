"""A private PKI for the TLS tests, made with Debian's openssl command.

    pki = Pki(tmpdir)                      # a root CA ("ca")
    srv = pki.server("srv")                # 127.0.0.1 and localhost
    bad = pki.server("old", days=-1)       # expired yesterday
    cli = pki.client("cli")                # a client certificate
    other = Pki(tmpdir2, name="other")     # a CA nobody trusts

Every certificate is a `Cert` with .cert, .key (PEM paths) and .ca (the
issuing CA's certificate path). `days` may be negative (already expired)
and `start_days` positive (not yet valid): openssl x509 -days/-not_before
cannot go back in time, so those are signed with `openssl ca`, whose
-startdate/-enddate take any date.
"""

import datetime
import os
import ssl
import subprocess


def _run(*args, cwd=None):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stamp(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        days=days)
    return t.strftime("%Y%m%d%H%M%SZ")


class Cert:
    def __init__(self, cert, key, ca):
        self.cert, self.key, self.ca = cert, key, ca

    def server_context(self, client_ca=None):
        """An ssl.SSLContext serving this certificate; with client_ca the
        peer must present a certificate that CA signed."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        if client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(client_ca)
        return ctx


class Pki:
    def __init__(self, directory, name="ca"):
        self.dir = os.path.abspath(os.path.join(directory, name))
        os.makedirs(self.dir, exist_ok=True)
        self.name = name
        self.cert = os.path.join(self.dir, "ca.pem")
        self.key = os.path.join(self.dir, "ca.key")
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", self.key,
             "-out", self.cert, "-days", "30", "-subj",
             "/CN=sluice test CA %s" % name,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        with open(os.path.join(self.dir, "index.txt"), "w"):
            pass
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(self.dir, "ca.cnf"), "w") as f:
            f.write(_CA_CNF)

    def _issue(self, stem, subj, ext, days, start_days, key_password=None):
        start_days = min(start_days, days - 1)
        key = os.path.join(self.dir, stem + ".key")
        csr = os.path.join(self.dir, stem + ".csr")
        cert = os.path.join(self.dir, stem + ".pem")
        extf = os.path.join(self.dir, stem + ".ext")
        with open(extf, "w") as f:
            f.write(ext)
        _run("req", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
             "-out", csr, "-subj", subj)
        _run("ca", "-batch", "-config", "ca.cnf", "-notext", "-in", csr,
             "-out", cert, "-startdate", _stamp(start_days), "-enddate",
             _stamp(days), "-extfile", extf, cwd=self.dir)
        if key_password is not None:
            enc = key + ".enc"
            _run("pkey", "-in", key, "-out", enc, "-aes256", "-passout",
                 "pass:" + key_password)
            os.replace(enc, key)
        return Cert(cert, key, self.cert)

    def server(self, stem, names=("127.0.0.1", "localhost"), days=7,
               start_days=-1):
        """A server certificate for `names` (IP addresses and DNS names)."""
        alt = ",".join(("IP:" if n.replace(".", "").isdigit() else "DNS:") + n
                       for n in names)
        ext = ("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
               "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n" % alt)
        return self._issue(stem, "/CN=%s" % names[0], ext, days, start_days)

    def client(self, stem, cn="sluice client", days=7, start_days=-1,
               key_password=None):
        """A client certificate (extendedKeyUsage clientAuth)."""
        ext = ("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
               "extendedKeyUsage=clientAuth\n")
        return self._issue(stem, "/CN=%s" % cn, ext, days, start_days,
                           key_password)


_CA_CNF = """[ca]
default_ca = own
[own]
dir = .
database = index.txt
serial = serial
new_certs_dir = .
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
"""
