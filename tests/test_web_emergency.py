"""`oz serve --emergency` in headless Chromium: the scriptable Squeak 2.2 oracle image with
`String>>withBlanksTrimmed` broken fails at once; the emergency kernel takes over and the
failing process opens in the debugger page; the healthy method is installed (API), the
failing frame restarted and the process resumed from the page: the image writes what
squeak-vm writes for the healthy image (as tests/test_emergency.py does from Python)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import oracle_path
from test_emergency import ORACLE, healthy_source, oracle_copy, oracle_out, run_oracle
from test_web_debugging import _by, _text
from web_support import Bench

from ozvm.space import execution

HERE = os.path.dirname(os.path.abspath(__file__))

EXPRESSIONS = ["3 + 4", "   100 factorial printString size   ", "'  hello world  ' withBlanksTrimmed"]


@pytest.fixture
def emergency_bench(tmp_path):
    from ozvm.web.pages.emergency import EmergencyWorkbench
    from ozvm.web.server import Server
    path = oracle_copy(tmp_path, EXPRESSIONS, broken=True)
    server = Server([path], port=0, workbench=EmergencyWorkbench(),
                    setup=EmergencyWorkbench.take_over).start()
    b = Bench(server)
    try:
        yield b
    finally:
        b.close()


def _kernel(bench):
    status, answer = bench.http("GET", "/api/emergency", json_answer=True)
    assert status == 200
    return answer["kernels"][0]


def _until(bench, condition, budget):
    """Poll until condition() holds; fail once the guest ran `budget` bytecodes without it."""
    count = lambda: bench.call(lambda wb: execution.interpreter_for(wb.space("s1")).bytecodes)
    start = count()

    def done(_driver):
        if condition():
            return True
        assert count() - start < budget, "not done within %d bytecodes" % budget
        return False
    bench.wait(done, timeout=3600)


def test_a_failing_image_opens_in_the_debugger_and_is_repaired(emergency_bench, tmp_path):
    (tmp_path / "e.txt").write_text("".join(e + "\n" for e in EXPRESSIONS))
    healthy = run_oracle(oracle_path(ORACLE), tmp_path / "e.txt")       # squeak-vm's answers
    b = emergency_bench
    _until(b, lambda: _kernel(b)["state"] == "failed", 50_000_000)
    kernel = _kernel(b)
    assert "isSeperator" in kernel["failure"] and kernel["failure"].startswith("error")
    driver = b.open("/emergency")           # leads to the failing process's debugger
    b.wait(lambda d: "/debug/s1/" in d.current_url)
    assert "isSeperator" in _text(driver, "emergency")
    assert _text(driver, "frame-3").endswith("String>>withBlanksTrimmed")
    b.screenshot("emergency")
    # the fix, through the API (the workbench's browser page edits methods the same way)
    b.call(lambda wb: wb.space("s1").install(wb.space("s1").class_named("String"),
                                             healthy_source("withBlanksTrimmed")))
    driver.find_element(_by("ID"), "frame-3").click()
    b.wait(lambda d: "withBlanksTrimmed" in _text(d, "source"))
    driver.find_element(_by("NAME"), "restart").click()
    b.wait(lambda d: "restarted" in _text(d, "message"))
    assert _text(driver, "frame-0").endswith("String>>withBlanksTrimmed")
    driver.find_element(_by("NAME"), "proceed").click()
    b.wait(lambda d: "resumed" in _text(d, "message"))
    _until(b, lambda: _kernel(b)["state"] == "quit", 50_000_000)
    assert oracle_out(tmp_path) == healthy


def test_oz_serve_emergency_option():
    r = subprocess.run([sys.executable, "-m", "ozvm.cli", "serve", "--help"], capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "src")))
    assert r.returncode == 0 and "--emergency" in r.stdout


def test_pass_lets_the_image_handle_its_error(emergency_bench, tmp_path):
    """`pass` (API): the image's own debugger entry runs, as on a real VM: the oracle runner
    writes its ERROR line and quits, as `oz run` without --emergency does."""
    b = emergency_bench
    _until(b, lambda: _kernel(b)["state"] == "failed", 50_000_000)
    pid = _kernel(b)["debug"].rsplit("/", 1)[1]
    status, answer = b.http("POST", "/api/debug/s1/%s/pass" % pid, {}, json_answer=True)
    assert status == 200 and "passed" in answer["message"]
    _until(b, lambda: _kernel(b)["state"] == "quit", 50_000_000)
    assert oracle_out(tmp_path) == [("ERROR", "(runner)", "Message not understood: isSeperator")]
    # pass is only for a process the emergency kernel took over
    assert b.http("POST", "/api/debug/s1/%s/pass" % pid, {})[0] == 400
