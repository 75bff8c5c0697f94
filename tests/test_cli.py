"""The `oz` command line: every inspection command on the shared images, readable output,
one-line errors with exit code 1 (tracebacks only with --debug)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from conftest import image_path
from ozvm.cli import build_parser, main, tool_modules


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_tool_module_loads():
    mods = dict(tool_modules())
    assert "cmd_inspect" in mods and not isinstance(mods["cmd_inspect"], Exception)
    choices = build_parser()._subparsers._group_actions[0].choices
    for name in ("info", "classes", "browse", "processes", "save", "bench", "demo"):
        assert name in choices


def test_info(capsys, v3_name):
    code, out, err = run(capsys, "info", image_path(v3_name), "--top", "5")
    assert code == 0 and err == ""
    assert "format" in out and ("6502" in out or "6505" in out)
    assert "memory by class (top 5" in out and "special objects" in out
    assert "nil" in out and "class_smallinteger" in out
    lines = out.splitlines()
    header = next(i for i, l in enumerate(lines) if l.strip().startswith("class") and "objects" in l)
    # the memory table is aligned: the numbers end in the same column
    rows = lines[header + 2:header + 7]
    ends = {len(r) for r in rows}
    assert len(ends) == 1, rows


def test_info_mini_counts(capsys):
    code, out, _ = run(capsys, "info", image_path("squeak2.2-mini.image"))
    assert "17692 reachable, 726592 bytes" in out
    assert "CompiledMethod" in out


def test_classes(capsys):
    code, out, _ = run(capsys, "classes", image_path("squeak2.2-mini.image"), "Sym*")
    assert code == 0
    assert "Symbol" in out and "String" in out and "Collections-Text" in out
    assert out.strip().endswith("1 classes")
    code, out, _ = run(capsys, "classes", image_path("pharocandle.image"))
    assert code == 0 and "PCObject" in out and "47 classes" in out
    code, out, err = run(capsys, "classes", image_path("pharocandle.image"), "NoSuchThing")
    assert code == 1 and "no class matches" in err


def test_browse_class(capsys):
    code, out, _ = run(capsys, "browse", image_path("squeak2.2-mini.image"), "Symbol")
    assert code == 0
    assert out.startswith("String variableByteSubclass: #Symbol")
    assert "classVariableNames: 'OtherTable SelectorTables SingleCharSymbols'" in out
    assert "category: 'Collections-Text'" in out
    assert "intern:" in out and "Symbol class: 10 selectors" in out
    code, out, _ = run(capsys, "browse", image_path("pharocandle.image"), "PCProcess")
    assert "instanceVariableNames: 'nextLink suspendedContext priority myList threadId errorHandler'" in out \
        or "priority" in out


def test_browse_method(capsys):
    code, out, _ = run(capsys, "browse", image_path("squeak2.2-mini.image"), "Symbol class", "intern:")
    assert code == 0
    assert "Symbol class>>intern:" in out and "1 args, 9 temps, 15 literals" in out
    assert "push global SingleCharSymbols" in out
    assert "send copyWith: (1 arg)" in out and "return top" in out
    code, out, _ = run(capsys, "browse", image_path("pharocandle.image"), "PCString", "asSymbol")
    assert "push closure (1 args, 0 copied)" in out and "send allInstancesDo: (1 arg)" in out
    _, by_pair, _ = run(capsys, "browse", image_path("squeak2.2-mini.image"), "Symbol class", "intern:")
    _, by_path, _ = run(capsys, "browse", image_path("squeak2.2-mini.image"), "Symbol class>>intern:")
    assert by_pair == by_path and "push global SingleCharSymbols" in by_path
    code, out, _ = run(capsys, "browse", image_path("pharocandle.image"), "PCArray", "printString")
    assert "(inherited from PCObject)" in out


def test_processes(capsys):
    code, out, _ = run(capsys, "processes", image_path("squeak2.2-mini.image"))
    assert code == 0
    assert "SystemDictionary>>snapshot:andQuit:" in out
    assert out.count("priority") == 5 and out.strip().endswith("5 processes")
    assert "[] in BlockContext>>newProcess" in out and "waiting on a Semaphore" in out
    code, out, _ = run(capsys, "processes", image_path("pharocandle.image"))
    assert "[] in PCProcessorScheduler>>installStartProcess" in out


def test_save_both_orders(capsys, tmp_path):
    src = image_path("pharocandle.image")
    digest = hashlib.sha256(open(src, "rb").read()).hexdigest()
    for flag, magic in (("--big-endian", (6505).to_bytes(4, "big")), ("--little-endian", (6505).to_bytes(4, "little"))):
        out_path = tmp_path / ("x%s.image" % flag)
        code, out, _ = run(capsys, "save", src, out_path, flag)
        assert code == 0 and "saved" in out
        assert open(str(out_path), "rb").read(4) == magic
        code, out, _ = run(capsys, "info", out_path)
        assert code == 0 and ("big-endian" if "big" in flag else "little-endian") in out
    assert hashlib.sha256(open(src, "rb").read()).hexdigest() == digest
    code, _, err = run(capsys, "save", src, src)
    assert code == 1 and "never modified" in err


def test_bench_load(capsys):
    code, out, _ = run(capsys, "bench", "load", image_path("pharocandle.image"), "--repeat", "2")
    assert code == 0 and "load (read + decode)" in out and "save (encode" in out


@pytest.mark.parametrize("argv,message", [
    (["info", "/nonexistent/x.image"], "cannot read image file"),
    (["info", "PRESPUR"], "is not supported"),
    (["browse", "CANDLE", "NoSuchClass"], "no class named 'NoSuchClass'"),
    (["browse", "CANDLE", "PCObject", "noSuchSelector"], "does not understand #noSuchSelector"),
])
def test_errors_are_one_line(capsys, tmp_path, argv, message):
    prerelease = tmp_path / "prerelease-spur.image"       # Spur 6519: recognised, refused
    prerelease.write_bytes((6519).to_bytes(4, "little")
                           + open(image_path("spur32-headless.image"), "rb").read()[4:])
    argv = [str(prerelease) if a == "PRESPUR" else
            image_path("pharocandle.image") if a == "CANDLE" else a for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("oz: error: ") and message in err
    assert "Traceback" not in err


def test_demo_placeholder_until_a_tool_provides_it(capsys, monkeypatch):
    import ozvm.cli as cli
    mods = [(n, m) for n, m in cli.tool_modules() if n != "cmd_demo"]
    monkeypatch.setattr(cli, "tool_modules", lambda: mods)
    code, out, err = run(capsys, "demo")
    assert code == 1 and err.startswith("oz: error: ") and "not available yet" in err
    assert err.count("\n") == 1


def test_a_broken_tool_module_does_not_break_the_others(capsys, monkeypatch):
    import ozvm.cli as cli
    mods = cli.tool_modules() + [("cmd_broken", ImportError("no module named nowhere"))]
    monkeypatch.setattr(cli, "tool_modules", lambda: mods)
    code, out, _ = run(capsys, "classes", image_path("pharocandle.image"), "PCObj*")
    assert code == 0 and "PCObject" in out
    code, out, err = run(capsys, "--debug", "classes", image_path("pharocandle.image"), "PCObj*")
    assert "tools/cmd_broken.py not loaded" in err


def test_truncated_image_error_names_offset(capsys, tmp_path):
    bad = tmp_path / "t.image"
    bad.write_bytes(open(image_path("pharocandle.image"), "rb").read()[:3000])
    code, _, err = run(capsys, "info", bad)
    assert code == 1 and "at offset 8: truncated image" in err and err.count("\n") == 1
    code, _, err = run(capsys, "--debug", "info", bad)
    assert code == 1 and "Traceback" in err


def test_console_script(tmp_path):
    oz = os.path.join(os.path.dirname(sys.executable), "oz")
    if not os.path.exists(oz):
        pytest.skip("oz console script not installed in this environment")
    r = subprocess.run([oz, "info", image_path("pharocandle.image"), "--top", "3"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "PCCompiledMethod" in r.stdout
    r = subprocess.run([oz, "info", str(tmp_path / "missing.image")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stderr.count("\n") == 1
