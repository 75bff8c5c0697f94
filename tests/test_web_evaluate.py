"""The inspector's evaluate has no wall-clock limit: a budget of guest work (bytecodes) ends a
runaway the same on any machine, and the page's interrupt (POST /api/jobs/KEY/interrupt, the
interrupt button; or the page gone) ends an evaluation sooner, also one that waits without
working. Events, never wall time, decide when the interrupt is sent."""
from __future__ import annotations

import html
import threading

from web_support import served

import ozvm.web.pages.inspector as inspector
import ozvm.web.pages.processes as processes

bench = served("squeak2.2-mini.image")

PATIENCE = 120


def delays_alive(bench) -> list:
    """The processes of s1 not terminated that are in Delay>>wait (the evaluation's)."""
    rows = bench.call(lambda wb: processes.process_rows(wb, "s1"))
    return [r for r in rows if r["state"] != "terminated" and "Delay>>wait" in r["where"]]


def test_a_runaway_evaluation_ends_at_its_budget_of_bytecodes(bench, monkeypatch):
    monkeypatch.setattr(inspector, "EVALUATE_BYTECODES", 300000)
    status, text = bench.http("POST", "/inspect/s1/nil/evaluate", {"source": "[true] whileTrue"})
    assert status == 422 and "did not answer within 300000 bytecodes" in html.unescape(text)
    assert "evaluate-error" in text
    status, text = bench.http("POST", "/inspect/s1/nil/evaluate", {"source": "3 + 4"})
    assert status == 200 and "answered 7" in text


def test_the_page_interrupts_an_evaluation_that_waits_forever(bench, monkeypatch):
    started = threading.Event()
    original = inspector.evaluate

    def watched(wb, sid, oid, source):        # the evaluation, telling the test it is under way
        steps = original(wb, sid, oid, source)
        try:
            try:
                first = next(steps)
            except StopIteration as done:
                return done.value
            yield first
            started.set()
            result = yield from steps
            return result
        finally:
            steps.close()

    monkeypatch.setattr(inspector, "evaluate", watched)
    monkeypatch.setattr(inspector, "EVALUATE_BYTECODES", 10 ** 15)   # no budget ends it first
    out = []
    key = "job-test-interrupt"
    thread = threading.Thread(target=lambda: out.append(bench.http(
        "POST", "/inspect/s1/nil/evaluate",
        {"source": "(Delay forMilliseconds: 100000000) wait. 5", "job": key})), daemon=True)
    thread.start()
    try:
        assert started.wait(PATIENCE)
        # it waits a day: only the interrupt ends it
        assert delays_alive(bench)
        status, answer = bench.http("POST", "/api/jobs/%s/interrupt" % key, {}, json_answer=True)
        assert status == 200 and answer == {"interrupted": True}
    finally:
        bench.server.worker.interrupt(key)     # (done already when the test passes)
        thread.join(PATIENCE)
    status, text = out[0]
    assert status == 422 and "the evaluation was stopped: interrupted from the page" in html.unescape(text)
    status, answer = bench.http("POST", "/api/jobs/%s/interrupt" % key, {}, json_answer=True)
    assert answer == {"interrupted": False}             # it is over, its guest process too
    assert not delays_alive(bench)
    assert bench.http("POST", "/api/jobs/x/interrupt", {})[0] == 200
    status, text = bench.http("POST", "/inspect/s1/nil/evaluate", {"source": "3 + 4", "job": "bad key!"})
    assert status == 400
    status, text = bench.http("POST", "/inspect/s1/nil/evaluate", {"source": "3 + 4"})
    assert status == 200 and "answered 7" in text


def test_the_inspector_page_names_its_evaluation_and_has_an_interrupt_button(bench):
    bench.open("/inspect/s1/nil")
    button = bench.find("#evaluate-interrupt")
    assert not button.is_displayed()
    assert "bytecodes" in bench.find("#evaluate-form").text
    # what the submit does, without leaving the page: the job gets a key, the button shows
    key = bench.driver.execute_script(
        "const f = document.getElementById('evaluate-form');"
        " f.dispatchEvent(new Event('submit', {cancelable: true})); return f.job.value;")
    assert key.startswith("job-") and button.is_displayed()
