"""Real servers that integration tests start on 127.0.0.1 and stop: a
program run in the foreground with its files in a directory of the test
(Daemon: started, waited for until its ports accept connections, stopped)
and Debian's nginx on top of it (Nginx: a configuration of the test's
server blocks, its logs read back). Python 3 standard library only."""

import os
import socket
import subprocess

from sluice_it import wait_until

NGINX = "/usr/sbin/nginx"


def port_open(port, timeout=0.5):
    """Whether something accepts connections on 127.0.0.1:port (it is
    sent nothing: a server logs no request for it)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout).close()
        return True
    except OSError:
        return False


def read_text(path):
    """The file's text ("" when it cannot be read yet)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


class Daemon:
    """A server program in the foreground, its stderr kept in
    `directory`/NAME.stderr. spawn() starts it and waits until each of
    its ports accepts a connection; if it exits first, AssertionError with
    what it said (diagnostics()). stop() terminates it (kills it after
    10 s); a stopped daemon may be spawned again."""

    name = "server"

    def __init__(self, directory):
        self.dir = directory
        self.proc = None
        self.stderr_path = os.path.join(directory, self.name + ".stderr")

    def spawn(self, argv, ports, timeout=10):
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=err)
        wait_until(lambda: self.proc.poll() is not None or all(
            port_open(p) for p in ports), timeout,
            msg=lambda: "%s listening on %r: %s" % (
                self.name, ports, self.diagnostics()))
        if self.proc.poll() is not None:
            raise AssertionError("%s exited with %s: %s" % (
                self.name, self.proc.returncode, self.diagnostics()))
        return self

    def diagnostics(self):
        """What to show when it does not start: its stderr."""
        return read_text(self.stderr_path)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


_NGINX_CONF = """\
{user}
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
  {log_format}
  access_log {dir}/access.log{log_name};
  client_body_temp_path {dir}/tmp;
  proxy_temp_path {dir}/tmp;
  fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp;
  scgi_temp_path {dir}/tmp;
  client_body_buffer_size 4m;
  client_max_body_size 16m;
{http}
}}
"""


class Nginx(Daemon):
    """Debian's nginx with its files in `directory` (made when missing):
    the http-block directives `http` (server blocks and the like) whose
    listeners are `ports`, an access log in `log_format` (nginx's default
    without it). start() waits for every port; restart(http) writes the
    directives anew and starts it again on the same ports (not a reload:
    for a moment after SIGHUP an old worker may still accept a connection
    and answer it the old way)."""

    name = "nginx"

    def __init__(self, directory, http, ports, log_format=None):
        os.makedirs(os.path.join(directory, "tmp"), exist_ok=True)
        super().__init__(directory)
        self.ports = list(ports)
        self.log_format = log_format
        self.conf = os.path.join(directory, "nginx.conf")
        self.write(http)

    def write(self, http):
        fmt = self.log_format
        with open(self.conf, "w") as f:
            f.write(_NGINX_CONF.format(
                # as root, workers would switch to "nobody", who cannot
                # write the test's directory
                user="user root;" if os.getuid() == 0 else "",
                dir=self.dir, http=http,
                log_format="log_format sluice '%s';" % fmt if fmt else "",
                log_name=" sluice" if fmt else ""))

    def start(self):
        return self.spawn([NGINX, "-p", self.dir, "-c", self.conf, "-e",
                           os.path.join(self.dir, "error.log")], self.ports)

    def restart(self, http):
        self.stop()
        self.write(http)
        return self.start()

    def error_log(self):
        return read_text(os.path.join(self.dir, "error.log"))

    def access_lines(self):
        """The access log's lines so far (nginx writes one once the answer
        is sent)."""
        return read_text(os.path.join(self.dir, "access.log")).splitlines()

    def diagnostics(self):
        return super().diagnostics() + self.error_log()
