"""The status page (issue 14, item 4): GET / on the admin address is one
HTML document, no script and nothing fetched, refreshing itself, showing
every connector with its state, last error, rates with an inline SVG
chart, backlog, oldest record age and dead letters, and the gateway's
version, uptime and listeners. Loaded in headless Chromium (Debian's
`chromium`, installed by scripts/install-deps.sh): it renders without a
console message, shows every connector and its state, and a screenshot is
saved with the test output ($SLUICE_BUILD_DIR/test-output/). Samples are
taken every 200 ms here (SLUICE_STATUS_SAMPLE_MS) instead of 10 s."""

import html.parser
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (SluiceTestCase, connector_lua, crm_record,  # noqa: E402
                       free_port, lua_str, wait_until)
from test_admin import get  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OUT_DIR = os.path.join(os.environ.get("SLUICE_BUILD_DIR") or
                       tempfile.gettempdir(), "test-output")


class Page(html.parser.HTMLParser):
    """Tags, texts and whether every element closed in order."""

    VOID = {"meta", "br", "img", "link", "input", "hr", "polyline"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.text, self.bad = [], [], [], []
        self.attrs = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.bad.append(tag)
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


class StatusPageTest(SluiceTestCase):

    def setUp(self):
        super().setUp()
        self.good = self.start_destination()
        self.down = self.start_destination(default=503)
        self.admin = free_port()
        self.sl = self.start_sluice({
            "crm": connector_lua("crm", self.good.url + "/in"),
            "billing": connector_lua("billing", self.down.url + "/in",
                                     extra={"degraded_after_s": 1}),
        }, "  admin_listen = %s,\n" % lua_str("127.0.0.1:%d" % self.admin),
            env={"SLUICE_STATUS_SAMPLE_MS": "200"})
        # traffic over a few samples, for the charts and the rates
        for i in range(8):
            for name in ("crm", "billing"):
                st, _, _ = self.sl.post(name, [crm_record(i * 10 + k)
                                               for k in range(10)])
                self.assertEqual(st, 200, self.sl.last_raw)
            time.sleep(0.1)
        self.good.wait_records(80)
        wait_until(lambda: b"degraded" in get(self.admin, "/")[1],
                   timeout=10, msg="billing degraded on the page")

    def test_page_content(self):
        st, body, h = get(self.admin, "/")
        self.assertEqual(st, 200, body)
        self.assertEqual(h["content-type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'none'", h["content-security-policy"])
        self.assertEqual(h["cache-control"], "no-store")
        # the intake's address does not serve it
        self.assertEqual(get(self.sl.port, "/")[0], 404)
        page = Page()
        page.feed(body.decode("utf-8"))
        page.close()
        self.assertEqual((page.bad, page.stack), ([], []), "not well nested")
        for tag in ("script", "link", "img", "iframe", "object"):
            self.assertNotIn(tag, page.tags)
        refresh = [a for t, a in page.attrs
                   if t == "meta" and a.get("http-equiv") == "refresh"]
        self.assertEqual(refresh, [{"http-equiv": "refresh", "content": "10"}])
        text = " ".join(page.text)
        for want in ("sluice 0.", "up ", "http 127.0.0.1:%d" % self.sl.port,
                     "admin 127.0.0.1:%d" % self.admin, "crm", "billing",
                     "delivering", "degraded", "HTTP 503", "dead letters",
                     "oldest record", "backlog", "/s"):
            self.assertIn(want, text)
        # a chart per connector with a line for each rate
        self.assertEqual(page.tags.count("svg") - 2, 2, text)
        lines = [a for t, a in page.attrs if t == "polyline"
                 and len(a.get("points", "").split()) > 2]
        self.assertEqual(len(lines), 4)

    def test_post_is_refused(self):
        self.assertEqual(get(self.admin, "/", method="POST", body=b"x")[0],
                         405)
        self.assertEqual(get(self.admin, "/?x=<script>")[0], 200)

    @unittest.skipUnless(CHROMIUM, "chromium is not installed (scripts/"
                         "install-deps.sh installs it)")
    def test_chromium_renders_it(self):
        url = "http://127.0.0.1:%d/" % self.admin
        profile = tempfile.mkdtemp(prefix="sluice-chromium-")
        self.addCleanup(shutil.rmtree, profile, ignore_errors=True)
        os.makedirs(OUT_DIR, exist_ok=True)
        shot = os.path.join(OUT_DIR, "status_page.png")
        if os.path.exists(shot):
            os.unlink(shot)
        base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--user-data-dir=" + profile,
                "--enable-logging=stderr", "--log-level=0",
                "--window-size=1280,520"]
        dom = subprocess.run(base + ["--dump-dom", url], capture_output=True,
                             timeout=120)
        self.assertEqual(dom.returncode, 0, dom.stderr[-2000:])
        rendered = dom.stdout.decode("utf-8", "replace")
        for name, state in (("crm", "delivering"), ("billing", "degraded")):
            row = rendered[rendered.index("<b>%s</b>" % name):]
            row = row[:row.index("</tr>")]
            self.assertIn('class="%s">%s<' % (state, state), row)
        console = [line for line in dom.stderr.decode("utf-8", "replace")
                   .splitlines() if ":CONSOLE" in line]
        self.assertEqual(console, [], "console messages while rendering")
        pic = subprocess.run(base + ["--screenshot=" + shot, url],
                             capture_output=True, timeout=120)
        self.assertEqual(pic.returncode, 0, pic.stderr[-2000:])
        console = [line for line in pic.stderr.decode("utf-8", "replace")
                   .splitlines() if ":CONSOLE" in line]
        self.assertEqual(console, [])
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(shot), 5000)
        sys.stderr.write("status page screenshot: %s\n" % shot)


if __name__ == "__main__":
    unittest.main()
