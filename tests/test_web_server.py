"""`oz serve`'s skeleton: the VM worker, errors as clear 4xx, the token, the spaces page."""
from __future__ import annotations

import html
import re
import time
import threading
import urllib.error
import urllib.request

import pytest

from conftest import image_path
from web_support import served

from ozvm.errors import OzError
from ozvm.web.worker import VMWorker, WorkerBusy
from ozvm.web.workbench import Workbench

bench = served("squeak2.2-mini.image")


# --- the worker ------------------------------------------------------------------------

def test_worker_runs_jobs_on_its_thread_and_answers_their_errors():
    worker = VMWorker(Workbench()).start()
    try:
        assert worker.call(lambda wb: threading.current_thread().name) == "ozvm-worker"
        with pytest.raises(OzError, match="no space with id 's9'"):
            worker.call(lambda wb: wb.space("s9"))
        with pytest.raises(ZeroDivisionError):          # a host bug in a job: the worker goes on
            worker.call(lambda wb: 1 // 0)
        assert worker.call(lambda wb: 6 * 7) == 42
    finally:
        worker.stop()


def test_stepped_jobs_take_turns_and_an_abandoned_one_is_closed():
    worker = VMWorker(Workbench()).start()
    release = threading.Event()
    closed = threading.Event()
    turns = []

    def endless(wb):
        try:
            while True:
                turns.append("endless")
                yield
        finally:
            closed.set()

    def counted(wb, n):
        for i in range(n):
            turns.append("counted")
            yield
        return n

    try:
        with pytest.raises(WorkerBusy):
            worker.call(lambda wb: release.wait(60), timeout=0.01)   # the worker is held
        release.set()
        future = worker.submit(endless, stepped=True)
        assert worker.call(counted, 5, stepped=True) == 5      # answered while `endless` goes on
        assert "endless" in turns[turns.index("counted"):]      # they took turns
        assert not future.done()
        with pytest.raises(WorkerBusy):
            worker.call(endless, stepped=True, timeout=0.01)
        assert closed.wait(60)                                  # the abandoned one was closed
    finally:
        future.cancel()
        worker.stop()


def test_a_watch_is_looked_at_after_each_turn_until_it_answers():
    worker = VMWorker(Workbench()).start()
    looks = []

    def third_look(wb):
        looks.append(threading.current_thread().name)
        return "seen" if len(looks) == 3 else None

    def failing(wb):
        raise OzError("the screen is gone")

    try:
        pending = worker.watch(lambda wb: None)                 # never answers...
        assert worker.call(lambda wb: 6 * 7) == 42              # ...and holds nothing
        assert worker.watch(third_look).result(60) == "seen"
        assert looks == ["ozvm-worker"] * 3                     # once a turn, on the worker
        with pytest.raises(OzError, match="the screen is gone"):
            worker.watch(failing).result(60)
        pending.cancel()                                        # a page gone: its watch ends
        assert worker.watch(lambda wb: True).result(60) is True
        assert all(future is not pending for _, _, future in worker._watches)
    finally:
        worker.stop()


# --- the server ------------------------------------------------------------------------

def test_spaces_page_lists_the_loaded_image(bench):
    status, text = bench.http("GET", "/")
    assert status == 200
    assert "squeak2.2-mini.image" in text and 'id="space-s1"' in text
    status, answer = bench.http("GET", "/api/spaces", json_answer=True)
    assert status == 200
    (row,) = answer["spaces"]
    assert row["id"] == "s1" and row["format"].startswith("V3 6502") and row["in_use"] > 0


@pytest.mark.parametrize("method,path,data,status,words", [
    ("GET", "/no/such/page", None, 404, "Not Found"),
    ("POST", "/spaces/s99/unload", {}, 404, "no space with id 's99'"),
    ("POST", "/spaces/load", {"path": "/no/such.image"}, 404, "no image file at /no/such.image"),
    ("POST", "/spaces/load", {}, 400, "the parameter 'path' is missing"),
    ("POST", "/spaces/s1/quantum", {"ms": "lots"}, 400, "is not an integer"),
    ("POST", "/spaces/s1/run", {"share": "3"}, 400, "a CPU share is a fraction"),
    ("POST", "/spaces/s1/save", {"path": "../shared/images/squeak2.2-mini.image"}, 400, "refusing"),
])
def test_bad_requests_answer_a_clear_4xx(bench, method, path, data, status, words):
    got, text = bench.http(method, path, data)
    assert got == status
    assert words in html.unescape(text)
    api_status, answer = bench.http("GET", "/api/spaces", json_answer=True)
    assert api_status == 200 and [s["id"] for s in answer["spaces"]] == ["s1"]   # still serving


def test_api_errors_are_json_and_huge_bodies_are_refused(bench):
    status, answer = bench.http("GET", "/api/no-such", json_answer=True)
    assert status == 404 and "error" in answer
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", bench.server.port, timeout=60)
    conn.putrequest("POST", "/spaces/load")      # 3 MB announced: refused before it is sent
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(3 * 1024 * 1024))
    conn.endheaders()
    answer = conn.getresponse()
    assert answer.status == 413 and b"larger than" in answer.read()
    conn.close()
    assert bench.http("GET", "/")[0] == 200


def test_a_server_bound_elsewhere_needs_its_token():
    from ozvm.web.server import Server, is_loopback
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("0.0.0.0")
    server = Server([], host="0.0.0.0", port=0).start()
    try:
        assert server.token and "?token=" + server.token in server.url
        plain = "http://127.0.0.1:%d/" % server.port
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(plain, timeout=60)
        assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(plain + "?token=wrong", timeout=60)
        with urllib.request.urlopen(plain + "?token=" + server.token, timeout=60) as answer:
            assert answer.status == 200
            cookie = answer.headers["Set-Cookie"].split(";")[0]
        request = urllib.request.Request(plain + "api/spaces", headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 200
    finally:
        server.stop()


def test_spaces_page_in_chromium_runs_a_quantum_and_makes_a_sandbox(bench):
    from selenium.webdriver.common.by import By
    driver = bench.open("/")
    row = driver.find_element(By.ID, "space-s1")
    assert "squeak2.2-mini.image" in row.text
    bench.click(row.find_element(By.NAME, "quantum"))
    assert "quantum:" in bench.find("#message").text
    bench.click(bench.find("#space-s1").find_element(By.NAME, "copy"))
    assert "sandbox of squeak2.2-mini.image" in driver.find_element(By.ID, "space-s2").text
    assert "overlay" in driver.find_element(By.ID, "space-s2").text
    bench.screenshot("spaces")
    bench.click(driver.find_element(By.ID, "space-s2").find_element(By.NAME, "unload"))
    assert not driver.find_elements(By.ID, "space-s2")


def _copy(bench) -> str:
    status, text = bench.http("POST", "/spaces/s1/copy", {})
    assert status == 200
    return re.search(r"copied into (s\d+)", text).group(1)


def _row(bench, sid) -> dict:
    status, answer = bench.http("GET", "/api/spaces", json_answer=True)
    assert status == 200
    return next(r for r in answer["spaces"] if r["id"] == sid)


def _until(bench, sid, condition, polls: int = 2000) -> dict:
    """Poll the spaces API (counting polls) until `condition(row)` holds."""
    for _ in range(polls):
        row = _row(bench, sid)
        if condition(row):
            return row
        time.sleep(0.05)
    raise AssertionError("never: %r" % row)


def test_a_guest_gone_wild_never_takes_the_server_down(bench):
    sid = _copy(bench)
    try:
        # a runaway at the top priority, a crashing process, run continuously
        bench.call(lambda wb: wb.space(sid).create_process("nil ozNoSuchMessage", priority=80))
        bench.call(lambda wb: wb.space(sid).create_process("[true] whileTrue", priority=80))
        assert bench.http("POST", "/spaces/%s/run" % sid, {"share": "0.5"})[0] == 200
        row = _until(bench, sid, lambda r: r["running"] and r["measured_share"] is not None)
        assert row["cpu_share"] == 0.5
        for _ in range(3):      # every page answers while the runaway runs
            assert bench.http("GET", "/browse/s1?cls=Fraction&sel=printOn:")[0] == 200
            status, answer = bench.http("POST", "/inspect/s1/nil/evaluate", {"source": "3 + 4"})
            assert status == 200 and "answered 7" in answer
        row = _until(bench, sid, lambda r: r["last_error"])
        assert "ozNoSuchMessage" in row["last_error"] and row["running"]   # the others go on
        assert bench.http("POST", "/spaces/%s/stop" % sid, {})[0] == 200
        assert not _row(bench, sid)["running"]
    finally:
        bench.http("POST", "/spaces/%s/unload" % sid, {})


def test_an_allocation_bomb_stops_its_run_and_the_server_goes_on(bench):
    sid = _copy(bench)
    try:
        # an allocation bomb past the space's memory limit: its run stops, the server goes on
        bench.call(lambda wb: setattr(wb.space(sid), "memory_limit",
                                      wb.space(sid).memory_figures()["in_use"] + 32 * 1024 * 1024))
        bench.call(lambda wb: wb.space(sid).create_process(
            "| all | all := OrderedCollection new. [true] whileTrue: [all add: (Array new: 1000000)]",
            priority=80))
        assert bench.http("POST", "/spaces/%s/run" % sid, {"share": "0.5"})[0] == 200
        row = _until(bench, sid, lambda r: not r["running"])
        assert row["stopped"].startswith("memory")
        assert bench.http("GET", "/")[0] == 200
        status, answer = bench.http("POST", "/inspect/s1/nil/evaluate", {"source": "3 + 4"})
        assert status == 200 and "answered 7" in answer
    finally:
        bench.http("POST", "/spaces/%s/unload" % sid, {})


def test_load_save_and_unload_an_image(bench, tmp_path):
    from ozvm.space.objectspace import ObjectSpace
    candle = image_path("pharocandle.image")
    status, text = bench.http("POST", "/spaces/load", {"path": candle})
    assert status == 200
    sid = re.search(r"loaded pharocandle.image as (s\d+)", text).group(1)
    try:
        out = tmp_path / "saved.image"
        status, text = bench.http("POST", "/spaces/%s/save" % sid, {"path": str(out)})
        assert status == 200 and "saved saved.image" in text
        assert not ObjectSpace.load(candle).diff(ObjectSpace.load(str(out)))   # the same image
        status, text = bench.http("POST", "/spaces/%s/save" % sid, {"path": candle})
        assert status == 400 and "refusing" in text                            # never over an input
    finally:
        assert bench.http("POST", "/spaces/%s/unload" % sid, {})[0] == 200
    assert sid not in bench.http("GET", "/")[1]


def test_the_workbench_file_policy_governs_loads_saves_and_the_guests(tmp_path):
    import os
    from conftest import image_path
    from ozvm.web.server import Server
    from web_support import Bench
    mini = image_path("squeak2.2-mini.image")
    other = tmp_path / "other.image"
    other.write_bytes(b"not read")
    bench = Bench(Server([], port=0, files="read-only:" + os.path.dirname(mini)).start())
    try:
        status, text = bench.http("POST", "/spaces/load", {"path": str(other)})
        assert status == 403 and "refuses to read" in html.unescape(text)
        status, text = bench.http("POST", "/spaces/load", {"path": mini})
        assert status == 200
        out = tmp_path / "saved.image"
        status, text = bench.http("POST", "/spaces/s1/save", {"path": str(out)})
        assert status == 403 and "refuses to write" in html.unescape(text)
        assert not out.exists()
        assert _row(bench, "s1")["policy"].startswith("read-only")     # the guest's own files too
    finally:
        bench.close()


def test_oz_bench_serve_counts_the_live_screens_updates():
    from ozvm.web.screen_bench import bench_screen, report
    figures = bench_screen(image_path("squeak2.2-mini.image"), seconds=0.2, warmup=0.0)
    assert figures["updates"] >= 1 and figures["bytes_per_update"] > 0    # figures, not timed
    lines = report(figures)
    assert "updates/s" in lines[1] and "load average" in lines[2]
