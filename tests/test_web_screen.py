"""The live screen of `oz serve` in headless Chromium: the guest's Display in the canvas,
pixel for pixel, and clicks in the canvas reaching the guest.

Squeak 2.2 (2 M bytecodes of startup, counted): a click on a category of its System
Browser selects it. Scratch 1.4 (slow): its startup (40 M bytecodes, as
tests/test_scratch_screen.py) is run on PyPy and the space saved, a step any image can
take; the server loads the saved image under CPython, the canvas shows exactly what
squeak-vm showed after its startup, and a click on "Looks" in the canvas gives exactly
squeak-vm's Looks screen. Waiting is bounded by the guest's work (bytecodes), not by time.
"""
from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from conftest import scratch_image
from test_screen import read_png
from web_support import Bench, served

from ozvm.space import execution
from ozvm.space.screen import Screen
from ozvm.web.live import live_state

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")

bench = served("squeak2.2-mini.image")

# the canvas's pixels as RGB rows, read in the page (base64 of width * 3 bytes a row)
CANVAS_RGB = """
const c = document.getElementById('screen-canvas');
if (!c || !c.width) return null;
const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
const rgb = new Uint8Array(c.width * c.height * 3);
for (let i = 0, j = 0; i < d.length; i += 4, j += 3) { rgb[j] = d[i]; rgb[j + 1] = d[i + 1]; rgb[j + 2] = d[i + 2]; }
let s = '';
for (let i = 0; i < rgb.length; i += 0x8000) s += String.fromCharCode.apply(null, rgb.subarray(i, i + 0x8000));
return [c.width, c.height, btoa(s)];
"""


def canvas_rows(driver):
    got = driver.execute_script(CANVAS_RGB)
    if got is None:
        return None
    w, h, data = got
    raw = base64.b64decode(data)
    return [raw[y * w * 3:(y + 1) * w * 3] for y in range(h)]


def frames(driver) -> int:
    return int(driver.execute_script(
        "const c = document.getElementById('screen-canvas'); return c ? Number(c.dataset.frames) : 0;"))


def bytecodes(bench, sid="s1") -> int:
    return bench.call(lambda wb: execution.interpreter_for(wb.space(sid)).bytecodes)


def wait_until_given(bench, changes=0, keystrokes=0, sid="s1"):
    """Wait until the guest was given `changes` button changes and `keystrokes` keys from
    the page in all (space/browser_input.py, InputFeeder): a guest that polls the mouse
    runs on while the browser and the server pass input on, as many bytecodes as its speed
    allows in that time, so work is counted from here. The wall-clock limit is a backstop."""
    def given(driver):
        feeder = bench.call(lambda wb: live_state(wb).feeder(sid))
        return feeder.changes >= changes and feeder.keystrokes >= keystrokes
    bench.wait(given, timeout=900)


def wait_for_guest(bench, condition, budget: int, sid="s1"):
    """Poll until condition(driver) holds; fail once the guest has run `budget` bytecodes
    more without it (work counted, not time). The wall-clock limit is only a backstop for a
    guest gone idle (its bytecodes stop counting): far beyond any loaded machine's need, far
    inside CI's time."""
    start = bytecodes(bench, sid)

    def done(driver):
        if condition(driver):
            return True
        ran = bytecodes(bench, sid) - start
        assert ran < budget, "not seen after %d bytecodes of the guest" % ran
        return False
    bench.wait(done, timeout=900)


def click_canvas(driver, x, y):
    """A real click (Chromium's own mouse events) on the canvas's pixel x@y."""
    from selenium.webdriver.common.action_chains import ActionChains
    left, top = driver.execute_script(
        "const c = document.getElementById('screen-canvas'); c.scrollIntoView();"
        " const r = c.getBoundingClientRect(); return [r.left + c.clientLeft, r.top + c.clientTop];")
    actions = ActionChains(driver)
    actions.w3c_actions.pointer_action.move_to_location(int(left) + x, int(top) + y)
    actions.w3c_actions.pointer_action.click()
    actions.perform()


def _dark(rows):
    """Black pixels of the System Browser's third category line (rows 46-57, the list pane)."""
    return sum(r[3 * 76:3 * 190].count(b"\x00\x00\x00") for r in rows[46:58])


def _started(wb):
    """Squeak 2.2's world drawn: its startup run (2 M bytecodes) unless it ran already."""
    space = wb.space("s1")
    interp = execution.interpreter_for(space)
    if interp.bytecodes < 2_000_000:
        execution.let_guest_handle_errors(space)
        space.transfer_control(bytecodes=2_000_000 - interp.bytecodes)
    return Screen(space).rgb_rows()


def test_squeak_world_in_the_canvas_and_clicked(bench):
    from selenium.webdriver.common.by import By

    expected = bench.call(_started)
    driver = bench.open("/screen/s1")
    bench.wait(lambda d: frames(d) >= 1)
    assert canvas_rows(driver) == expected             # the Display, pixel for pixel
    # the guest's cursor (primitive 101) is the canvas's mouse cursor, its hotspot on the point
    hotspot = bench.call(lambda wb: list(Screen(wb.space("s1")).cursor.hotspot))
    assert driver.execute_script("return document.getElementById('screen-canvas').dataset.cursor") == \
        ",".join(map(str, hotspot))
    assert driver.execute_script(
        "return document.getElementById('screen-canvas').style.cursor").startswith('url("data:image/png')
    assert _dark(expected) < 300                       # no category selected yet
    driver.find_element(By.ID, "screen-run").click()   # the space runs continuously
    bench.wait(lambda d: d.find_element(By.ID, "screen-canvas").get_attribute("data-running") == "yes"
               or bench.call(lambda wb: bool(wb.space("s1").cpu_share)))
    try:
        click_canvas(driver, 110, 50)
        wait_until_given(bench, changes=2)             # the press and the release
        wait_for_guest(bench, lambda d: _dark(canvas_rows(d) or []) > 1000, 20_000_000)
        bench.screenshot("screen-squeak")
        # the canvas follows the Display: the same pixels as the guest's screen now
        driver.find_element(By.ID, "screen-stop").click()
        bench.wait(lambda d: not bench.call(lambda wb: wb.space("s1").cpu_share))
        now = bench.call(lambda wb: Screen(wb.space("s1")).rgb_rows())
        wait_for_guest(bench, lambda d: canvas_rows(d) == now, 1)
    finally:
        bench.call(lambda wb: wb.stop("s1"))
    status, png = bench.http("GET", "/screen/s1/screenshot.png")
    assert status == 200


def test_squeak_world_typed_into_from_the_page(bench):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    bench.call(_started)
    driver = bench.open("/screen/s1")
    bench.wait(lambda d: frames(d) >= 1)
    driver.find_element(By.ID, "screen-run").click()
    bench.wait(lambda d: bench.call(lambda wb: bool(wb.space("s1").cpu_share)))
    try:
        click_canvas(driver, 300, 330)                 # into the code pane: it takes the keyboard
        # the click is over: given to the guest, and the guest ran on after it
        wait_until_given(bench, changes=2)
        start = bytecodes(bench)
        wait_for_guest(bench, lambda d: bytecodes(bench) - start > 1_000_000, 20_000_000)
        pane = lambda rows: [r[3 * 80:3 * 555] for r in rows[150:345]]
        before = pane(bench.call(lambda wb: Screen(wb.space("s1")).rgb_rows()))
        ActionChains(driver).send_keys("xyz").perform()
        wait_until_given(bench, changes=2, keystrokes=3)
        # the letters appear in the code pane, in the guest and in the canvas
        wait_for_guest(bench, lambda d: pane(canvas_rows(d)) != before
                       and pane(canvas_rows(d)) == pane(bench.call(
                           lambda wb: Screen(wb.space("s1")).rgb_rows())), 20_000_000)
        assert not bench.call(lambda wb: list(wb.space("s1").input_device().keys))   # all read
        bench.screenshot("screen-squeak-typed")
    finally:
        bench.call(lambda wb: wb.stop("s1"))


def test_live_screen_errors(bench):
    status, text = bench.http("GET", "/screen/s9")
    assert status == 404
    status, text = bench.http("GET", "/screen")
    assert status == 200 and "/screen/s1" in text


def test_bad_input_messages_are_answered_not_fatal(bench):
    driver = bench.open("/screen/s1")
    bench.wait(lambda d: frames(d) >= 1)
    driver.execute_script("""
        window.ozErrors = [];
        const ws = new WebSocket('ws://' + location.host + '/screen/s1/live');
        ws.onmessage = (e) => { if (typeof e.data === 'string') window.ozErrors.push(JSON.parse(e.data).error); };
        ws.onopen = () => { ws.send('{not json'); ws.send(JSON.stringify({type: 'wheel'}));
                            ws.send(JSON.stringify({type: 'mousedown', x: 'a', y: 2})); };
    """)
    bench.wait(lambda d: len(d.execute_script("return window.ozErrors") or []) >= 3)
    errors = driver.execute_script("return window.ozErrors")
    assert "JSON" in errors[0] and "wheel" in errors[1] and "integer" in errors[2]
    assert bench.http("GET", "/api/spaces")[0] == 200


# --- Scratch 1.4 ----------------------------------------------------------------------------

PREPARE = """
import sys
from ozvm.vm import VM
from ozvm.space import execution
space = VM().load(sys.argv[1])
execution.let_guest_handle_errors(space)
space.transfer_control(bytecodes=40_000_000)
space.save(sys.argv[2])
"""


@pytest.fixture(scope="module")
def scratch_bench():
    image = scratch_image()
    folder = tempfile.mkdtemp(prefix="oz-scratch-")
    started = os.path.join(folder, "scratch-started.image")
    python = shutil.which("pypy3") or sys.executable
    r = subprocess.run([python, "-c", PREPARE, image, started], env=dict(os.environ, PYTHONPATH=SRC),
                       capture_output=True, text=True, timeout=3600, cwd=folder)
    assert r.returncode == 0, r.stderr
    from ozvm.web.server import Server
    b = Bench(Server([started], port=0).start())
    try:
        yield b
    finally:
        b.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_scratch_in_the_canvas_and_its_looks_button_clicked(scratch_bench):
    from selenium.webdriver.common.by import By
    b = scratch_bench
    _, _, ref = read_png(os.path.join(HERE, "data", "scratch_squeakvm.png"))
    _, _, looks = read_png(os.path.join(HERE, "data", "scratch_squeakvm_looks.png"))
    driver = b.open("/screen/s1")
    b.wait(lambda d: frames(d) >= 1)
    assert canvas_rows(driver) == ref                  # squeak-vm's screen after its startup
    driver.find_element(By.ID, "screen-run").click()
    b.wait(lambda d: b.call(lambda wb: bool(wb.space("s1").cpu_share)))
    try:
        click_canvas(driver, 60, 83)                   # "Looks"
        wait_until_given(b, changes=2)
        wait_for_guest(b, lambda d: canvas_rows(d) == looks, 20_000_000)
        driver.set_window_size(1100, 1000)          # the page and the whole screen
        driver.execute_script("window.scrollTo(0, 0)")
        b.screenshot("screen-scratch")
    finally:
        b.call(lambda wb: wb.stop("s1"))
