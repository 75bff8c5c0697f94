"""The bootstrapper: kernel sources, the built space's structure, determinism, startup."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from conftest import squeak_vm
from ozvm import bootstrap
from ozvm.bootstrap.builder import COMPACT_CLASSES, SPECIAL_SELECTORS
from ozvm.space.symbol_tables import kernel_string_hash
from ozvm.bootstrap.kernel_source import KernelSourceError, kernel_directory, read_kernel
from ozvm.image.formats import read_image_bytes
from ozvm.image.v3_writer import encode_image
from ozvm.memory import specials as S
from ozvm.memory.objects import format_compact_index, format_inst_size, format_inst_spec
from ozvm.space.objectspace import ObjectSpace

KERNEL_CLASSES = [
    "Object", "UndefinedObject", "Boolean", "True", "False", "Behavior", "ClassDescription",
    "Class", "Metaclass", "SmallInteger", "LargePositiveInteger", "LargeNegativeInteger",
    "Float", "Fraction", "Character", "Array", "ByteArray", "String", "Symbol",
    "OrderedCollection", "Dictionary", "Set", "Interval", "ReadStream", "WriteStream",
    "CompiledMethod", "MethodContext", "BlockClosure", "Message", "Process",
    "ProcessorScheduler", "Semaphore", "Delay", "Exception", "Error", "ZeroDivide",
    "MessageNotUnderstood", "TranscriptStream", "SystemDictionary",
]


@pytest.fixture(scope="module")
def space():
    return bootstrap.build(expressions=["3 + 4", "1/0"])


def text(obj):
    return obj.bytes.decode("latin-1")


# --- the sources -----------------------------------------------------------------------------

def test_kernel_sources_define_the_kernel_classes_with_comments():
    kernel = read_kernel()
    names = [c.name for c in kernel.classes]
    assert set(KERNEL_CLASSES) <= set(names)
    assert names[0] == "Object"
    position = {n: i for i, n in enumerate(names)}
    for c in kernel.classes:
        assert c.comment, c.name
        if c.superclass:
            assert position[c.superclass] < position[c.name]
    assert len(kernel.methods) > 700


def test_kernel_source_errors_name_file_and_line(tmp_path):
    (tmp_path / "A.st").write_text("nil subclass: #Object\n    instanceVariableNames: ''\n"
                                   "    classVariableNames: ''\n    comment: 'root'\n\n"
                                   "Object foo\n")
    with pytest.raises(KernelSourceError, match=r"A.st:6: expected a comment"):
        read_kernel(str(tmp_path))
    (tmp_path / "A.st").write_text("Nothing subclass: #Object\n    instanceVariableNames: ''\n"
                                   "    classVariableNames: ''\n    comment: 'root'\n")
    with pytest.raises(KernelSourceError, match="unknown superclass Nothing"):
        read_kernel(str(tmp_path))


def test_a_method_that_does_not_compile_is_reported_with_its_place(tmp_path):
    for name in os.listdir(kernel_directory()):
        if name.endswith(".st"):
            (tmp_path / name).write_text(open(os.path.join(kernel_directory(), name)).read())
    (tmp_path / "Broken.st").write_text("Object >> broken\n    ^ 3 +\n")
    with pytest.raises(bootstrap.BootstrapError, match=r"Broken.st:1:"):
        bootstrap.build(str(tmp_path), expressions=[])


# --- the built space -----------------------------------------------------------------------------

def test_metaclass_and_metaclass_class_are_each_others_class(space):
    meta = space.class_named("Metaclass")
    assert meta.cls.cls is meta
    assert space.class_named("Object").cls.cls is meta
    assert space.class_named("Object class").ptrs[0] is space.class_named("Class")
    assert space.class_named("Object").ptrs[0] is space.nil


def test_layout_discovers_the_kernel_shapes(space):
    layout = space.layout
    assert layout.metaclass is space.class_named("Metaclass")
    assert layout.class_class is space.class_named("Class")
    assert layout.object_class is space.class_named("Object")
    assert layout.all_inst_var_names(space.class_named("Class")) == [
        "superclass", "methodDict", "format", "instanceVariables", "name", "classPool", "comment"]
    assert layout.class_name_of(space.class_named("Point")) == "Point"
    assert layout.class_name_of(space.class_named("Point").cls) == "Point class"
    assert layout.inst_var_names(space.class_named("MethodContext")) == [
        "sender", "pc", "stackp", "method", "closureOrNil", "receiver"]


def test_instance_formats(space):
    def spec(name):
        return format_inst_spec(space.class_named(name).ptrs[2])
    assert spec("Object") == 0 and spec("Point") == 1 and spec("Array") == 2
    assert spec("MethodContext") == 3 and spec("MethodDictionary") == 3
    assert spec("Float") == 6 and spec("String") == 8 and spec("LargePositiveInteger") == 8
    assert spec("CompiledMethod") == 12
    assert format_inst_size(space.class_named("Process").ptrs[2]) == 5
    for name, index in COMPACT_CLASSES.items():
        assert format_compact_index(space.class_named(name).ptrs[2]) == index
        assert space.compact_class_at(index) is space.class_named(name)


def test_special_objects(space):
    sp = space.specials.ptrs
    assert len(sp) == 56
    assert sp[S.NIL].cls is space.class_named("UndefinedObject")
    assert sp[S.TRUE].cls is space.class_named("True")
    assert sp[S.FALSE].cls is space.class_named("False")
    for index, name in ((S.CLASS_SMALLINTEGER, "SmallInteger"), (S.CLASS_STRING, "String"),
                        (S.CLASS_ARRAY, "Array"), (S.CLASS_FLOAT, "Float"),
                        (S.CLASS_METHOD_CONTEXT, "MethodContext"), (S.CLASS_POINT, "Point"),
                        (S.CLASS_LARGE_POSITIVE_INTEGER, "LargePositiveInteger"),
                        (S.CLASS_MESSAGE, "Message"), (S.CLASS_COMPILED_METHOD, "CompiledMethod"),
                        (S.CLASS_SEMAPHORE, "Semaphore"), (S.CLASS_CHARACTER, "Character"),
                        (S.CLASS_BYTE_ARRAY, "ByteArray"), (S.CLASS_PROCESS, "Process"),
                        (S.CLASS_BLOCK_CLOSURE, "BlockClosure"),
                        (S.CLASS_LARGE_NEGATIVE_INTEGER, "LargeNegativeInteger")):
        assert sp[index] is space.class_named(name), name
    for index, sel in ((S.SELECTOR_DOES_NOT_UNDERSTAND, "doesNotUnderstand:"),
                       (S.SELECTOR_CANNOT_RETURN, "cannotReturn:"),
                       (S.SELECTOR_MUST_BE_BOOLEAN, "mustBeBoolean"),
                       (S.SELECTOR_CANNOT_INTERPRET, "cannotInterpret:"),
                       (S.SELECTOR_ABOUT_TO_RETURN, "aboutToReturn:through:"),
                       (S.SELECTOR_RUN_WITH_IN, "run:with:in:")):
        assert sp[index] is space.symbol_named(sel)
    selectors = sp[S.SPECIAL_SELECTORS].ptrs
    assert [(text(s), n) for s, n in zip(selectors[0::2], selectors[1::2])] == SPECIAL_SELECTORS
    assert text(selectors[0]) == "+" and text(selectors[-2]) == "y"
    chars = sp[S.CHARACTER_TABLE].ptrs
    assert len(chars) == 256 and all(c.ptrs[0] == i for i, c in enumerate(chars))
    for index in (S.THE_TIMER_SEMAPHORE, S.THE_INTERRUPT_SEMAPHORE, S.THE_LOW_SPACE_SEMAPHORE):
        assert sp[index].cls is space.class_named("Semaphore")
    assert len(sp[S.EXTERNAL_OBJECTS_ARRAY].ptrs) == 20
    assert sp[S.SMALLTALK_DICTIONARY] is space.global_named("Smalltalk")


def test_globals_and_processor(space):
    assoc = space.special(S.SCHEDULER_ASSOCIATION)
    assert space.global_association("Processor") is assoc
    assert assoc.ptrs[1].cls is space.class_named("ProcessorScheduler")
    for name in KERNEL_CLASSES:
        assert space.global_named(name) is space.class_named(name)


def test_symbols_are_unique_and_in_the_symbol_table(space):
    symbol_class = space.class_named("Symbol")
    symbols = [o for o in space.heap.all_objects() if o.cls is symbol_class]
    names = [text(s) for s in symbols]
    assert len(names) == len(set(names))
    pool = symbol_class.ptrs[space.layout.class_pool]
    table = [a for a in pool.ptrs[1].ptrs if a is not space.nil][0].ptrs[1].ptrs
    for sym in symbols:
        i = kernel_string_hash(text(sym)) % len(table)
        while table[i] is not sym:
            assert table[i] is not space.nil, text(sym)
            i = (i + 1) % len(table)


def test_method_dictionaries_are_laid_out_as_the_vm_searches(space):
    point = space.class_named("Point")
    md = point.ptrs[1]
    size = len(md.ptrs) - 2
    assert size & (size - 1) == 0
    sel = space.symbol_named("dist:")
    i = sel.hash & (size - 1)
    while md.ptrs[2 + i] is not sel:
        i = (i + 1) & (size - 1)
    method = md.ptrs[1].ptrs[i]
    assert method.cls is space.class_named("CompiledMethod")
    assert method.ptrs[-1].ptrs[1] is point        # the class binding


def test_the_startup_process_runs_smalltalk_start(space):
    scheduler = space.special(S.SCHEDULER_ASSOCIATION).ptrs[1]
    process = scheduler.ptrs[1]
    ctx = process.ptrs[1]
    assert ctx.cls is space.class_named("MethodContext")
    assert ctx.ptrs[0] is space.nil and ctx.ptrs[5] is space.global_named("Smalltalk")
    method = ctx.ptrs[3]
    assert text(method.ptrs[-2]) == "start"
    assert ctx.ptrs[1] == (len(method.ptrs) - 1 + 1) * 4 + 1      # the first bytecode
    assert process.ptrs[2] == 4


# --- the image file -------------------------------------------------------------------------------

def test_build_is_deterministic():
    # (its speed is measured by `oz bench bootstrap`; tests do not time)
    first = encode_image(bootstrap.build().heap)
    second = encode_image(bootstrap.build().heap)
    assert first == second
    heap = read_image_bytes(first)
    assert heap.info.version == 6505
    again = ObjectSpace(heap)
    assert again.class_named("Float").ptrs[0] is again.class_named("Number")


def test_oz_bootstrap_writes_the_image(tmp_path):
    from ozvm.cli import main
    out = tmp_path / "k.image"
    assert main(["bootstrap", "-o", str(out), "--no-progress"]) == 0
    assert out.read_bytes() == encode_image(bootstrap.build().heap)


def _results(path):
    with open(path) as f:
        return f.read().splitlines()


def test_the_default_image_runs_its_startup_script_on_ozvm(tmp_path):
    from ozvm.space import execution
    image = tmp_path / "k.image"
    bootstrap.build().save(str(image))
    space = ObjectSpace.load(str(image))
    reason = execution.interpreter_for(space).run(deadline=time.monotonic() + 120)
    assert reason == "quit"
    lines = _results(tmp_path / "k.results.txt")
    assert lines[0] == "RESULT\t3 + 4\t7"
    assert "RESULT\t[1/0] on: ZeroDivide do: [:error | error messageText]\t'division by zero'" in lines
    assert lines[-1] == "DONE"


def test_the_default_image_runs_its_startup_script_on_squeak_vm(tmp_path):
    image = tmp_path / "k.image"
    bootstrap.build().save(str(image))
    run = subprocess.run([squeak_vm(), "-vm-display-null", "-vm-sound-null", str(image)],
                         cwd=str(tmp_path), stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=60)
    assert run.returncode == 0
    assert b"Hello from the ozvm kernel" in run.stdout           # the Transcript on stdout
    lines = _results(tmp_path / "k.results.txt")
    assert lines[0] == "RESULT\t3 + 4\t7"
    assert "RESULT\t100 factorial printString size\t158" in lines
    assert lines[-1] == "DONE"


def test_symbols_interned_from_the_host_are_found_by_the_guest():
    from ozvm.bootstrap.evaluation import print_string
    space = bootstrap.build(expressions=[])
    assert space.symbol_table().__class__.__name__ == "KernelSymbolTable"
    names = ["hostSymbol%d" % i for i in range(400)]          # enough to grow the table
    made = [space.intern_symbol(n) for n in names]
    assert [space.intern_symbol(n) for n in names] == made
    assert print_string(space, "('hostSymbol' , '399') asSymbol == #hostSymbol399") == "true"
    assert print_string(space, "(Symbol lookup: 'hostSymbol7') notNil") == "true"


def test_oz_bench_bootstrap_reports_time_and_size(capsys):
    from ozvm.cli import main
    assert main(["bench", "bootstrap", "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("bootstrap: ") and " s (best of 1" in out
    size = int(out.split("image ")[1].split(" bytes")[0])
    assert size == len(encode_image(bootstrap.build().heap))


def test_the_transcript_writes_to_the_hosts_stdout_on_ozvm(tmp_path):
    import sys
    image = tmp_path / "k.image"
    bootstrap.build().save(str(image))
    run = subprocess.run([sys.executable, "-c", "import sys; from ozvm.cli import main; "
                          "sys.exit(main(['run', sys.argv[1], '--timeout', '120']))", str(image)],
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=180)
    assert run.returncode == 0, run.stderr
    assert b"Hello from the ozvm kernel\n" in run.stdout


def test_startup_expressions_file(tmp_path):
    path = tmp_path / "script.txt"
    path.write_text('"a comment line"\n\n3 + 4\n#($a $ ) size\n')
    assert bootstrap.read_expressions(str(path)) == ["3 + 4", "#($a $ ) size"]
    path.write_text("'abc' includes: $ \n")
    assert bootstrap.read_expressions(str(path)) == ["'abc' includes: $ "]
    from ozvm.cli import main
    assert main(["bootstrap", "-o", str(tmp_path / "s.image"), "--expressions", str(path),
                 "--no-progress"]) == 0
