"""The workbench with Scratch 1.4's image (5.6 MB) loaded: every page answers (status 200)
in Chromium and without it. How long each takes is measured and written to
tests/artifacts/timings-scratch.txt, never asserted (the machine's load decides it)."""
from __future__ import annotations

import os
import re
import time

import pytest

from conftest import scratch_image
from web_support import ARTIFACTS, served

bench = served(scratch_image)

pytestmark = pytest.mark.slow


def test_every_page_answers_with_scratch_loaded(bench):
    status, text = bench.http("POST", "/inspect/s1/nil/evaluate", {"source": "ScratchFrameMorph"})
    assert status == 200
    cls_oid = re.search(r"/inspect/s1/(o\d+)/evaluate", text).group(1)
    pages = [
        "/",
        "/browse/s1",
        "/browse/s1?cat=Scratch-UI-Panes",
        "/browse/s1?cls=ScratchFrameMorph",
        "/browse/s1?cls=ScratchFrameMorph&sel=addSpriteMorph",
        "/browse/s1?cls=ScratchFrameMorph&sel=addSpriteMorph&view=bytecodes",
        "/browse/s1?cls=ScratchFrameMorph&view=definition",
        "/browse/s1?cls=ScratchFrameMorph&view=hierarchy",
        "/browse/s1/query/implementors?name=printOn:",
        "/browse/s1/query/senders?name=printOn:",
        "/browse/s1/query/references?name=ScratchFrameMorph",
        "/browse/s1/search?q=sprite",
        "/filein/s1",
        "/inspect/s1",
        "/inspect/s1/%s" % cls_oid,
        "/api/inspect/s1/%s/print" % cls_oid,
        "/diff",
    ]
    rows = []
    for path in pages:
        for attempt in ("first", "again"):        # the first answer may build an index
            start = time.perf_counter()
            status, text = bench.http("GET", path)
            rows.append((path, attempt, time.perf_counter() - start))
            assert status == 200, (path, text[:300])
    bench.open("/browse/s1?cls=ScratchFrameMorph&sel=addSpriteMorph")
    bench.screenshot("browser-scratch")
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, "timings-scratch.txt"), "w") as out:
        out.write("seconds  attempt  page (Scratch.image loaded)\n")
        for path, attempt, seconds in rows:
            out.write("%7.3f  %-7s  %s\n" % (seconds, attempt, path))
