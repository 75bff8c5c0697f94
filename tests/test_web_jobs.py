"""Long plain jobs do not hold the workbench's VM worker: an image is read off the worker
(other pages answer while it is read), and a diff of two spaces is a stepped job (other pages
answer between its steps, and its progress is listed by /api/tasks, shown by the diff page).
Events, never wall time, decide when each request is made: each long job is held in progress
until the other request has been answered."""
from __future__ import annotations

import threading

from conftest import image_path
from web_support import served

import ozvm.web.pages.diff as diff_page
import ozvm.web.workbench as workbench_module

bench = served("squeak2.2-mini.image", "pharo8-kernel-spur64.image")

PATIENCE = 120      # seconds a test waits for an event before it fails (never reached when it passes)


def in_thread(fn):
    """Run fn() in a thread; answer (thread, results list where its answer goes)."""
    out = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    return thread, out


def test_other_pages_answer_while_an_image_is_read(bench, monkeypatch):
    reading, release = threading.Event(), threading.Event()
    original = workbench_module.read_space

    def held_read(vm, path):                # the read: held until the test lets it go
        reading.set()
        assert release.wait(PATIENCE)
        return original(vm, path)

    monkeypatch.setattr(workbench_module, "read_space", held_read)
    path = image_path("pharocandle.image")
    thread, answer = in_thread(lambda: bench.http("POST", "/spaces/load", {"path": path}))
    try:
        assert reading.wait(PATIENCE)
        # the image is being read: the worker and the pages answer meanwhile
        status, spaces = bench.http("GET", "/api/spaces", json_answer=True)
        assert status == 200 and [s["id"] for s in spaces["spaces"]] == ["s1", "s2"]
        status, text = bench.http("GET", "/browse/s1?cls=Fraction")
        assert status == 200 and "Fraction" in text
        assert bench.call(lambda wb: len(wb.ids)) == 2
        assert not answer                   # the load is still under way
    finally:
        release.set()
        thread.join(PATIENCE)
    status, text = answer[0]
    assert status == 200 and "loaded pharocandle.image as s3" in text
    assert bench.http("POST", "/spaces/s3/unload", {})[0] == 200


def test_other_pages_answer_between_the_steps_of_a_diff_with_its_progress(bench, monkeypatch):
    stepping, answered = threading.Event(), threading.Event()
    original = diff_page.diff_steps
    seen = []

    def held_steps(a, b):                   # after its first step, the diff waits (yielding)
        steps = original(a, b)
        seen.append(next(steps))
        yield seen[0]
        stepping.set()                      # its progress is known: a step went by
        while not answered.is_set():
            yield seen[0]
        result = yield from steps
        return result

    monkeypatch.setattr(diff_page, "diff_steps", held_steps)
    thread, answer = in_thread(lambda: bench.http("GET", "/diff?a=s1&b=s2"))
    try:
        assert stepping.wait(PATIENCE)
        status, tasks = bench.http("GET", "/api/tasks", json_answer=True)
        assert status == 200
        assert tasks["tasks"] == [{"label": "diff s1 s2", "done": 0, "total": seen[0][1]}]
        assert seen[0][1] == bench.call(lambda wb: len(set(wb.space("s1")._classes())
                                                       | set(wb.space("s2")._classes())))
        status, spaces = bench.http("GET", "/api/spaces", json_answer=True)
        assert status == 200 and len(spaces["spaces"]) == 2
        status, text = bench.http("POST", "/inspect/s1/nil/evaluate", {"source": "3 + 4"})
        assert "answered 7" in text         # the worker ran guest code meanwhile
        assert not answer                   # the diff is still under way
    finally:
        answered.set()
        thread.join(PATIENCE)
    status, text = answer[0]
    assert status == 200 and "+ class SmallFloat64" in text
    assert bench.http("GET", "/api/tasks", json_answer=True)[1] == {"tasks": []}


def test_the_diff_page_shows_its_progress_while_it_waits(bench, monkeypatch):
    stepping, answered = threading.Event(), threading.Event()
    original = diff_page.diff_steps

    def held_steps(a, b):
        steps = original(a, b)
        first = next(steps)
        yield first
        stepping.set()
        while not answered.is_set():
            yield first
        result = yield from steps
        return result

    monkeypatch.setattr(diff_page, "diff_steps", held_steps)
    driver = bench.open("/diff")
    thread, answer = in_thread(lambda: bench.http("GET", "/diff?a=s2&b=s1"))   # the diff the form would ask
    try:
        assert stepping.wait(PATIENCE)
        # what the form's submit does while it waits for the answer (without leaving the page)
        driver.execute_script("ozShowProgress(document.getElementById('diff-progress'), 'diff s2 s1')")
        bench.wait(lambda d: "comparing: 0 of" in d.execute_script(
            "return document.getElementById('diff-progress').innerText"))
        bench.screenshot("diff-progress")
    finally:
        answered.set()
        thread.join(PATIENCE)
    assert answer[0][0] == 200 and "differences" in answer[0][1]
