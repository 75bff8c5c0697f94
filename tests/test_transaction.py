"""`with space.transaction():` undoes every change of a block that raises: membrane writes,
installed methods, guest code's side effects, become:, new globals. The proof is the saved
file: byte for byte the one saved before the transaction."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.space.objectspace import Symbol
from ozvm.vm import VM


class Abort(Exception):
    pass


def saved_bytes(space, tmp_path, name):
    path = tmp_path / name
    space.save(str(path))
    return path.read_bytes()


def test_rollback_restores_the_image_exactly(tmp_path):
    space = VM().load(image_path("squeak2.2-mini.image"))
    assert space.print_string("3 + 4", timeout=60) == "7"          # the interpreter is running
    before = saved_bytes(space, tmp_path, "before.image")
    obj = space.class_named("Object")
    arr = space.mirror_on(space.global_named("Smalltalk")).get_class()
    with pytest.raises(Abort):
        with space.transaction():
            space.install(obj, "ozTransactionProbe ^ 42", "oz")
            assert space.print_string("3 ozTransactionProbe", timeout=60) == "42"
            space.print_string("Smalltalk at: #OzZork put: (Array new: 1000)", timeout=60)
            space.print_string("#(1 2 3) become: 'abc'", timeout=60)
            space.mirror_on(space.global_association("Transcript")).inst_var_at_put(2, 7)
            assert space.print_string("Smalltalk includesKey: #OzZork", timeout=60) == "true"
            raise Abort()
    assert saved_bytes(space, tmp_path, "after.image") == before
    assert arr.name() == "SystemDictionary"
    assert space.print_string("Smalltalk includesKey: #OzZork", timeout=60) == "false"
    assert space.print_string("3 respondsTo: #ozTransactionProbe", timeout=60) == "false"
    assert space.print_string("Transcript class name", timeout=60) != "7"


def test_commit_keeps_the_changes_and_nesting(tmp_path):
    space = VM().load(image_path("pharocandle.image"))
    cls = space.class_named("PCObject")
    with space.transaction():
        space.install(cls, "ozKept ^ 1")
        with pytest.raises(Abort):
            with space.transaction():
                space.install(cls, "ozDropped ^ 2")
                raise Abort()
    methods = space.mirror_on(cls)
    assert methods.compiled_method_at("ozKept") is not None
    assert methods.compiled_method_at("ozDropped") is None
    assert space.evaluate("3 ozKept", timeout_ms=20000).to_local() == 1


def test_rollback_undoes_logged_source(tmp_path):
    from conftest import oracle_path
    space = VM().load(oracle_path("squeak2.2-mini-oracle.image"))
    with pytest.raises(Abort):
        with space.transaction():
            space.install(space.class_named("Object"), "ozLoggedThenDropped ^ 1", "oz")
            assert space.sources.added
            raise Abort()
    space.save(str(tmp_path / "out.image"))
    assert not (tmp_path / "out.changes").exists()
    assert space.intern_symbol("ozSymbolAfter") is space.intern_symbol("ozSymbolAfter")
    assert space.to_local(space.from_local(Symbol("ozSymbolAfter"))) == "ozSymbolAfter"
