"""Reload on SIGHUP (issue 14, item 1), first step: the gateway survives
SIGHUP, reads the gateway and connector files again and checks them as the
start does; a configuration with problems changes nothing and every
problem is logged; one line per reload says what a reload changes; a
schema change is refused with the field-by-field difference; reloads are
counted in /metrics. `sluice run` holds <state_dir>/sluice.pid and
`sluice reload` signals that pid. Under load (HTTP and TCP clients posting
while SIGHUPs arrive) every acknowledged record reaches the destination
and no client sees a refused connection or a 5xx. Applying a changed
configuration without a restart is a later step."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sluice_it import (CRM_SCHEMA, LuaRaw, SluiceTestCase,  # noqa: E402
                       compact, connector_lua, crm_record, free_port,
                       sluice_bin, wait_until)


def log_msgs(sl):
    """The "msg" of every JSON log line sluice wrote so far."""
    out = []
    for line in sl.stderr_text().splitlines():
        try:
            out.append(json.loads(line).get("msg", ""))
        except ValueError:
            out.append(line)
    return out


def reload_counts(sl):
    st, _, _ = sl.request("GET", "/metrics")
    assert st == 200, st
    text = sl.last_raw.decode()
    counts = {}
    for m in re.finditer(r'^sluice_config_reloads_total\{result="(\w+)"\} (\d+)$',
                         text, re.M):
        counts[m.group(1)] = int(m.group(2))
    return counts


class ReloadTest(SluiceTestCase):

    def start_crm(self, headers=None, gateway_extra=""):
        self.dest = self.start_destination()
        self.url = self.dest.url + "/in"
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", self.url, headers=headers)},
            gateway_extra=gateway_extra)
        return self.sl

    def rewrite(self, stem, src):
        with open(self.sl.connector_path(stem), "w") as f:
            f.write(src)

    def hup_and_wait(self, result="ok"):
        """SIGHUP, then wait until /metrics counts one more reload of
        `result`."""
        before = reload_counts(self.sl).get(result, 0)
        self.sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(self.sl).get(result, 0) == before + 1,
                   msg="a reload counted as %s" % result)
        self.assertTrue(self.sl.alive())

    def post_ok(self, ids):
        st, ans, _ = self.sl.post("crm", [crm_record(i) for i in ids])
        self.assertEqual(st, 200, ans)
        self.assertEqual(ans["accepted"], len(ids))

    def delivered_ids(self):
        return sorted(r["id"] for r in self.dest.records())

    def test_sighup_keeps_running_and_is_counted(self):
        self.start_crm()
        self.assertEqual(reload_counts(self.sl), {"ok": 0, "failed": 0})
        self.post_ok([1, 2])
        self.hup_and_wait("ok")
        self.assertIn("reload: 0 connectors changed, 0 added, 0 removed",
                      log_msgs(self.sl))
        self.post_ok([3])
        wait_until(lambda: self.delivered_ids() == [1, 2, 3])
        self.assertEqual(self.sl.sigterm()[0], 0)

    def test_broken_gateway_file_changes_nothing_and_logs_every_problem(self):
        self.start_crm()
        with open(self.sl.gateway_file) as f:
            good = f.read()
        with open(self.sl.gateway_file, "w") as f:
            f.write(good.replace("return {", "return {\n  max_body_bytes = -1,"
                                 "\n  listne = 1,", 1))
        self.hup_and_wait("failed")
        msgs = log_msgs(self.sl)
        self.assertTrue(any("max_body_bytes" in m for m in msgs), msgs)
        self.assertTrue(any("listne" in m for m in msgs), msgs)
        self.assertTrue(any("reload failed: 2 problems" in m and
                            "unchanged" in m for m in msgs), msgs)
        self.post_ok([7])
        wait_until(lambda: self.delivered_ids() == [7])
        self.assertEqual(reload_counts(self.sl), {"ok": 0, "failed": 1})
        # the same file again, at once: every problem is logged again (a
        # reload's lines are never summarised as repeats)
        self.hup_and_wait("failed")
        msgs = log_msgs(self.sl)
        self.assertEqual(sum("listne" in m for m in msgs), 2, msgs)
        self.assertEqual(sum("max_body_bytes" in m for m in msgs), 2, msgs)
        self.assertEqual(sum("reload failed: 2 problems" in m
                             for m in msgs), 2, msgs)
        self.assertFalse(any("repeated" in m for m in msgs), msgs)

    def test_lua_syntax_error_in_a_connector_file_changes_nothing(self):
        self.start_crm()
        self.rewrite("crm", "return { name = 'crm', url = ")
        self.hup_and_wait("failed")
        self.assertTrue(any("crm.lua" in m for m in log_msgs(self.sl)))
        self.post_ok([1])
        wait_until(lambda: self.delivered_ids() == [1])

    def test_changes_are_reported_by_key_group(self):
        self.start_crm(headers={"X-Env": "one"})
        self.rewrite("crm", connector_lua("crm", self.url,
                                          headers={"X-Env": "two"},
                                          batch={"max_records": 7}))
        self.rewrite("extra", connector_lua("extra", self.url))
        self.hup_and_wait("ok")
        self.assertIn("reload: 1 connector changed (crm: headers, batch), "
                      "1 added (extra), 0 removed", log_msgs(self.sl))
        os.unlink(self.sl.connector_path("extra"))
        os.unlink(self.sl.connector_path("crm"))
        self.rewrite("other", connector_lua("other", self.url))
        self.hup_and_wait("ok")
        self.assertIn("reload: 0 connectors changed, 1 added (other), "
                      "2 removed (crm, extra)", log_msgs(self.sl))

    def test_schema_change_is_refused_with_the_difference(self):
        self.start_crm()
        schema = [dict(f) for f in CRM_SCHEMA]
        schema[1]["type"] = "integer"  # email
        self.rewrite("crm", connector_lua("crm", self.url, schema=schema))
        self.hup_and_wait("ok")
        msgs = log_msgs(self.sl)
        self.assertIn("reload: 0 connectors changed, 0 added, 0 removed; "
                      "1 refused (crm: schema)", msgs)
        self.assertTrue(any("schema change refused" in m for m in msgs), msgs)
        self.assertTrue(any('"email"' in m and "string" in m and "integer" in m
                            for m in msgs), msgs)
        # the running connector still takes its old schema's records
        self.post_ok([5])
        wait_until(lambda: self.delivered_ids() == [5])

    def test_state_dir_cannot_move(self):
        self.start_crm()
        with open(self.sl.gateway_file) as f:
            text = f.read()
        with open(self.sl.gateway_file, "w") as f:
            f.write(text.replace("/var\"", "/var2\""))
        self.hup_and_wait("failed")
        self.assertTrue(any("state_dir cannot change" in m
                            for m in log_msgs(self.sl)))


def ids_of(req):
    return {r["id"] for r in req.records()}


class ApplyTest(SluiceTestCase):
    """A changed connector takes its new configuration for batches cut
    after the reload; batches cut before finish with the old one."""

    def test_batch_in_flight_finishes_with_its_configuration(self):
        gate = threading.Event()

        def func(i, req):
            if i == 0:  # the first batch: held, then refused once
                gate.wait(20)
                return (503, {"Retry-After": "0"})
            return 200

        dest = self.start_flex_destination(func=func)
        url = dest.url + "/in"
        sl = self.start_sluice({"crm": connector_lua(
            "crm", url, headers={"X-Gen": "one"})})
        st, _, _ = sl.post("crm", [crm_record(1), crm_record(2)])
        self.assertEqual(st, 200)
        wait_until(lambda: len(dest.requests()) >= 1, msg="batch 1 sent")
        with open(sl.connector_path("crm"), "w") as f:
            f.write(connector_lua("crm", url, headers={"X-Gen": "two"}))
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 1)
        self.assertIn("reload: 1 connector changed (crm: headers), 0 added, "
                      "0 removed", log_msgs(sl))
        st, _, _ = sl.post("crm", [crm_record(3), crm_record(4)])
        self.assertEqual(st, 200)
        wait_until(lambda: {3, 4} <= {r["id"] for r in dest.records()},
                   msg="the batch cut after the reload delivered")
        gate.set()
        wait_until(lambda: {1, 2} <= {r["id"] for r in dest.records()},
                   msg="the batch cut before the reload delivered")
        reqs = dest.requests()
        old = [r for r in reqs if ids_of(r) & {1, 2}]
        new = [r for r in reqs if ids_of(r) & {3, 4}]
        self.assertGreaterEqual(len(old), 2)  # the 503 and its retry
        self.assertTrue(all(r.headers.get("X-Gen") == "one" for r in old),
                        [r.headers.get("X-Gen") for r in old])
        self.assertTrue(all(r.headers.get("X-Gen") == "two" for r in new),
                        [r.headers.get("X-Gen") for r in new])
        self.assertEqual(sorted(r["id"] for r in dest.records()), [1, 2, 3, 4])

    def test_old_headers_fn_keeps_its_lua_state_for_its_batch(self):
        """The retry of a batch cut before the reload runs the old file's
        headers_fn (its Lua state alive until the batch is done, then
        freed: the ASan build checks); later batches the new one's."""
        gate = threading.Event()

        def func(i, req):
            if i == 0:
                gate.wait(20)
                return (503, {"Retry-After": "0"})
            return 200

        dest = self.start_flex_destination(func=func)
        url = dest.url + "/in"
        conn = lambda v: connector_lua(url=url, name="crm", extra={  # noqa: E731
            "headers_fn": LuaRaw("function(req) sluice.sleep(10) "
                                 "return { [\"X-Fn\"] = %r } end" % v)})
        sl = self.start_sluice({"crm": conn("one")})
        self.assertEqual(sl.post("crm", [crm_record(1)])[0], 200)
        wait_until(lambda: len(dest.requests()) >= 1)
        with open(sl.connector_path("crm"), "w") as f:
            f.write(conn("two"))
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 1)
        self.assertEqual(sl.post("crm", [crm_record(2)])[0], 200)
        wait_until(lambda: 2 in {r["id"] for r in dest.records()})
        gate.set()
        wait_until(lambda: 1 in {r["id"] for r in dest.records()})
        order = sorted((sorted(ids_of(r)), r.headers.get("X-Fn"))
                       for r in dest.requests())
        self.assertEqual(order, [([1], "one"), ([1], "one"), ([2], "two")])
        time.sleep(1.2)  # the old generation collected (once a second)
        self.assertEqual(sl.post("crm", [crm_record(3)])[0], 200)
        wait_until(lambda: 3 in {r["id"] for r in dest.records()})
        self.assertEqual(sl.sigterm()[0], 0)

    def test_ordered_connector_keeps_its_order_across_a_reload(self):
        gate = threading.Event()

        def func(i, req):
            if i == 0:
                gate.wait(20)
                return (503, {"Retry-After": "0"})
            return 200

        dest = self.start_flex_destination(func=func)
        url = dest.url + "/in"
        conn = lambda v: connector_lua(  # noqa: E731
            "crm", url, headers={"X-Gen": v}, concurrency=1,
            extra={"ordered": True})
        sl = self.start_sluice({"crm": conn("one")})
        self.assertEqual(sl.post("crm", [crm_record(1)])[0], 200)
        wait_until(lambda: len(dest.requests()) >= 1)
        with open(sl.connector_path("crm"), "w") as f:
            f.write(conn("two"))
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 1)
        self.assertEqual(sl.post("crm", [crm_record(2)])[0], 200)
        time.sleep(0.3)
        self.assertEqual(len(dest.requests()), 1)  # 2 waits behind 1
        gate.set()
        wait_until(lambda: {1, 2} <= {r["id"] for r in dest.records()})
        order = [(sorted(ids_of(r)), r.headers.get("X-Gen"))
                 for r in dest.requests()]
        self.assertEqual(order, [([1], "one"), ([1], "one"), ([2], "two")])

    def test_changed_function_runs_in_a_new_lua_state(self):
        dest = self.start_destination()
        url = dest.url + "/in"

        def conn(mark):
            return connector_lua("crm", url, extra={"transform": LuaRaw(
                "function(r) r.email = %r; return r end" % mark)})

        sl = self.start_sluice({"crm": conn("old@example.com")})
        st, _, _ = sl.post("crm", [crm_record(1)])
        self.assertEqual(st, 200)
        with open(sl.connector_path("crm"), "w") as f:
            f.write(conn("new@example.com"))
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 1)
        self.assertIn("reload: 1 connector changed (crm: file), 0 added, "
                      "0 removed", log_msgs(sl))
        st, _, _ = sl.post("crm", [crm_record(2)])
        self.assertEqual(st, 200)
        wait_until(lambda: len(dest.records()) == 2)
        got = {r["id"]: r["email"] for r in dest.records()}
        self.assertEqual(got, {1: "old@example.com", 2: "new@example.com"})

    def test_durability_change_is_refused(self):
        dest = self.start_destination()
        url = dest.url + "/in"
        sl = self.start_sluice({"crm": connector_lua(
            "crm", url, headers={"X-Gen": "one"})})
        with open(sl.connector_path("crm"), "w") as f:
            f.write(connector_lua("crm", url, headers={"X-Gen": "two"},
                                  extra={"durability": "memory"}))
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 1)
        msgs = log_msgs(sl)
        self.assertIn("reload: 0 connectors changed, 0 added, 0 removed; "
                      "1 refused (crm: durability)", msgs)
        st, _, _ = sl.post("crm", [crm_record(1)])
        self.assertEqual(st, 200)
        wait_until(lambda: len(dest.records()) == 1)
        self.assertEqual(dest.requests()[0].headers.get("X-Gen"), "one")

    def test_intake_keys_change_applies_to_the_next_request(self):
        dest = self.start_destination()
        url = dest.url + "/in"
        k1, k2 = "k" * 20, "q" * 20
        sl = self.start_sluice({"crm": connector_lua(
            "crm", url, extra={"intake_keys": [k1]})})
        auth = lambda k: {"Authorization": "Bearer " + k}  # noqa: E731
        self.assertEqual(sl.post("crm", [crm_record(1)], headers=auth(k1))[0], 200)
        with open(sl.connector_path("crm"), "w") as f:
            f.write(connector_lua("crm", url, extra={"intake_keys": [k2]}))
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 1)
        self.assertEqual(sl.post("crm", [crm_record(2)], headers=auth(k1))[0], 401)
        self.assertEqual(sl.post("crm", [crm_record(3)], headers=auth(k2))[0], 200)
        wait_until(lambda: sorted(r["id"] for r in dest.records()) == [1, 3])
        self.assertNotIn(k1, sl.stderr_text())
        self.assertNotIn(k2, sl.stderr_text())


class RemoveTest(SluiceTestCase):

    def test_removed_connector_answers_404_and_may_come_back(self):
        dest = self.start_destination()
        url = dest.url + "/in"
        sl = self.start_sluice({"crm": connector_lua("crm", url),
                                "other": connector_lua("other", url)})
        self.assertEqual(sl.post("other", [crm_record(1)])[0], 200)
        os.unlink(sl.connector_path("other"))
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 1)
        msgs = log_msgs(sl)
        self.assertIn("reload: 0 connectors changed, 0 added, 1 removed "
                      "(other)", msgs)
        self.assertTrue(any(m.startswith("connector other removed: the intake "
                                         "answers 404") for m in msgs), msgs)
        st, ans, _ = sl.post("other", [crm_record(2)])
        self.assertEqual(st, 404, ans)
        st, ans, _ = sl.request("GET", "/v1/connectors")
        self.assertEqual([c["name"] for c in ans["connectors"]], ["crm"])
        self.assertEqual(sl.request("GET", "/v1/connectors/other")[0], 404)
        self.assertEqual(sl.post("crm", [crm_record(3)])[0], 200)
        wait_until(lambda: {1, 3} <= {r["id"] for r in dest.records()})
        self.assertTrue(os.path.isdir(os.path.join(sl.dir, "var", "other")))
        # back, with a header
        with open(sl.connector_path("other"), "w") as f:
            f.write(connector_lua("other", url, headers={"X-Back": "yes"}))
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 2)
        self.assertIn("connector other is back", log_msgs(sl))
        self.assertEqual(sl.post("other", [crm_record(4)])[0], 200)
        wait_until(lambda: 4 in {r["id"] for r in dest.records()})
        req = [r for r in dest.requests() if 4 in ids_of(r)][0]
        self.assertEqual(req.headers.get("X-Back"), "yes")
        self.assertEqual(sorted(r["id"] for r in dest.records()), [1, 3, 4])

    def test_added_connector_accepts_records(self):
        dest = self.start_destination()
        url = dest.url + "/in"
        sl = self.start_sluice({"crm": connector_lua("crm", url)})
        self.assertEqual(sl.post("new", [crm_record(1)])[0], 404)
        with open(sl.connector_path("new"), "w") as f:
            f.write(connector_lua("new", url + "?c=new"))
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 1)
        msgs = log_msgs(sl)
        self.assertIn("reload: 0 connectors changed, 1 added (new), 0 removed",
                      msgs)
        self.assertTrue(any(m.startswith("connector new added") for m in msgs))
        self.assertEqual(sl.post("new", [crm_record(2)])[0], 200)
        self.assertEqual(sl.post("crm", [crm_record(3)])[0], 200)
        wait_until(lambda: {2, 3} <= {r["id"] for r in dest.records()})
        req = [r for r in dest.requests() if 2 in ids_of(r)][0]
        self.assertEqual(req.path, "/in?c=new")
        st, ans, _ = sl.request("GET", "/v1/connectors")
        self.assertEqual(sorted(c["name"] for c in ans["connectors"]),
                         ["crm", "new"])
        self.assertTrue(os.path.exists(os.path.join(sl.dir, "var", "new",
                                                    "schema.lock")))
        # a second reload compares with it running: nothing changed
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 2)
        self.assertIn("reload: 0 connectors changed, 0 added, 0 removed",
                      log_msgs(sl))
        self.assertEqual(sl.sigterm()[0], 0)

    def test_connector_goes_with_the_tcp_listener_feeding_it(self):
        dest = self.start_destination()
        url = dest.url + "/in"
        tport = free_port()
        sl = self.start_sluice(
            {"crm": connector_lua("crm", url),
             "keep": connector_lua("keep", url)},
            gateway_extra='  tcp = { { listen = "127.0.0.1:%d", connector = '
            '"crm" } },' % tport)
        with open(sl.gateway_file) as f:
            text = f.read()
        with open(sl.gateway_file, "w") as f:
            f.write(re.sub(r"  tcp = .*\n", "", text))
        os.unlink(sl.connector_path("crm"))
        sl.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reload_counts(sl).get("ok") == 1)
        self.assertIn("reload: tcp 127.0.0.1:%d closed (0 open connections "
                      "are served to their end)" % tport, log_msgs(sl))
        self.assertEqual(sl.post("crm", [crm_record(1)])[0], 404)
        self.assertTrue(os.path.isdir(os.path.join(sl.dir, "var", "crm")))
        self.assertEqual(sl.post("keep", [crm_record(1)])[0], 200)
        wait_until(lambda: len(dest.records()) == 1)
        self.assertEqual(sl.sigterm()[0], 0)


class PidFileTest(SluiceTestCase):

    def start_crm(self):
        self.dest = self.start_destination()
        self.sl = self.start_sluice(
            {"crm": connector_lua("crm", self.dest.url + "/in")})
        self.pidfile = os.path.join(self.sl.dir, "var", "sluice.pid")
        return self.sl

    def reload_cmd(self, path=None):
        return subprocess.run(
            [sluice_bin(), "reload", "-c", path or self.sl.gateway_file],
            capture_output=True, text=True, timeout=30)

    def test_pid_file_while_running_removed_at_exit(self):
        self.start_crm()
        with open(self.pidfile) as f:
            self.assertEqual(f.read(), "%d\n" % self.sl.proc.pid)
        self.assertEqual(self.sl.sigterm()[0], 0)
        self.assertFalse(os.path.exists(self.pidfile))

    def test_second_gateway_on_the_same_state_dir_is_refused(self):
        self.start_crm()
        p = subprocess.run([sluice_bin(), "run", "-c", self.sl.gateway_file],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("served by another sluice (pid %d" % self.sl.proc.pid,
                      p.stderr)
        self.assertTrue(self.sl.alive())

    def test_reload_command_signals_the_gateway(self):
        self.start_crm()
        p = self.reload_cmd()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("SIGHUP sent to pid %d" % self.sl.proc.pid, p.stdout)
        wait_until(lambda: reload_counts(self.sl).get("ok") == 1)
        self.assertTrue(self.sl.alive())

    def test_reload_command_without_a_gateway(self):
        self.start_crm()
        self.assertEqual(self.sl.sigterm()[0], 0)
        p = self.reload_cmd()
        self.assertEqual(p.returncode, 1)
        self.assertIn("no gateway serves", p.stderr)

    def test_reload_command_with_a_stale_pid_file(self):
        self.start_crm()
        self.sl.kill9()  # no clean exit: the file stays, unlocked
        self.assertTrue(os.path.exists(self.pidfile))
        p = self.reload_cmd()
        self.assertEqual(p.returncode, 1)
        self.assertIn("is stale", p.stderr)
        # and a new gateway takes the stale file over
        self.sl.start()
        with open(self.pidfile) as f:
            self.assertEqual(f.read(), "%d\n" % self.sl.proc.pid)

    def test_reload_command_with_a_broken_file_signals_nothing(self):
        self.start_crm()
        with open(self.sl.connector_path("crm"), "a") as f:
            f.write("garbage(")
        p = self.reload_cmd()
        self.assertEqual(p.returncode, 2)
        self.assertIn("nothing signalled", p.stderr)
        time.sleep(0.2)
        self.assertEqual(reload_counts(self.sl), {"ok": 0, "failed": 0})


class RemovedConnectorTest(SluiceTestCase):
    """A connector whose file is gone keeps its directory; `sluice check`
    says what it still holds."""

    def test_check_names_what_a_removed_connector_left(self):
        dest = self.start_destination()
        dead_url = "http://127.0.0.1:%d/in" % free_port()  # nobody listens
        sl = self.start_sluice({
            "crm": connector_lua("crm", dest.url + "/in"),
            "old": connector_lua("old", dead_url,
                                 retry={"base_ms": 1000, "max_ms": 5000})})
        st, ans, _ = sl.post("old", [crm_record(i) for i in range(3)])
        self.assertEqual(st, 200, ans)
        self.assertEqual(sl.sigterm()[0], 0)
        rc, out, err = sl.cli("check")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("NOTE", out)
        os.unlink(sl.connector_path("old"))
        rc, out, err = sl.cli("check")
        self.assertEqual(rc, 0, err)
        notes = [l for l in out.splitlines() if l.startswith("NOTE")]
        self.assertEqual(len(notes), 1, out)
        self.assertIn('no connector "old" is configured', notes[0])
        self.assertIn("3 undelivered records", notes[0])
        self.assertIn("0 dead letters", notes[0])
        self.assertTrue(os.path.isdir(os.path.join(sl.dir, "var", "old", "spool")))


class ReloadUnderLoadTest(SluiceTestCase):
    """HTTP and TCP clients post without pause while SIGHUPs arrive (a
    header added, a schema change, a broken file, the header removed):
    every acknowledged record arrives, no client sees a refused connection
    or a 5xx, and requests cut after a reload carry its headers."""

    def test_clients_never_notice_a_reload(self):
        """Two HTTP clients (one kept alive on the first address, one
        connecting anew per request) and two TCP clients (one connection
        kept on the first address, one reconnecting every few lines) post
        while five SIGHUPs arrive: a header added with a connector, a schema
        change (refused), a broken file, the header and connector gone, and
        both `listen` and the TCP listener moved. A client that connects
        anew tries the new address first and the old one when it refuses:
        it must always find one listening."""
        self.dest = self.start_destination()
        url = self.dest.url + "/in"
        tport, tport2, hport2 = free_port(), free_port(), free_port()
        tcp_conf = ('  tcp = { { listen = "127.0.0.1:%d", connector = '
                    '"crm", ack = true } },')
        sl = self.start_sluice({"crm": connector_lua("crm", url)},
                               gateway_extra=tcp_conf % tport)
        hport = sl.port
        stop = threading.Event()
        acked, problems = [], []
        lock = threading.Lock()

        def connect_any(ports, make):
            """make(port) on the first port that does not refuse. Two
            passes: the reload opens the new listener before it closes the
            old one, so a move between the tries of the first pass (new
            refused, then old closed) finds the new one in the second."""
            for port in list(ports) * 2:
                try:
                    return make(port)
                except ConnectionRefusedError:
                    continue
            raise ConnectionRefusedError("every one of %s refused" % (ports,))

        def new_http(port):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.connect()
            return c

        def http_client(base, kept):
            i, conn = base, None
            while not stop.is_set():
                body = json.dumps([crm_record(i), crm_record(i + 1)])
                try:
                    if conn is None:
                        conn = connect_any([hport] if kept else [hport2, hport],
                                           new_http)
                    conn.request("POST", "/v1/connectors/crm/records", body,
                                 {"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    st, ans = resp.status, json.loads(resp.read())
                except (OSError, http.client.HTTPException, ValueError) as e:
                    with lock:
                        problems.append("http %r" % e)
                    return
                if not kept:
                    conn.close()
                    conn = None
                with lock:
                    if st == 200 and ans["accepted"] == 2:
                        acked.extend([(i, time.monotonic()),
                                      (i + 1, time.monotonic())])
                    else:
                        problems.append("http %s %s" % (st, ans))
                i += 2
            if conn is not None:
                conn.close()

        def tcp_client(base, kept):
            i = base
            try:
                while not stop.is_set():
                    s = connect_any(
                        [tport] if kept else [tport2, tport],
                        lambda p: socket.create_connection(("127.0.0.1", p),
                                                           timeout=10))
                    f = s.makefile("rb")
                    for _ in range(10**9 if kept else 10):
                        if stop.is_set():
                            break
                        s.sendall(compact(crm_record(i)) + b"\n")
                        answer = f.readline()
                        with lock:
                            if answer == b"ok\n":
                                acked.append((i, time.monotonic()))
                            else:
                                problems.append("tcp %r" % answer)
                                return
                        i += 1
                    f.close()
                    s.close()
            except OSError as e:
                with lock:
                    problems.append("tcp %r" % e)

        def metrics_port():
            """Where the intake answers now (the move is in progress)."""
            return connect_any([hport2, hport], lambda p: (
                socket.create_connection(("127.0.0.1", p), timeout=1).close(),
                p)[1])

        def counts(result):
            # the listener may move between the probe and the request:
            # probe again then (the reload binds the new one first)
            for _ in range(10):
                sl.port = metrics_port()
                try:
                    return reload_counts(sl).get(result, 0)
                except ConnectionRefusedError:
                    time.sleep(0.05)
            raise ConnectionRefusedError("the intake refused 10 times")

        threads = [threading.Thread(target=http_client, args=(b, k))
                   for b, k in ((1000000, True), (2000000, False))]
        threads += [threading.Thread(target=tcp_client, args=(b, k))
                    for b, k in ((3000000, True), (4000000, False))]
        for t in threads:
            t.start()
        try:
            crm = sl.connector_path("crm")
            with open(crm) as f:
                good = f.read()
            schema = [dict(f) for f in CRM_SCHEMA]
            schema[0]["type"] = "string"
            steps = [
                (connector_lua("crm", url, headers={"X-Reload": "1"}), "ok"),
                (connector_lua("crm", url, schema=schema), "ok"),
                ("return {", "failed"),
                (good, "ok"),
                (good, "ok"),  # and the gateway file moves both listeners
            ]
            sent, done = [], []
            extra = sl.connector_path("extra")
            for k, (src, result) in enumerate(steps):
                time.sleep(0.3)
                before = counts(result)
                with open(crm, "w") as f:
                    f.write(src)
                if k == 0:  # a connector added with the header
                    with open(extra, "w") as f:
                        f.write(connector_lua("extra", url + "?c=extra"))
                if k == 3:  # and removed with the header's going
                    os.unlink(extra)
                if k == 4:
                    sl.port, sl.gateway_extra = hport2, tcp_conf % tport2
                    sl.write()
                    sl.port = hport
                sent.append(time.monotonic())
                sl.proc.send_signal(signal.SIGHUP)
                wait_until(lambda: counts(result) == before + 1)
                done.append(time.monotonic())
                if k == 0:
                    st, ans, _ = sl.post("extra", [crm_record(9000000)])
                    self.assertEqual(st, 200, ans)
                if k == 3:
                    self.assertEqual(sl.post("extra", [crm_record(9000001)])[0],
                                     404)
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertEqual(problems, [])
        self.assertGreater(len(acked), 100)
        moved = [i for i, t in acked if t > done[4]]
        for base in (1000000, 2000000, 3000000, 4000000):
            # every client, the kept connections on the old addresses too,
            # was still acknowledged after the move
            self.assertTrue(any(base <= i < base + 1000000 for i in moved),
                            base)
        # the old addresses take no new connection now; the new ones do
        for old in (hport, tport):
            wait_until(lambda: refuses(old), msg="port %d closed" % old)
        sl.port = hport2
        self.assertEqual(sl.post("crm", [crm_record(9000002)])[0], 200)
        socket.create_connection(("127.0.0.1", tport2), timeout=5).close()
        want = sorted(i for i, _ in acked) + [9000000, 9000002]
        wait_until(lambda: set(want) <= set(r["id"] for r in self.dest.records()),
                   timeout=30, msg="every acknowledged record delivered")
        ids = [r["id"] for r in self.dest.records()]
        self.assertEqual(len(ids), len(set(ids)), "a record twice")
        self.assertTrue(sl.alive())
        # which header the request of each record carried
        header, arrived = {}, {}
        for req in self.dest.requests(ok_only=True):
            for r in req.records():
                header[r["id"]] = req.headers.get("X-Reload")
                arrived[r["id"]] = req.time
        checked = [0, 0]
        margin = 0.1  # an answer read late by its thread: cut before
        for i, t in acked:
            if done[0] + margin < t and arrived[i] < sent[3]:
                # cut after the header came (the schema change and the
                # broken file kept it), before it went
                self.assertEqual(header[i], "1", i)
                checked[0] += 1
            elif t > done[3] + margin:
                self.assertIsNone(header[i], i)  # cut after it went
                checked[1] += 1
        self.assertGreater(checked[0], 10)
        self.assertGreater(checked[1], 10)


def refuses(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True

if __name__ == "__main__":
    unittest.main()
