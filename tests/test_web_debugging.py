"""The process browser and the debugger pages of `oz serve` in headless Chromium, on
Squeak 2.2: a runaway at the image's top priority interrupted and terminated from the
process browser; a method stepped through in the debugger with its temporaries changing;
a frame restarted after the method was fixed (through the API)."""
from __future__ import annotations

import html

import pytest

from web_support import served

from ozvm.space import control
from ozvm.web.live import process, process_id

bench = served("squeak2.2-mini.image")

DEMO = "ozLiveDemo\n\t| a b |\n\ta := %d.\n\tb := a + 4.\n\ta := a * b.\n\t^ a - 1"


def _by(what):
    from selenium.webdriver.common.by import By
    return getattr(By, what)


def _text(driver, element_id):
    """The text of an element, read in the page ('' when there is none)."""
    return driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
        element_id).strip()


def _row(driver, row_id, what="state"):
    """A process row's data attribute (read in the page: the table is refreshed every second)."""
    return driver.execute_script(
        "const r = document.getElementById(arguments[0]); return r ? r.dataset[arguments[1]] : null;",
        row_id, what)


def _press(driver, row_id, selector):
    """Press a button or link of a process row (found and pressed in one step in the page)."""
    return driver.execute_script(
        "const r = document.getElementById(arguments[0]); const b = r && r.querySelector(arguments[1]);"
        " if (b) b.click(); return !!b;", row_id, selector)


def test_interrupt_a_top_priority_runaway_and_terminate_it(bench):
    def start_runaway(wb):
        space = wb.space("s1")
        proc = space.create_process("[true] whileTrue", priority=80)
        wb.start("s1", 0.5)                 # the space runs continuously
        return process_id(wb, "s1", proc), proc.priority(), control.priority_levels(space)

    pid, priority, top = bench.call(start_runaway)
    assert priority == top == 8             # Squeak 2.2's highest level
    try:
        driver = bench.open("/processes")
        row_id = "process-s1-" + pid
        bench.wait(lambda d: _row(d, row_id) in ("active", "ready"))
        assert _row(driver, row_id, "priority") == "8"
        # the space ran the runaway meanwhile: the VM keeps control between quanta
        assert bench.call(lambda wb: wb.space("s1").last_transfer.bytecodes) > 0
        assert _press(driver, row_id, "button[name=interrupt]")
        bench.wait(lambda d: _row(d, row_id) == "suspended")
        bench.wait(lambda d: "interrupted" in _text(d, row_id))
        assert "DoIt (host process)" in _text(driver, row_id)
        bench.screenshot("processes")
        # its debugger: the runaway's frame, where it was stopped
        assert _press(driver, row_id, "a.debug")
        bench.wait(lambda d: d.find_elements(_by("ID"), "stack"))
        assert "DoIt (host process)" in _text(driver, "frame-0")
        driver.get(bench.url("/processes"))
        bench.wait(lambda d: _row(d, row_id) == "suspended")
        assert _press(driver, row_id, "button[name=terminate]")
        bench.wait(lambda d: _row(d, row_id) == "terminated")
        # the space goes on without it: its own processes run again
        assert bench.call(lambda wb: wb.space("s1").active_process().priority()) < 8
    finally:
        bench.call(lambda wb: wb.stop("s1"))


def test_step_through_a_method_and_restart_it_after_a_fix(bench):
    def make(wb):
        space = wb.space("s1")
        space.install(space.mirror_on(space.class_named("Object")), DEMO % 3)
        proc = space.create_process("nil ozLiveDemo", start=False)
        return process_id(wb, "s1", proc)

    pid = bench.call(make)
    driver = bench.open("/debug/s1/" + pid)
    assert "ozLiveDemo" in _text(driver, "source")          # the do-it, decompiled
    driver.find_element(_by("NAME"), "into").click()
    bench.wait(lambda d: "ozLiveDemo" in _text(d, "frame-0"))
    assert (_text(driver, "var-a"), _text(driver, "var-b")) == ("3", "nil")
    assert _text(driver, "position") == "+" and _text(driver, "next") == "send #+"
    driver.find_element(_by("NAME"), "over").click()
    bench.wait(lambda d: _text(d, "next") == "send #*")
    assert (_text(driver, "var-a"), _text(driver, "var-b")) == ("3", "7")
    assert _text(driver, "position") == "*"
    driver.find_element(_by("NAME"), "over").click()
    bench.wait(lambda d: _text(d, "next") == "send #-")
    assert (_text(driver, "var-a"), _text(driver, "var-b")) == ("21", "7")
    bench.screenshot("debugger")
    # evaluate in the frame's scope
    form = driver.find_element(_by("ID"), "evaluate-form")
    form.find_element(_by("NAME"), "source").send_keys("a + b")
    form.find_element(_by("NAME"), "evaluate").click()
    bench.wait(lambda d: "28" in _text(d, "message"))

    # the fix: a := 5 (through the API), then restart the frame: the new method runs
    bench.call(lambda wb: wb.space("s1").install(
        wb.space("s1").mirror_on(wb.space("s1").class_named("Object")), DEMO % 5))
    driver.find_element(_by("NAME"), "restart").click()
    bench.wait(lambda d: "restarted" in _text(d, "message"))
    assert (_text(driver, "var-a"), _text(driver, "var-b")) == ("nil", "nil")
    assert "a := 5" in _text(driver, "source")
    driver.find_element(_by("NAME"), "over").click()
    bench.wait(lambda d: _text(d, "next") == "send #*")
    assert (_text(driver, "var-a"), _text(driver, "var-b")) == ("5", "9")
    # the frame returns its value to the do-it
    driver.find_element(_by("NAME"), "run_to_end").click()
    bench.wait(lambda d: "DoIt" in _text(d, "frame-0"))
    assert "44" in html.unescape(driver.page_source)          # 5 * 9 - 1 on the do-it's stack
    driver.find_element(_by("NAME"), "terminate").click()
    bench.wait(lambda d: "terminated" in _text(d, "message"))


@pytest.mark.parametrize("path,status", [
    ("/debug/s1/p999", 404), ("/debug/s9/p1", 404), ("/api/processes/s1/p999/suspend", 404),
])
def test_unknown_processes_are_clear_errors(bench, path, status):
    method = "POST" if "/api/processes/" in path else "GET"
    got, text = bench.http(method, path, {} if method == "POST" else None)
    assert got == status and "no " in html.unescape(text)


def test_bad_operations_are_refused(bench):
    pid = bench.call(lambda wb: process_id(
        wb,         "s1", wb.space("s1").create_process("3 + 4", start=False)))
    assert bench.http("POST", "/api/processes/s1/%s/explode" % pid, {})[0] == 400
    assert bench.http("POST", "/api/debug/s1/%s/explode" % pid, {})[0] == 400
    status, answer = bench.http("POST", "/api/debug/s1/%s/into" % pid, {"frame": "77"}, json_answer=True)
    assert status == 400 and "no frame 77" in answer["error"]
    status, answer = bench.http("POST", "/api/debug/s1/%s/evaluate" % pid, {"source": "3 +"},
                                json_answer=True)
    assert status == 400 and "line" in answer
    bench.call(lambda wb: control.terminate(process(wb, "s1", pid)))
