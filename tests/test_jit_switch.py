"""The translation tier's switch (docs/jit.md "Switches"): OZ_JIT read in one place
(interp/jit.py), its default (jit.DEFAULT_JIT, used when OZ_JIT is unset), `oz --no-jit`
and an interpreter's own switch (Interpreter.use_tier)."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm import cli
from ozvm.interp import jit as J
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace


def test_setting_values():
    assert J.setting("0") is None and J.setting("off") is None and J.setting("False") is None
    assert J.setting("always") == 0
    assert J.setting("on") == J.setting("1") == J.setting(" ON ") == J.DEFAULT_THRESHOLD
    assert J.setting("50") == 50


@pytest.mark.parametrize("default", ["off", "on"])
def test_unset_or_empty_takes_the_default(monkeypatch, default):
    monkeypatch.setattr(J, "DEFAULT_JIT", default)
    expected = None if default == "off" else J.DEFAULT_THRESHOLD
    monkeypatch.delenv("OZ_JIT", raising=False)
    assert J.setting() == expected and not J.interpreter_only()
    monkeypatch.setenv("OZ_JIT", "")
    assert J.setting() == expected and not J.interpreter_only()
    monkeypatch.setenv("OZ_JIT", "off")
    assert J.setting() is None and J.interpreter_only()
    monkeypatch.setenv("OZ_JIT", "always")
    assert J.setting() == 0 and not J.interpreter_only()


@pytest.mark.parametrize("default", ["off", "on"])
def test_an_interpreter_takes_the_setting_and_its_own_switch(monkeypatch, default):
    monkeypatch.setattr(J, "DEFAULT_JIT", default)
    monkeypatch.delenv("OZ_JIT", raising=False)
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    interp = X.interpreter_for(space)
    assert (interp.jit is None) == (default == "off")
    interp.use_tier("always")
    assert interp.jit.threshold == 0
    assert X.print_string(space, "(1 to: 10) inject: 0 into: [:a :b | a + b]") == "55"
    assert interp.jit.translated > 0
    interp.use_tier("off")
    assert interp.jit is None
    assert X.print_string(space, "3 + 4") == "7"
    monkeypatch.setenv("OZ_JIT", "25")
    interp.use_tier()
    assert interp.jit.threshold == 25


def test_no_jit_flag_turns_the_tier_off_for_what_follows(monkeypatch, capsys):
    monkeypatch.setattr(J, "DEFAULT_JIT", "on")
    monkeypatch.setenv("OZ_JIT", "always")
    assert cli.main(["--no-jit", "info", image_path("squeak2.2-mini.image")]) == 0
    capsys.readouterr()
    assert J.interpreter_only() and J.setting() is None
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    assert X.interpreter_for(space).jit is None
