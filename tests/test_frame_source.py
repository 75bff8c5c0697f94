"""Where a frame stands in its source (space/frame_source.py), on processes stepped by the
debugger (space/debugger.py) in Squeak 2.2 (BlockContexts) and PharoCandle (closures)."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.space import debugger
from ozvm.space.frame_source import frame_source
from ozvm.vm import VM

DEMO = ("ozDemo\n\t| a b |\n\ta := 3.\n\tb := a + 4.\n\ta := a * b.\n"
        "\t#(1 2) do: [:x | b := b + x].\n\t^ a - b")


def _marked(view) -> str:
    """The source with the span in [brackets]."""
    s, (i, j) = view.source, view.span
    return s[:i] + "[" + s[i:j] + "]" + s[j:]


@pytest.mark.parametrize("image,root", [("squeak2.2-mini.image", "Object"),
                                        ("pharocandle.image", "PCObject")])
def test_steps_are_shown_where_they_stand(image, root):
    space = VM().load(image_path(image))
    space.install(space.mirror_on(space.class_named(root)), DEMO)
    proc = space.create_process("nil ozDemo", start=False)
    top = debugger.step_into(proc)
    view = frame_source(top)
    # Squeak 2.2 keeps the source in its .changes; PharoCandle has none: decompiled
    assert (view.origin, view.source == DEMO) in (("source", True), ("decompiled", False))
    assert view.next == "send #+" and "[+] 4" in _marked(view)
    # the do-it below stands in its send of ozDemo
    below = frame_source(proc.frames()[1], top=False)
    assert below.next == "send #ozDemo" and "[ozDemo]" in _marked(below)
    view = frame_source(debugger.step_over(proc))
    assert view.next == "send #*" and "[*]" in _marked(view)
    view = frame_source(debugger.step_over(proc))
    assert view.next == "send #do:" and "[do:] [:" in _marked(view)
    do_at = view.span[0]
    block = debugger.step_through(proc)             # into the block the frame made
    view = frame_source(block)
    assert view.next == "send #+" and view.span[0] > do_at       # the block's +, not a + 4
    assert view.source[view.span[0]:view.span[1]] == "+"
    debugger.run_to_end(proc, block)
    while "ozDemo" not in debugger.control.describe_stack(space, proc.frames()[0].obj, 1)[0]:
        debugger.step_over(proc)
    view = frame_source(proc.frames()[0])
    if view.next == "send #-":
        assert "[-]" in _marked(view)
        view = frame_source(debugger.step_over(proc))
    assert view.next == "return" and "[^]" in _marked(view)


def test_a_frame_without_source_is_decompiled():
    space = VM().load(image_path("squeak2.2-mini.image"))
    proc = space.create_process("#(3 1 2) asSortedCollection asArray", start=False)
    top = debugger.step_into(proc)
    view = frame_source(top)
    assert view.origin == "decompiled" and view.span is not None
    assert view.next.startswith("send #") and view.source[view.span[0]:view.span[1]] in view.next
