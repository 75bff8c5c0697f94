"""`oz bench serve`: the live screen's rate. `oz serve` runs in a process of its own with an
image whose Display a guest changes at a known rate (a loop compiled by ozvm into the served
space through the browser page's accept: it reverses a square of the Display, then waits on
a Delay), run continuously from the spaces page; a WebSocket client in this process, as the
page does, receives the live screen's updates and acknowledges each. It counts the updates
received per second beside the guest's own frames per second (read through the inspector's
evaluate), and reports the machine's load.

    figures = bench_screen(image, seconds=10, interval_ms=20)
    print("\\n".join(report(figures)))
"""
from __future__ import annotations

import html
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from ..errors import OzError

DRAW_METHOD = """ozBenchDraw: ms
	"oz bench serve's guest: a square of the Display reversed every ms milliseconds"
	| n |
	n := 0.
	[true] whileTrue: [
		Display reverse: (0 @ 0 extent: 32 @ 32).
		n := n + 1.
		Smalltalk at: #OzBenchFrames put: n.
		(Delay forMilliseconds: ms) wait]"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Served:
    """`oz serve IMAGE` in a child process, and HTTP requests to it."""

    def __init__(self, image: str):
        self.port = _free_port()
        code = "import sys; from ozvm.cli import main; sys.exit(main(sys.argv[1:]))"
        self.proc = subprocess.Popen([sys.executable, "-c", code, "serve", image, "--port",
                                      str(self.port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        if "ozvm workbench:" not in line:
            self.stop()
            raise OzError("oz serve did not start: %s" % line.strip())
        self.base = "http://127.0.0.1:%d" % self.port
        for _ in range(600):                # it prints its URL, then starts listening
            try:
                urllib.request.urlopen(self.base + "/api/spaces", timeout=60).close()
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        else:
            self.stop()
            raise OzError("oz serve does not answer on port %d" % self.port)

    def post(self, path: str, data: dict) -> str:
        body = urllib.parse.urlencode(data).encode()
        try:
            with urllib.request.urlopen(self.base + path, data=body, timeout=300) as answer:
                return answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            found = re.search(r'id="(?:error-message|evaluate-error|compile-error)"[^>]*>([^<]*)', text)
            raise OzError("%s answered %d: %s" % (path, e.code, html.unescape(
                found.group(1) if found else text[:300]).strip())) from None
        except urllib.error.URLError as e:
            raise OzError("%s: %s" % (path, e.reason)) from None

    def evaluate(self, source: str) -> int:
        text = self.post("/inspect/s1/nil/evaluate", {"source": source})
        found = re.search(r"answered (-?\d+)", text)
        if found is None:
            raise OzError("%r did not answer an integer" % source)
        return int(found.group(1))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def bench_screen(image: str, seconds: float = 10.0, interval_ms: int = 20, share: float = 1.0,
                 warmup: float = 2.0) -> dict:
    """Serve `image` with the drawing guest running; receive its live screen for `seconds`
    (after `warmup` seconds) as a page does; answer the figures."""
    from websockets.sync.client import connect
    served = _Served(image)
    try:
        served.post("/browse/s1/accept", {"cls": "Object", "prot": "oz bench", "source": DRAW_METHOD})
        # above the image's user processes (its UI loop), below its timer process
        served.evaluate("[nil ozBenchDraw: %d] newProcess priority: Processor userSchedulingPriority "
                        "+ 1; resume. 0" % interval_ms)
        served.post("/spaces/s1/run", {"share": str(share)})
        with connect("ws://127.0.0.1:%d/screen/s1/live" % served.port, max_size=None) as ws:
            def receive() -> int:
                while True:
                    message = ws.recv(timeout=120)
                    if isinstance(message, str):
                        error = json.loads(message).get("error")
                        if error:
                            raise OzError("the live screen answered: %s" % error)
                        continue
                    ws.send('{"type": "ack"}')
                    return len(message)
            receive()                                   # the whole screen first
            end = time.monotonic() + warmup
            while time.monotonic() < end:
                receive()
            frames0 = served.evaluate("Smalltalk at: #OzBenchFrames ifAbsent: [0]")
            start = time.monotonic()
            count = size = 0
            while time.monotonic() - start < seconds:
                size += receive()
                count += 1
            elapsed = time.monotonic() - start
            frames = served.evaluate("Smalltalk at: #OzBenchFrames ifAbsent: [0]") - frames0
    finally:
        served.stop()
    return {"image": os.path.basename(image), "seconds": elapsed, "updates": count,
            "updates_per_second": count / elapsed, "frames": frames,
            "frames_per_second": frames / elapsed, "interval_ms": interval_ms, "share": share,
            "bytes_per_update": size / count if count else 0.0,
            "load": os.getloadavg()[0], "cores": os.cpu_count(),
            "python": "%s %s" % (platform.python_implementation(), platform.python_version())}


def report(figures: dict) -> list:
    f = figures
    return [
        "oz bench serve %s: a guest reverses a 32x32 square of the Display every %d ms "
        "(the space run at CPU share %g); a WebSocket client received the live screen for %.1f s"
        % (f["image"], f["interval_ms"], f["share"], f["seconds"]),
        "the guest drew %.1f frames/s; the page received %.1f updates/s (%.0f %% of the "
        "guest's frames), %.0f bytes an update"
        % (f["frames_per_second"], f["updates_per_second"],
           100.0 * f["updates"] / f["frames"] if f["frames"] else 0.0, f["bytes_per_update"]),
        "load average %.1f on %d cores; server and client on %s" % (f["load"], f["cores"], f["python"]),
    ]
