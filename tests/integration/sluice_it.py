"""Shared harness for sluice integration tests (Python 3 standard library only).

It starts the REAL `sluice` binary (path in $SLUICE_BIN) with a generated
gateway file and connector files in a temporary directory, and an
independent HTTP destination (`Destination`) on 127.0.0.1 that records every
request it receives.

Environment:
  SLUICE_BIN         path of the sluice binary (ctest sets it)
  SLUICE_SOURCE_DIR  repository root (ctest sets it)
  SLUICE_IT_KEEP=1   keep the temporary directories for inspection

Nothing here sleeps blindly: waits poll a condition with a deadline
(`wait_until`).
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("SLUICE_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(HERE))


def sluice_bin():
    """Path of the sluice binary. Fails the test when $SLUICE_BIN is set but
    unusable; skips it when nothing is configured and no build is found."""
    b = os.environ.get("SLUICE_BIN")
    if b:
        if not (os.path.isfile(b) and os.access(b, os.X_OK)):
            raise AssertionError("SLUICE_BIN=%r is not an executable file" % b)
        return b
    for d in ("build", "build-it"):
        cand = os.path.join(SOURCE_DIR, d, "sluice")
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise unittest.SkipTest("SLUICE_BIN not set and no build/sluice found")


# --------------------------------------------------------------------------
# small utilities

def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_http_response(sock):
    """One HTTP response from a raw socket: (status, head text, body), or
    None if the peer closed before a whole head arrived."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for h in head.split(b"\r\n")[1:]:
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        rest += chunk
    return status, head.decode("latin-1"), rest[:length]


def wait_until(cond, timeout=10.0, interval=0.02, msg=None):
    """Poll `cond()` until it returns a truthy value (returned) or the
    deadline passes (AssertionError with `msg` and the last value)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = cond()
        if last:
            return last
        if time.monotonic() >= deadline:
            m = msg() if callable(msg) else msg
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                                 % (timeout, m or getattr(cond, "__name__", "condition"),
                                    last))
        time.sleep(interval)


def compact(obj):
    """Compact JSON bytes, as sluice sends them (for values Python can
    represent identically)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def split_json_array(data):
    """Split the bytes of a JSON array into the raw bytes of its elements
    (exactly as they appear in the body)."""
    text = data.decode("utf-8")
    dec = json.JSONDecoder()
    i = 0
    n = len(text)

    def ws(i):
        while i < n and text[i] in " \t\r\n":
            i += 1
        return i

    i = ws(i)
    if i >= n or text[i] != "[":
        raise ValueError("not a JSON array: %r" % data[:80])
    i = ws(i + 1)
    out = []
    if i < n and text[i] == "]":
        return out
    while True:
        _, j = dec.raw_decode(text, i)
        out.append(text[i:j].encode("utf-8"))
        i = ws(j)
        if i < n and text[i] == ",":
            i = ws(i + 1)
            continue
        if i < n and text[i] == "]":
            return out
        raise ValueError("bad JSON array at %d: %r" % (i, data[:80]))


class CIDict(dict):
    """A dict of headers with case-insensitive lookup (keys kept as sent;
    a repeated header keeps its values joined by ', ')."""

    def __init__(self, items=()):
        super().__init__()
        self._lower = {}
        for k, v in items:
            lk = k.lower()
            if lk in self._lower:
                orig = self._lower[lk]
                dict.__setitem__(self, orig, dict.__getitem__(self, orig) + ", " + v)
            else:
                self._lower[lk] = k
                dict.__setitem__(self, k, v)

    def _key(self, k):
        return self._lower.get(k.lower(), k)

    def __getitem__(self, k):
        return dict.__getitem__(self, self._key(k))

    def __contains__(self, k):
        return k.lower() in self._lower

    def get(self, k, default=None):
        return dict.get(self, self._key(k), default)


def media_type(ct):
    """'application/json; charset=utf-8' -> 'application/json'."""
    return (ct or "").split(";")[0].strip().lower()


# --------------------------------------------------------------------------
# the destination

class Request:
    """One request the destination received."""

    __slots__ = ("index", "method", "path", "headers", "body", "time", "chunked",
                 "conn_id", "status", "has_content_length")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    @property
    def content_type(self):
        return media_type(self.headers.get("Content-Type"))

    def raw_records(self):
        """The raw bytes of each record in the body, by the body form."""
        if self.content_type == "application/x-ndjson":
            if not self.body:
                return []
            lines = self.body.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            return lines
        stripped = self.body.lstrip()
        if stripped.startswith(b"["):
            return split_json_array(self.body)
        return [self.body]

    def records(self):
        return [json.loads(r) for r in self.raw_records()]

    def __repr__(self):
        body = self.body if len(self.body) <= 200 else self.body[:200] + b"..."
        return ("<Request #%d %s %s status=%s conn=%s chunked=%s body=%r>"
                % (self.index, self.method, self.path, self.status, self.conn_id,
                   self.chunked, body))


class _DestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sluice-it-destination/1"

    def setup(self):
        ctx = self.server.dest.tls
        if ctx is not None:
            # the handshake runs in this connection's thread; a failed one
            # is counted and ends the connection (BaseServer swallows it)
            try:
                self.request = ctx.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.server.dest._handshake_failed(e)
                raise
        super().setup()
        self.conn_id = self.server.dest._opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.dest._closed(self.connection)

    def log_message(self, fmt, *args):  # quiet
        pass

    def _read_chunked(self):
        out = bytearray()
        while True:
            line = self.rfile.readline(65537)
            if not line:
                break
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers
                    t = self.rfile.readline(65537)
                    if t in (b"\r\n", b"\n", b""):
                        break
                break
            out += self.rfile.read(size)
            self.rfile.readline(65537)
        return bytes(out)

    def _read_request(self, cls):
        """The request as an instance of `cls` (a Request), body read
        (Content-Length or chunked)."""
        headers = CIDict(self.headers.items())
        te = headers.get("Transfer-Encoding", "") or ""
        chunked = "chunked" in te.lower()
        cl = headers.get("Content-Length")
        if chunked:
            body = self._read_chunked()
        elif cl is not None:
            n = int(cl)
            body = self.rfile.read(n) if n > 0 else b""
        else:
            body = b""
        return cls(method=self.command, path=self.path, headers=headers,
                   body=body, time=time.monotonic(), chunked=chunked,
                   conn_id=self.conn_id, has_content_length=cl is not None)

    def _handle(self):
        dest = self.server.dest
        req = self._read_request(Request)
        status = dest._answer(req)
        payload = json.dumps({"ok": 200 <= status < 300}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = _handle


class _DestServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # failed TLS handshakes are expected by the TLS tests (and counted
        # in Destination.handshake_errors): no traceback for them
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            return
        super().handle_error(request, client_address)


class Destination:
    """An HTTP server on 127.0.0.1 that records every request and answers
    with a programmable status.

    status:  `script` -- a list of statuses for the first requests, in
             arrival order (e.g. [500]*5: the first five get 500), then
             `default` (200); or `func(index, request) -> status`.
    """

    def __init__(self, port=None, script=None, func=None, default=200,
                 delay=0.0, tls=None):
        self.port = port or free_port()
        # an ssl.SSLContext (server side) makes this an HTTPS destination;
        # it may be replaced while running (each new connection uses the
        # current one), e.g. to fix a certificate
        self.tls = tls
        self.handshake_errors = []
        self.script = list(script or [])
        self.func = func
        self.default = default
        self.delay = delay
        self._lock = threading.Lock()
        self._requests = []
        self._conns = {}
        self._conn_seq = 0
        self._conns_used = set()
        self._server = None
        self._thread = None

    # lifecycle
    def start(self):
        self._server = _DestServer(("127.0.0.1", self.port), _DestHandler)
        self._server.dest = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            socks = list(self._conns.values())
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server = None

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http",
                                       self.port)

    def _handshake_failed(self, err):
        with self._lock:
            self.handshake_errors.append(str(err))

    # handler callbacks
    def _opened(self, sock):
        with self._lock:
            self._conn_seq += 1
            self._conns[self._conn_seq] = sock
            return self._conn_seq

    def _closed(self, sock):
        with self._lock:
            for k, v in list(self._conns.items()):
                if v is sock:
                    del self._conns[k]

    def _answer(self, req):
        with self._lock:
            req.index = len(self._requests)
        if self.func is not None:
            status = self.func(req.index, req)
        elif req.index < len(self.script):
            status = self.script[req.index]
        else:
            status = self.default
        if self.delay:
            time.sleep(self.delay)
        req.status = status
        with self._lock:
            self._requests.append(req)
            self._conns_used.add(req.conn_id)
        return status

    # inspection
    def requests(self, ok_only=False):
        with self._lock:
            reqs = list(self._requests)
        reqs.sort(key=lambda r: r.index)
        return [r for r in reqs if r.ok] if ok_only else reqs

    def ok_requests(self):
        return self.requests(ok_only=True)

    def records(self, ok_only=True):
        """Every record received (decoded by the body form: array -> its
        elements, object -> the object, ndjson -> the lines), in arrival
        order; by default only from requests answered 2xx."""
        out = []
        for r in self.requests(ok_only=ok_only):
            out.extend(r.records())
        return out

    def raw_records(self, ok_only=True):
        out = []
        for r in self.requests(ok_only=ok_only):
            out.extend(r.raw_records())
        return out

    def connection_count(self):
        """Distinct client connections that carried at least one request."""
        with self._lock:
            return len(self._conns_used)

    def wait_requests(self, n, timeout=10.0, ok_only=False):
        wait_until(lambda: len(self.requests(ok_only)) >= n, timeout,
                   msg=lambda: "%d requests at the destination (have %d)"
                   % (n, len(self.requests(ok_only))))
        return self.requests(ok_only)

    def wait_records(self, n, timeout=10.0):
        wait_until(lambda: len(self.records()) >= n, timeout,
                   msg=lambda: "%d records at the destination (have %d)"
                   % (n, len(self.records())))
        return self.records()

    def summary(self, limit=20):
        reqs = self.requests()
        lines = ["destination %s: %d requests over %d connections"
                 % (self.url, len(reqs), self.connection_count())]
        for r in reqs[-limit:]:
            lines.append("  " + repr(r))
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Lua rendering

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def lua_str(s):
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 32:
            out.append("\\%03d" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class LuaRaw:
    """Lua source inserted verbatim by `lua()`."""

    def __init__(self, src):
        self.src = src


def lua(v):
    """Render a Python value as a Lua expression."""
    if isinstance(v, LuaRaw):
        return v.src
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return lua_str(v)
    if isinstance(v, dict):
        parts = []
        for k, x in v.items():
            key = k if _IDENT.match(k) else "[%s]" % lua_str(k)
            parts.append("%s = %s" % (key, lua(x)))
        return "{ " + ", ".join(parts) + " }"
    if isinstance(v, (list, tuple)):
        return "{ " + ", ".join(lua(x) for x in v) + " }"
    raise TypeError("cannot render %r as Lua" % (v,))


def token_fetch_headers_fn(url):
    """A headers_fn (as LuaRaw) that fetches an OAuth2-style token from
    `url` with sluice.http.request before each request, as a connector
    would, and sends the answer's status as X-Token-Status (an error when
    the fetch fails)."""
    return LuaRaw("""function(req)
    local r, err = sluice.http.request {
      method = "POST", url = %s, body = "grant_type=client_credentials",
      headers = { ["Content-Type"] = "application/x-www-form-urlencoded" },
    }
    if not r then error("token fetch: " .. tostring(err)) end
    return { ["X-Token-Status"] = tostring(r.status) }
  end""" % lua_str(url))


# The schema most tests use (the one from the spec).
CRM_SCHEMA = [
    {"name": "id", "type": "integer"},
    {"name": "email", "type": "string"},
    {"name": "amount", "type": "number", "nullable": True},
    {"name": "active", "type": "boolean"},
    {"name": "day", "type": "date"},
    {"name": "at", "type": "datetime"},
]


def connector_lua(name, url, schema=None, method="POST", headers=None,
                  unknown_fields=None, body="array", batch=None,
                  timeout_ms=5000, concurrency=4, retry=None, extra=None):
    """Lua source of a connector file, one top-level key per line. Test
    defaults keep delays short (max_delay_ms 50, retry base 20 ms)."""
    b = {"max_records": 500, "max_bytes": 1048576, "max_delay_ms": 50}
    b.update(batch or {})
    r = {"base_ms": 20, "max_ms": 500}
    r.update(retry or {})
    keys = [("name", name), ("url", url), ("method", method)]
    if headers is not None:
        keys.append(("headers", headers))
    keys.append(("schema", LuaRaw("{\n" + "".join(
        "    %s,\n" % lua(f) for f in (schema or CRM_SCHEMA)) + "  }")))
    if unknown_fields is not None:
        keys.append(("unknown_fields", unknown_fields))
    keys += [("body", body), ("batch", b), ("timeout_ms", timeout_ms),
             ("concurrency", concurrency), ("retry", r)]
    for k, v in (extra or {}).items():
        keys.append((k, v))
    lines = ["return {"]
    for k, v in keys:
        lines.append("  %s = %s," % (k, lua(v)))
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# the gateway under test

class Sluice:
    """The real sluice binary with generated configuration in a tempdir.

    connectors: {file_stem: lua_source} written to <tmp>/connectors/*.lua
    gateway_extra: Lua source of extra gateway keys (e.g.
                   'max_body_bytes = 4096,')
    """

    def __init__(self, connectors=None, gateway_extra="", port=None,
                 env=None):
        self.bin = sluice_bin()
        self.dir = tempfile.mkdtemp(prefix="sluice-it-")
        self.connectors = dict(connectors or {})
        self.gateway_extra = gateway_extra
        self.port = port or free_port()
        self.proc = None
        self.gateway_file = os.path.join(self.dir, "sluice.lua")
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self._out = self._err = None
        self.last_raw = None
        self._written = False
        self.started = False  # answered /healthz
        self.env = dict(env or {})  # added to the process's environment
        self.run_args = []  # after `run -c FILE` (e.g. --log-level debug)
        # an ssl.SSLContext: the intake serves HTTPS (gateway `tls`), and
        # request() (the start's /healthz too) goes over TLS with it
        self.client_tls = None

    # configuration
    def connector_path(self, stem):
        return os.path.join(self.dir, "connectors", stem + ".lua")

    def write(self):
        os.makedirs(os.path.join(self.dir, "connectors"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "var"), exist_ok=True)
        for stem, src in self.connectors.items():
            with open(self.connector_path(stem), "w") as f:
                f.write(src)
        with open(self.gateway_file, "w") as f:
            f.write("return {\n"
                    "  listen = %s,\n"
                    "  state_dir = %s,\n"
                    "  connectors = { \"connectors/*.lua\" },\n"
                    "%s\n"
                    "}\n" % (lua_str("127.0.0.1:%d" % self.port),
                             lua_str(os.path.join(self.dir, "var")),
                             self.gateway_extra))
        self._written = True

    # process
    def start(self, timeout=10.0):
        if not self._written:
            self.write()
        self._out = open(self.stdout_path, "ab")
        self._err = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [self.bin, "run", "-c", self.gateway_file] + self.run_args,
            cwd=self.dir,
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err,
            env=dict(os.environ, **self.env) if self.env else None)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError(
                    "sluice exited with %s during startup\n--- stderr ---\n%s"
                    % (rc, self.stderr_tail()))
            try:
                st, _, _ = self.request("GET", "/healthz", timeout=1.0)
                if st == 200:
                    self.started = True
                    return self
                last = "status %s" % st
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.02)
        self.stop()
        raise AssertionError("sluice did not answer GET /healthz with 200 within "
                             "%.0fs (last: %s)\n--- stderr ---\n%s"
                             % (timeout, last, self.stderr_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM, wait, then SIGKILL. Returns the exit status."""
        rc = None
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.proc.send_signal(signal.SIGTERM)
                    rc = self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    rc = self.proc.wait(5)
            else:
                rc = self.proc.returncode
        for f in (self._out, self._err):
            if f is not None:
                f.close()
        self._out = self._err = None
        return rc

    def close(self):
        self.stop()
        if not os.environ.get("SLUICE_IT_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def stderr_text(self):
        """Everything sluice has written to stderr so far ("" when
        nothing)."""
        try:
            with open(self.stderr_path, encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stderr_tail(self, lines=40):
        try:
            with open(self.stderr_path, "rb") as f:
                data = f.read()
        except OSError:
            return "(no stderr captured)"
        text = data.decode("utf-8", "replace").splitlines()
        return "\n".join(text[-lines:])

    # HTTP
    def request(self, method, path, body=None, headers=None, timeout=30.0):
        """-> (status, parsed JSON answer or None, headers CIDict). The raw
        answer body is kept in self.last_raw."""
        if self.client_tls is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port,
                                               timeout=timeout,
                                               context=self.client_tls)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                              timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            raw = resp.read()
            hdrs = CIDict(resp.getheaders())
        finally:
            conn.close()
        self.last_raw = raw
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return resp.status, parsed, hdrs

    def post(self, name, body, content_type="application/json", headers=None):
        """POST records to connector `name`. body: bytes, str, or a Python
        object (sent as compact JSON). content_type=None sends none."""
        if isinstance(body, str):
            data = body.encode("utf-8")
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        else:
            data = compact(body)
        h = dict(headers or {})
        if content_type is not None:
            h["Content-Type"] = content_type
        return self.request("POST", "/v1/connectors/%s/records" % name,
                            body=data, headers=h)

    def get(self, path):
        return self.request("GET", path)

    def connector(self, name):
        st, js, _ = self.get("/v1/connectors/%s" % name)
        if st != 200 or not isinstance(js, dict):
            raise AssertionError("GET /v1/connectors/%s -> %s %r"
                                 % (name, st, self.last_raw))
        return js

    def stats(self, name):
        return self.connector(name)["stats"]

    def wait_drained(self, name, delivered, timeout=15.0):
        """Wait until stats say `delivered` records were delivered and
        nothing is queued or in flight; returns the stats."""
        def cond():
            s = self.stats(name)
            if (s.get("delivered") == delivered and s.get("queued") == 0
                    and s.get("in_flight") == 0):
                return s
            return None
        return wait_until(cond, timeout, msg=lambda: "connector %s drained with "
                          "delivered=%d (stats %r)" % (name, delivered,
                                                       self.stats(name)))

    # sluice check
    def check(self, path=None, timeout=20.0):
        """Run `sluice check -c <file>` -> (rc, stdout, stderr)."""
        if path is None:
            if not self._written:
                self.write()
            path = self.gateway_file
        return run_check(path, timeout=timeout, bin=self.bin)


def run_check(path, timeout=20.0, bin=None):
    p = subprocess.run([bin or sluice_bin(), "check", "-c", path],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    fail_on_sanitizer("sluice check", p.stderr)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


# --------------------------------------------------------------------------
# test base class

class SluiceTestCase(unittest.TestCase):
    """Starts destinations and sluices that are always stopped (even when a
    test fails) and prints diagnostics (sluice's stderr tail, the requests the
    destination saw) for a failed test."""

    def _failed(self):
        """Has this test (or one of its subtests) failed so far? Inside a
        cleanup, unittest's outcome flag is reset, so look at the result."""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if getattr(outcome, "success", True) is False:
            return True
        result = getattr(outcome, "result", None)
        if result is not None:
            for t, _ in list(result.failures) + list(result.errors):
                if t is self or getattr(t, "test_case", None) is self:
                    return True
        errors = getattr(outcome, "errors", None)  # Python < 3.11
        if errors:
            return any(exc for _, exc in errors)
        return False

    def _diag(self, what):
        sys.stderr.write("\n===== diagnostics for %s =====\n%s\n"
                         % (self.id(), what))

    def enospc_env(self):
        """(env, flag) for a sluice whose spool writes fail with ENOSPC
        while the file `flag` exists (tests/support/enospc.c, which ctest
        names in SLUICE_ENOSPC_LIB); skips the test without it."""
        lib = os.environ.get("SLUICE_ENOSPC_LIB")
        if not lib:
            self.skipTest("SLUICE_ENOSPC_LIB not set (ctest sets it)")
        tmp = tempfile.mkdtemp(prefix="sluice-enospc-")
        self.addCleanup(shutil.rmtree, tmp, True)
        flag = os.path.join(tmp, "disk-full")
        env = {"LD_PRELOAD": lib, "SLUICE_ENOSPC_FLAG": flag,
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
               ":verify_asan_link_order=0"}
        return env, flag

    def start_destination(self, **kw):
        d = Destination(**kw)
        self.addCleanup(self._finish_destination, d)
        return d.start()

    def _finish_destination(self, d):
        if self._failed():
            self._diag(d.summary())
        d.stop()

    def make_sluice(self, connectors, gateway_extra="", env=None):
        s = Sluice(connectors, gateway_extra, env=env)
        self.addCleanup(self._finish_sluice, s)
        return s

    def start_sluice(self, connectors, gateway_extra="", env=None):
        return self.make_sluice(connectors, gateway_extra, env).start()

    def assert_json_error(self, resp, status, words):
        """resp (read_http_response's) is a JSON error answer of `status`
        whose "error" contains each of `words`."""
        self.assertIsNotNone(resp, "closed without an answer")
        st, head, body = resp
        self.assertEqual(st, status, body)
        self.assertIn("content-type: application/json", head.lower())
        err = json.loads(body)["error"]
        for w in words:
            self.assertIn(w, err)

    def _finish_sluice(self, s):
        crashed = s.started and s.proc.poll() is not None
        rc = s.proc.returncode if crashed else None
        # stop first: a sanitizer report may still be being written when
        # the test ends, and the process only exits once it is whole
        if s.started:
            s.stop()
        report = sanitizer_report(s.stderr_path) if s.started else None
        if self._failed() or crashed or report:
            self._diag("sluice stderr tail (%s):\n%s" % (s.dir, s.stderr_tail()))
        s.close()
        if report:
            raise AssertionError("sluice reported a memory, undefined-"
                                 "behaviour or threading error during the "
                                 "test:\n" + report)
        if crashed:
            raise AssertionError("sluice exited by itself during the test "
                                 "(status %s)" % rc)


# The first line of an AddressSanitizer, LeakSanitizer, UBSan or
# ThreadSanitizer report (a data race, a lock-order inversion, a signal
# handler that is not async-signal-safe, ... all start with WARNING; a
# runtime that cannot start says FATAL).
SANITIZER_MARKERS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer",
                     b"runtime error:", b"WARNING: ThreadSanitizer",
                     b"FATAL: ThreadSanitizer")


def sanitizer_report(path, lines=30):
    """The start of the first sanitizer report in the file at path, or
    None. A report means the binary misbehaved, whatever the test saw."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return sanitizer_report_in(data, lines)


def sanitizer_report_in(data, lines=30):
    """sanitizer_report over bytes already read (a command's stderr)."""
    at = min((i for i in (data.find(m) for m in SANITIZER_MARKERS) if i >= 0),
             default=-1)
    if at < 0:
        return None
    text = data[data.rfind(b"\n", 0, at) + 1:].decode("utf-8", "replace")
    return "\n".join(text.splitlines()[:lines])


def fail_on_sanitizer(what, err):
    """Raise AssertionError when the stderr bytes `err` of the sluice
    command `what` hold a sanitizer report: a one-shot command's report
    fails the test even where the test expects it to fail."""
    report = sanitizer_report_in(err)
    if report:
        raise AssertionError("%s reported a sanitizer error:\n%s"
                             % (what, report))


def main():
    unittest.main(verbosity=2)


# --------------------------------------------------------------------------
# additions for the spool / retry / dead-letter tests (issue 4). Everything
# below only adds to what is above; nothing above changes behaviour.

import email.utils  # noqa: E402
import struct  # noqa: E402
import zlib  # noqa: E402


class FlexRequest(Request):
    """A Request with the headers it was answered with and when."""

    __slots__ = ("reply_headers", "answered", "note")

    def __init__(self, **kw):
        for k in Request.__slots__ + FlexRequest.__slots__:
            setattr(self, k, kw.get(k))


class _FlexHandler(_DestHandler):
    """Like _DestHandler, but the answer may carry headers and a body, may be
    slow (the test's func sleeps), and a client that went away mid-answer is
    not an error."""

    def _handle(self):
        dest = self.server.dest
        req = self._read_request(FlexRequest)
        req.reply_headers = {}
        req.answered = None
        req.note = None
        status, rh, rb = dest._flex_answer(req)
        try:
            self.send_response(status)
            names = {k.lower() for k in rh}
            if "content-type" not in names:
                self.send_header("Content-Type", "application/json")
            for k, v in rh.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(rb)))
            self.end_headers()
            self.wfile.write(rb)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = _handle


class FlexDestination(Destination):
    """A Destination whose `func(index, req)` may return a status, or
    (status, headers dict), or (status, headers dict, body bytes); it may
    sleep (use `self.sleep(s)`, which returns early when the destination
    stops). Requests are recorded as they arrive (status None until
    answered), indexes are unique, and the most requests it was answering
    at once is kept in `max_in_flight`. stop() then start() again listens
    on the same port and keeps what was recorded: a destination that goes
    away (connection refused) and comes back."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._seq = 0
        self._in_flight = 0
        self.max_in_flight = 0
        self._stopping = threading.Event()

    def start(self):
        self._stopping.clear()
        self._server = _DestServer(("127.0.0.1", self.port), _FlexHandler)
        self._server.dest = self
        self._server.handle_error = lambda request, client_address: None
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        super().stop()

    @property
    def running(self):
        return self._server is not None

    def sleep(self, seconds):
        """Sleep inside func; returns early (False) when stopping."""
        return not self._stopping.wait(seconds)

    def _flex_answer(self, req):
        with self._lock:
            req.index = self._seq
            self._seq += 1
            self._requests.append(req)
            self._conns_used.add(req.conn_id)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if self.func is not None:
                ans = self.func(req.index, req)
            elif req.index < len(self.script):
                ans = self.script[req.index]
            else:
                ans = self.default
            if self.delay:
                self.sleep(self.delay)
        finally:
            with self._lock:
                self._in_flight -= 1
        rh, rb = {}, None
        if isinstance(ans, tuple):
            status = ans[0]
            if len(ans) > 1 and ans[1]:
                rh = dict(ans[1])
            if len(ans) > 2:
                rb = ans[2]
        else:
            status = ans
        if rb is None:
            rb = json.dumps({"ok": 200 <= status < 300}).encode()
        req.reply_headers = rh
        req.answered = time.monotonic()
        req.status = status
        return status, rh, rb

    def requests(self, ok_only=False, path=None):
        reqs = super().requests(ok_only=ok_only)
        if path is not None:
            reqs = [r for r in reqs if r.path == path]
        return reqs

    def records_at(self, path, ok_only=True):
        out = []
        for r in self.requests(ok_only=ok_only, path=path):
            out.extend(r.records())
        return out

    def ids(self, path=None):
        """Ids of the records in 2xx requests (to `path` if given), with
        repeats, in arrival order."""
        out = []
        for r in self.requests(ok_only=True, path=path):
            out.extend(x["id"] for x in r.records())
        return out


def http_date(epoch):
    """An IMF-fixdate (RFC 9110) for a Retry-After header."""
    return email.utils.formatdate(epoch, usegmt=True)


# ---- the spool's segment files ------------------------------------------

SPOOL_MAGIC = 0x314C5053


class SegBlock:
    __slots__ = ("offset", "payload_len", "count", "crc", "payload", "crc_ok")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    @property
    def end(self):
        return self.offset + 16 + self.payload_len

    def records(self):
        """The framed records of the payload: [u32 len][bytes] each."""
        out, p, data = [], 0, self.payload
        while p + 4 <= len(data):
            (n,) = struct.unpack_from("<I", data, p)
            out.append(data[p + 4:p + 4 + n])
            p += 4 + n
        if p != len(data):
            raise ValueError("payload framing ends at %d of %d" % (p, len(data)))
        return out

    def __repr__(self):
        return ("<block @%d payload=%d records=%d crc_ok=%s>"
                % (self.offset, self.payload_len, self.count, self.crc_ok))


def read_segment(path):
    """-> (blocks, leftover): the intact-looking blocks of a segment file in
    order (parsing stops at a bad magic or a block past the end of the
    file) and the number of bytes after the last parsed block."""
    with open(path, "rb") as f:
        data = f.read()
    blocks, pos = [], 0
    while pos + 16 <= len(data):
        magic, plen, cnt, crc = struct.unpack_from("<IIII", data, pos)
        if magic != SPOOL_MAGIC or pos + 16 + plen > len(data):
            break
        payload = data[pos + 16:pos + 16 + plen]
        blocks.append(SegBlock(offset=pos, payload_len=plen, count=cnt, crc=crc,
                               payload=payload,
                               crc_ok=(zlib.crc32(payload) & 0xFFFFFFFF) == crc))
        pos += 16 + plen
    return blocks, len(data) - pos


def segment_files(spool_dir):
    """The *.seg files of a spool directory, in name (LSN) order."""
    try:
        names = os.listdir(spool_dir)
    except FileNotFoundError:
        return []
    return [os.path.join(spool_dir, n) for n in sorted(names)
            if re.fullmatch(r"[0-9a-fA-F]{16}\.seg", n)]


def spool_records(spool_dir):
    """Every record (decoded) in every intact block of a spool directory."""
    out = []
    for seg in segment_files(spool_dir):
        blocks, _ = read_segment(seg)
        for b in blocks:
            if b.crc_ok:
                out.extend(json.loads(r) for r in b.records())
    return out


# ---- the sluice process: kill, restart, CLI ------------------------------

def _sluice_kill9(self):
    """SIGKILL and reap; a later start() restarts with the same files."""
    rc = None
    if self.proc is not None:
        if self.proc.poll() is None:
            self.proc.kill()
        rc = self.proc.wait(10)
    for f in (self._out, self._err):
        if f is not None:
            f.close()
    self._out = self._err = None
    self.started = False
    return rc


def _sluice_sigterm(self, timeout=30.0):
    """SIGTERM and wait -> (exit status, seconds it took). On timeout the
    process is killed and the status is None."""
    t0 = time.monotonic()
    rc = None
    if self.proc is not None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                rc = None
        else:
            rc = self.proc.returncode
    took = time.monotonic() - t0
    for f in (self._out, self._err):
        if f is not None:
            f.close()
    self._out = self._err = None
    self.started = False
    return rc, took


def _sluice_cli(self, *args, timeout=30.0):
    """Run `sluice ARGS... -c <gateway file>` -> (rc, stdout, stderr)."""
    if not self._written:
        self.write()
    p = subprocess.run([self.bin] + list(args) + ["-c", self.gateway_file],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout, cwd=self.dir)
    fail_on_sanitizer("sluice " + " ".join(args[:1]), p.stderr)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def _sluice_run_once(self, timeout=15.0):
    """Run `sluice run` in the foreground expecting it to refuse to start:
    -> (rc, stdout, stderr); rc None when it was still running after
    `timeout` (it is then stopped)."""
    if not self._written:
        self.write()
    p = subprocess.Popen([self.bin, "run", "-c", self.gateway_file],
                         cwd=self.dir, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        rc = None
    fail_on_sanitizer("sluice run", err)
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _sluice_dlq_list(self, connector):
    """`sluice dlq list CONNECTOR --json`: one dict per dead letter. The
    "record" field is decoded when it is given as a JSON string."""
    rc, out, err = self.cli("dlq", "list", connector, "--json")
    if rc != 0:
        raise AssertionError("sluice dlq list %s --json exited %s\n%s%s"
                             % (connector, rc, out, err))
    entries = []
    for line in out.splitlines():
        if line.strip():
            e = json.loads(line)
            if isinstance(e.get("record"), str):
                try:
                    e["record"] = json.loads(e["record"])
                except ValueError:
                    pass
            entries.append(e)
    return entries


def _sluice_state_dir(self, connector):
    return os.path.join(self.dir, "var", connector)


def _sluice_spool_dir(self, connector):
    return os.path.join(self.dir, "var", connector, "spool")


def _sluice_log_lines(self):
    """sluice's stderr as parsed JSON log lines (others skipped)."""
    try:
        with open(self.stderr_path, "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    out = []
    for line in data.splitlines():
        try:
            js = json.loads(line)
        except ValueError:
            continue
        if isinstance(js, dict):
            out.append(js)
    return out


Sluice.kill9 = _sluice_kill9
Sluice.sigterm = _sluice_sigterm
Sluice.cli = _sluice_cli
Sluice.run_once = _sluice_run_once
Sluice.dlq_list = _sluice_dlq_list
Sluice.state_dir = _sluice_state_dir
Sluice.spool_dir = _sluice_spool_dir
Sluice.log_lines = _sluice_log_lines


def _start_flex_destination(self, **kw):
    d = FlexDestination(**kw)
    self.addCleanup(self._finish_destination, d)
    return d.start()


SluiceTestCase.start_flex_destination = _start_flex_destination


def crm_record(i, email=None, amount=1.5):
    """A valid CRM_SCHEMA record with id i (as a dict)."""
    return {"id": i, "email": email or "user%d@example.com" % i,
            "amount": amount, "active": True, "day": "2024-02-29",
            "at": "2024-03-01T12:00:00Z"}
