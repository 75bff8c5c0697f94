"""Long plain jobs do not hold the workbench's VM worker: an image is read off the worker
(other pages answer while it is read), a diff of two spaces is a stepped job (other pages
answer between its steps, and its progress is listed by /api/tasks, shown by the diff page),
and a copy or a save takes the space's snapshot on the worker and does the rest off it (the
space runs on and changes meanwhile; the copy, the saved image, are the space at its
snapshot). Events, never wall time, decide when each request is made: each long job is held
in progress until the other request has been answered."""
from __future__ import annotations

import os
import stat
import threading

from conftest import image_path
from web_support import served

import ozvm.web.pages.diff as diff_page
import ozvm.web.workbench as workbench_module
from ozvm.space import sandbox

bench = served("squeak2.2-mini.image", "pharo8-kernel-spur64.image")

PATIENCE = 120      # seconds a test waits for an event before it fails (never reached when it passes)
FIRST_STEP = sandbox.BUILD_STEP // 2    # a copy's progress after its first step (objects)


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


# --- copies and saves: the space's snapshot on the worker, the rest off it -----------------------

def _global(bench, sid, name):
    return bench.call(lambda wb: wb.space(sid).global_named(name))


def _evaluate(bench, sid, source):
    status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % sid, {"source": source})
    assert status == 200 and "answered" in text, text[-2000:]
    return text


def _until(bench, sid, name, condition):
    """Wait (counting looks, a wall-clock backstop never reached when it passes) until the
    global `name` of space `sid` satisfies `condition`."""
    for _ in range(PATIENCE * 20):
        value = _global(bench, sid, name)
        if condition(value):
            return value
        threading.Event().wait(0.05)
    raise AssertionError("never: %s = %r" % (name, value))


def _held_build(monkeypatch):
    """Hold every snapshot's build after its first step (its progress known) until the
    test lets it go: (held, release) events."""
    held, release = threading.Event(), threading.Event()
    original = sandbox.HeapSnapshot.build_steps

    def build_steps(self):
        steps = original(self)
        yield next(steps)
        held.set()
        assert release.wait(PATIENCE)
        result = yield from steps
        return result

    monkeypatch.setattr(sandbox.HeapSnapshot, "build_steps", build_steps)
    return held, release


def _recording_snapshots(monkeypatch, sid, name, seen):
    """Record the global `name` of space `sid` on the worker right after each snapshot
    (no guest code runs between the two)."""
    original = sandbox.snapshot_space

    def snapshot_space(space, *args):
        snap = original(space, *args)
        seen.append((snap.total, space.global_named(name)))
        return snap

    monkeypatch.setattr(sandbox, "snapshot_space", snapshot_space)


def _copy_of_s1(bench):
    import re
    status, text = bench.http("POST", "/spaces/s1/copy", {})
    assert status == 200, text[-2000:]
    return re.search(r"copied into (s\d+)", text).group(1)


def test_a_copy_is_the_space_at_its_snapshot_while_it_runs_on(bench, monkeypatch):
    import re
    sid = _copy_of_s1(bench)
    new = None
    try:
        _evaluate(bench, sid, "Smalltalk at: #OzTicks put: 0. Smalltalk at: #OzMark put: 1")
        # a counter below the evaluations' priority: it runs whenever nothing else does
        bench.call(lambda wb: wb.space(sid).create_process(
            "[true] whileTrue: [Smalltalk at: #OzTicks put: (Smalltalk at: #OzTicks) + 1. "
            "Processor yield]", priority=2))
        assert bench.http("POST", "/spaces/%s/run" % sid, {"share": "0.5"})[0] == 200
        _until(bench, sid, "OzTicks", lambda n: n > 0)          # the space runs
        seen = []
        _recording_snapshots(monkeypatch, sid, "OzTicks", seen)
        held, release = _held_build(monkeypatch)
        thread, answer = in_thread(lambda: bench.http("POST", "/spaces/%s/copy" % sid, {}))
        try:
            assert held.wait(PATIENCE)
            total, ticks = seen[0]
            status, tasks = bench.http("GET", "/api/tasks", json_answer=True)
            assert status == 200
            assert tasks["tasks"] == [{"label": "copy %s" % sid, "done": FIRST_STEP, "total": total}]
            # the space runs on and the pages answer (and change it) while the copy is made
            _until(bench, sid, "OzTicks", lambda n: n > ticks)
            _evaluate(bench, sid, "Smalltalk at: #OzMark put: 2")
            assert bench.http("GET", "/browse/%s?cls=Fraction" % sid)[0] == 200
            assert not answer                                   # the copy is still under way
        finally:
            release.set()
            thread.join(PATIENCE)
        status, text = answer[0]
        assert status == 200, text[-2000:]
        new = re.search(r"copied into (s\d+)", text).group(1)
        # the copy is the space at its snapshot; the original went on
        assert _global(bench, new, "OzTicks") == ticks
        assert _global(bench, new, "OzMark") == 1 and _global(bench, sid, "OzMark") == 2
        assert _global(bench, sid, "OzTicks") > ticks
        spaces = {s["id"]: s for s in bench.http("GET", "/api/spaces", json_answer=True)[1]["spaces"]}
        assert not spaces[new]["running"] and spaces[sid]["running"]   # a sandbox starts stopped
        assert "answered 7" in _evaluate(bench, new, "3 + 4")          # and it works
        assert bench.http("GET", "/api/tasks", json_answer=True)[1] == {"tasks": []}
    finally:
        for s in (new, sid):
            if s is not None:
                bench.http("POST", "/spaces/%s/unload" % s, {})


def test_a_save_writes_the_space_at_its_snapshot(bench, monkeypatch, tmp_path):
    from ozvm.space.objectspace import ObjectSpace
    sid = _copy_of_s1(bench)
    try:
        _evaluate(bench, sid, "Smalltalk at: #OzMark put: 1")
        seen = []
        _recording_snapshots(monkeypatch, sid, "OzMark", seen)
        held, release = _held_build(monkeypatch)
        out = tmp_path / "snapshot.image"
        thread, answer = in_thread(lambda: bench.http("POST", "/spaces/%s/save" % sid, {"path": str(out)}))
        try:
            assert held.wait(PATIENCE)
            assert seen[0][1] == 1
            status, tasks = bench.http("GET", "/api/tasks", json_answer=True)
            assert tasks["tasks"] == [{"label": "save %s" % sid, "done": FIRST_STEP, "total": seen[0][0]}]
            _evaluate(bench, sid, "Smalltalk at: #OzMark put: 2")   # the space changes meanwhile
            assert not answer and not out.exists()
        finally:
            release.set()
            thread.join(PATIENCE)
        status, text = answer[0]
        assert status == 200 and "saved snapshot.image" in text, text[-2000:]
        saved = ObjectSpace.load(str(out))
        assert saved.global_named("OzMark") == 1 and _global(bench, sid, "OzMark") == 2
        assert sorted(os.listdir(tmp_path)) == ["snapshot.image"]      # atomic: no temp file left
    finally:
        bench.http("POST", "/spaces/%s/unload" % sid, {})


def test_a_save_refuses_devices_fifos_and_the_input_file_even_when_they_appear_meanwhile(
        bench, monkeypatch, tmp_path):
    fifo = tmp_path / "fifo.image"
    os.mkfifo(str(fifo))
    for path, why in (("/dev/null", "a character device"), (str(fifo), "a FIFO"),
                      (image_path("squeak2.2-mini.image"), "the input image")):
        status, text = bench.http("POST", "/spaces/s1/save", {"path": path})
        assert status == 400 and "refusing" in text and why in text, text[-2000:]
    # a FIFO put where the image goes while the save is under way: refused at the write
    held, release = _held_build(monkeypatch)
    late = tmp_path / "late.image"
    thread, answer = in_thread(lambda: bench.http("POST", "/spaces/s1/save", {"path": str(late)}))
    try:
        assert held.wait(PATIENCE)
        os.mkfifo(str(late))
    finally:
        release.set()
        thread.join(PATIENCE)
    status, text = answer[0]
    assert status == 400 and "refusing" in text and "a FIFO" in text, text[-2000:]
    assert stat.S_ISFIFO(os.stat(str(late)).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["fifo.image", "late.image"]
    assert bench.http("GET", "/api/tasks", json_answer=True)[1] == {"tasks": []}


def test_the_spaces_page_shows_a_copys_progress_while_it_waits(bench, monkeypatch):
    import re
    held, release = _held_build(monkeypatch)
    driver = bench.open("/")
    thread, answer = in_thread(lambda: bench.http("POST", "/spaces/s1/copy", {}))   # what the form posts
    try:
        assert held.wait(PATIENCE)
        # what the copy form's submit does while it waits for the answer
        driver.execute_script("ozShowProgress(document.getElementById('job-progress'), 'copy s1', "
                              "'copying', 'objects')")
        bench.wait(lambda d: "copying: %d of" % FIRST_STEP in d.execute_script(
            "return document.getElementById('job-progress').innerText"))
        bench.screenshot("copy-progress")
    finally:
        release.set()
        thread.join(PATIENCE)
    assert answer[0][0] == 200
    new = re.search(r"copied into (s\d+)", answer[0][1]).group(1)
    assert bench.http("POST", "/spaces/%s/unload" % new, {})[0] == 200
