"""`oz prims IMAGE`: the primitives an image uses, and which ozvm lacks or fails on purpose."""
from __future__ import annotations

from conftest import image_path
from ozvm.cli import main
from ozvm.space.objectspace import ObjectSpace
from ozvm.tools.cmd_prims import primitive_usage, status


def test_usage_and_status_on_squeak22():
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    usage = primitive_usage(space)
    assert "SmallInteger>>+" in usage[1]
    assert "SystemDictionary>>snapshotPrimitive" in usage[97]
    assert status(1) == "yes" and status(264) == "yes"        # quick return: interpreter
    assert status(97) == "yes"                              # snapshot (prims/snapshot.py)
    assert status(540) == "MISSING"                         # AsyncFile is not implemented
    assert status(104) == "fails"                           # BitBlt drawLoop: headless, fails on purpose
    assert all(status(k) in ("yes", "fails", "MISSING") for k in usage)


def test_named_primitives_are_reported_by_module_and_name():
    space = ObjectSpace.load(image_path("pharocandle.image"))
    named = [k for k in primitive_usage(space) if isinstance(k, tuple)]
    assert named and all(status(k) == "yes" for k in named), named


def test_command_lists_the_missing_ones(capsys):
    assert main(["prims", image_path("squeak2.2-mini.image")]) == 0
    out = capsys.readouterr().out
    assert "540" in out and "MISSING" in out and "AsyncFile>>primClose:" in out
    assert "snapshotPrimitive" not in out
    assert "SmallInteger>>+" not in out                     # supported ones only with --all
    assert main(["prims", "--all", image_path("squeak2.2-mini.image")]) == 0
    assert "SmallInteger>>+" in capsys.readouterr().out


def test_bench_image_is_short_for_bench_tiny():
    from ozvm.cli import _bench_shorthand, build_parser
    import argparse
    parser = build_parser(False)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert _bench_shorthand(sub, ["bench", "x.image"]) == ["bench", "tiny", "x.image"]
    assert _bench_shorthand(sub, ["bench", "load", "x.image"]) == ["bench", "load", "x.image"]
    assert _bench_shorthand(sub, ["info", "x.image"]) == ["info", "x.image"]
