"""Image surgery: `oz diff`, `oz fileout`, `oz filein` and their API (space.diff, fileout,
filein) on the shared images; chunk format read as Squeak writes it."""
from __future__ import annotations

import os

import pytest

from conftest import image_path
from ozvm.cli import main
from ozvm.space.chunks import ChunkError, read_chunks
from ozvm.space.filein import FileInError
from ozvm.space.objectspace import ObjectSpace

MINI = "squeak2.2-mini.image"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- chunk format -----------------------------------------------------------------------------

def test_chunks_as_squeak_writes_them():
    text = ("'From Squeak 2.2 of Sept 23, 1998 on 1 January 1999 at 10:00:00 am'!\r\r"
            "Object subclass: #Foo\r\tinstanceVariableNames: 'a'\r\tclassVariableNames: ''\r"
            "\tpoolDictionaries: ''\r\tcategory: 'Foo-Bar'!\r\r"
            "!Foo methodsFor: 'it''s ok' stamp: 'ab 1/1/99 10:00'!\rbang\r\t^ 'wow!!'!\r"
            "two\r\t^ 2! !\r\r!Foo class methodsFor: 'creation'!\rnew\r\t^ super new! !\r"
            "!Foo commentStamp: 'x' prior: 0!\rA comment!\r")
    items = read_chunks(text, "foo.st")
    assert [i.kind for i in items] == ["doit", "doit", "methods", "methods", "comment"]
    assert items[1].chunk.text.startswith("Object subclass: #Foo\n")
    m = items[2]
    assert (m.class_name, m.meta, m.category) == ("Foo", False, "it's ok")
    assert [c.text for c in m.chunks] == ["\nbang\n\t^ 'wow!'", "\ntwo\n\t^ 2"]
    assert m.chunks[1].start() == (12, 1)
    # positions after a doubled ! are mapped back to the file
    bang = m.chunks[0]
    assert bang.position(bang.text.index("'")) == (11, 4)
    assert bang.position(len(bang.text) - 1) == (11, 10)
    assert (items[3].class_name, items[3].meta) == ("Foo", True)
    assert items[4].chunks[0].text == "\rA comment".replace("\r", "\n")


def test_chunk_format_errors_name_file_line_column():
    with pytest.raises(ChunkError) as e:
        read_chunks("3 + 4!\n\n  !Foo frobnicate!\n", "x.st")
    assert str(e.value).startswith("x.st:3:4: unsupported preamble")
    with pytest.raises(ChunkError) as e:
        read_chunks("!Foo methodsFor: 'x'!\nfoo ^ 1", "y.st")
    assert str(e.value).startswith("y.st:1:2: the methods of this section are not ended")


# --- file out, file in ------------------------------------------------------------------------

def test_fileout_filein_round_trip_leaves_the_image_equal(tmp_path):
    """A class filed out of an image and filed back into a copy of it gives the same
    methods (by content: bytecodes, header, literals), so `diff` finds nothing."""
    healthy = ObjectSpace.load(image_path(MINI))
    text = healthy.fileout("Point")
    assert text.startswith("Object subclass: #Point\r\tinstanceVariableNames: 'x y'\r")
    assert "\r!Point methodsFor: 'as yet unclassified'!\r" in text
    assert "\r!Point class methodsFor: 'as yet unclassified'!\r" in text
    path = tmp_path / "point.st"
    path.write_bytes(text.encode("latin-1"))
    copy = ObjectSpace.load(image_path(MINI))
    for sel in ("+", "x:y:"):
        cls = copy.class_named("Point") if sel == "+" else copy.class_named("Point class")
        copy.install(cls, "%s ^ nil" % ("+ p" if sel == "+" else "x: a y: b"))
    assert [str(e) for e in healthy.diff(copy).entries] == ["~ Point>>+", "~ Point class>>x:y:"]
    result = copy.filein(str(path))
    n = len(healthy.mirror_on(healthy.class_named("Point")).selectors()) + \
        len(healthy.mirror_on(healthy.class_named("Point class")).selectors())
    assert len(result.methods) == n and result.classes == ["Point"]
    assert not healthy.diff(copy), healthy.diff(copy).lines()


def test_filein_defines_classes_with_the_images_own_code():
    space = ObjectSpace.load(image_path(MINI))
    src = ("Object subclass: #OzFoo\n\tinstanceVariableNames: 'a b'\n\tclassVariableNames: 'Count'\n"
           "\tpoolDictionaries: ''\n\tcategory: 'Oz-Surgery'!\n\n"
           "OzFoo class\n\tinstanceVariableNames: 'made'!\n\n"
           "!OzFoo methodsFor: 'accessing'!\na\n\t^ a!\na: x\n\ta := x.\n\tCount := (Count ifNil: [0]) + 1! !\n\n"
           "!OzFoo class methodsFor: 'instance creation'!\nwith: x\n\tmade := true.\n\t^ self new a: x! !\n\n"
           "Smalltalk at: #OzGlobal put: (OzFoo with: 42)!\n")
    result = space.filein(["foo.st"], {"foo.st": src})
    assert result.classes == ["OzFoo", "OzFoo"] and result.doits == 1
    assert result.methods == ["OzFoo>>a", "OzFoo>>a:", "OzFoo class>>with:"]
    assert space.print_string("OzGlobal a") == "42"
    foo = space.mirror_on(space.class_named("OzFoo"))
    assert foo.category() == "Oz-Surgery" and foo.class_variable_names() == ["Count"]
    assert foo.class_side().instance_variable_names() == ["made"]
    assert space.print_string("SystemOrganization categoryOfElement: #OzFoo") == "#'Oz-Surgery'" or \
        space.print_string("(SystemOrganization categoryOfElement: #OzFoo) asString") == "'Oz-Surgery'"
    assert space.method_categories("OzFoo class") == [("instance creation", ["with:"])]
    fresh = ObjectSpace.load(image_path(MINI))
    d = fresh.diff(space)
    assert "+ class OzFoo" in d.lines() and "+ OzFoo>>a:" in d.lines() and "+ OzFoo class>>with:" in d.lines()
    assert any(line.startswith("+ global OzGlobal: an OzFoo") for line in d.lines())
    # a redefinition through the image's own class builder: a new instance variable
    space.filein(["foo2.st"], {"foo2.st": "Object subclass: #OzFoo instanceVariableNames: 'a b c' "
                                          "classVariableNames: 'Count' poolDictionaries: '' category: 'Oz-Surgery'!"})
    assert space.mirror_on(space.class_named("OzFoo")).instance_variable_names() == ["a", "b", "c"]
    assert space.print_string("OzGlobal a") == "42"


def test_filein_defines_classes_through_the_membrane_without_a_class_builder():
    """PharoCandle has no class-definition code: the class is made from its own layout."""
    space = ObjectSpace.load(image_path("pharocandle.image"))
    src = ("PCObject subclass: #OzPair\n\tinstanceVariableNames: 'left right'\n\tclassVariableNames: ''\n"
           "\tpoolDictionaries: ''\n\tcategory: 'Oz'!\n\n"
           "!OzPair methodsFor: 'accessing'!\nleft: l right: r\n\tleft := l. right := r!\nsum\n\t^ left + right! !\n\n"
           "!OzPair class methodsFor: 'instance creation'!\nleft: l right: r\n\t^ self basicNew left: l right: r! !\n")
    result = space.filein(["pair.st"], {"pair.st": src})
    assert result.classes == ["OzPair"] and len(result.methods) == 3
    pair = space.mirror_on(space.class_named("OzPair"))
    assert pair.superclass().name() == "PCObject" and pair.instance_variable_names() == ["left", "right"]
    assert pair.inst_size() == 2 and pair.class_side().this_class() == pair
    assert space.to_local(space.evaluate("(OzPair left: 3 right: 4) sum")) == 7
    # redefining with another shape needs a class builder this image lacks: refused, undone
    with pytest.raises(FileInError) as e:
        space.filein(["again.st"], {"again.st": "PCObject subclass: #OzPair instanceVariableNames: 'x' "
                                                "classVariableNames: '' poolDictionaries: '' category: 'Oz'!"})
    assert str(e.value).startswith("again.st:1:1: redefining OzPair")
    assert pair.instance_variable_names() == ["left", "right"]


def test_filein_errors_name_file_line_column_and_change_nothing(tmp_path, capsys):
    good = tmp_path / "good.st"
    good.write_text("!Object methodsFor: 'oz'!\nozOne\n\t^ 1! !\n")
    bad = tmp_path / "bad.st"
    bad.write_text("!Object methodsFor: 'oz'!\nozTwo\n\t^ 2!\nozThree\n\t^ 3 + ! !\n")
    out = tmp_path / "out.image"
    code, o, err = run(capsys, "filein", image_path(MINI), good, bad, "-o", out)
    assert code == 1
    assert err.strip() == "oz: error: %s:5:8: expression expected, found end of source" % bad
    assert not out.exists()
    space = ObjectSpace.load(image_path(MINI))
    with pytest.raises(FileInError) as e:
        space.filein([str(good), str(bad)])
    assert (e.value.path, e.value.line, e.value.column) == (str(bad), 5, 8)
    obj = space.mirror_on(space.class_named("Object"))
    assert not obj.includes_selector("ozOne") and not obj.includes_selector("ozTwo")
    assert not ObjectSpace.load(image_path(MINI)).diff(space)
    # an undeclared name, a guest error in a do-it, a missing class
    cases = [("!Object methodsFor: 'x'!\nfoo\n\t^ NoSuchGlobal! !\n", "3:4: undeclared variable 'NoSuchGlobal'"),
             ("3 + 4!\n\n  3 zork!\n", "3:3: the do-it failed in the guest: Message not understood: zork"),
             ("\n!NoSuchClass methodsFor: 'x'!\nfoo ^ 1! !\n", "2:2: no class named NoSuchClass")]
    for text, where in cases:
        with pytest.raises(FileInError) as e:
            space.filein(["c.st"], {"c.st": text})
        assert str(e.value) == "c.st:" + where
    assert not ObjectSpace.load(image_path(MINI)).diff(space)


# --- diff ---------------------------------------------------------------------------------

def test_diff_reports_classes_methods_and_globals(tmp_path, capsys):
    space = ObjectSpace.load(image_path(MINI))
    space.filein(["a.st"], {"a.st": (
        "Object subclass: #OzShape instanceVariableNames: 'p' classVariableNames: '' poolDictionaries: '' "
        "category: 'Oz'!\n!OzShape methodsFor: 'oz'!\np\n\t^ p!\nq\n\t^ 1! !\n")})
    a = tmp_path / "a.image"
    space.save(str(a))
    space.filein(["b.st"], {"b.st": (
        "Object subclass: #OzNew instanceVariableNames: '' classVariableNames: '' poolDictionaries: '' "
        "category: 'Oz'!\n"
        "OzNew subclass: #OzShape instanceVariableNames: 'p r' classVariableNames: 'K' poolDictionaries: '' "
        "category: 'Oz-Shapes'!\n"
        "OzShape removeSelector: #q!\n"
        "Smalltalk at: #OzCounter put: 3!\n"
        "!Point methodsFor: 'oz'!\nx\n\t^ y! !\n")})
    b = tmp_path / "b.image"
    space.save(str(b))
    assert "recompiling OzShape... done" in capsys.readouterr()[0]     # the image's Transcript
    code, out, err = run(capsys, "diff", a, b)
    assert code == 1 and err == ""
    assert out.splitlines() == [
        "--- %s" % a, "+++ %s" % b,
        "+ class OzNew",
        "~ class OzShape: superclass 'Object' -> 'OzNew'",
        "~ class OzShape: definition 'subclass: (fixed pointers, 1 named fields)' -> "
        "'subclass: (fixed pointers, 2 named fields)'",
        "~ class OzShape: instance variables 'p' -> 'p r'",
        "~ class OzShape: class variables '' -> 'K'",
        "~ class OzShape: category 'Oz' -> 'Oz-Shapes'",
        "- OzShape>>q",
        "~ Point>>x",
        "+ global OzCounter: 3"]
    # OzShape>>p was recompiled for the new shape by the image's class builder: same content
    code, out, err = run(capsys, "diff", a, b, "--source")
    lines = out.splitlines()
    i = lines.index("~ Point>>x")
    assert lines[i + 1:i + 7] == ["    --- a/Point>>x", "    +++ b/Point>>x", "    @@ -1,2 +1,2 @@",
                                  "     x", "    -\t^ x", "    +\t^ y"]
    code, out, err = run(capsys, "diff", a, a)
    assert (code, out, err) == (0, "", "")
    code, out, err = run(capsys, "diff", a, tmp_path / "missing.image")
    assert code == 2 and err.startswith("oz: error:") and out == ""


def test_diff_compares_methods_by_meaning_across_byte_orders(tmp_path):
    """A copy saved in the other byte order has no object in common with the original and
    other object order; nothing differs."""
    space = ObjectSpace.load(image_path(MINI))
    other = tmp_path / "big.image"
    space.save(str(other), little_endian=False)
    assert not ObjectSpace.load(image_path(MINI)).diff(ObjectSpace.load(str(other)))
    candle = ObjectSpace.load(image_path("pharocandle.image"))
    changed = ObjectSpace.load(image_path("pharocandle.image"))
    changed.install("PCPoint", "x ^ y")
    assert [str(e) for e in candle.diff(changed).entries] == ["~ PCPoint>>x"]


def test_fileout_cli(tmp_path, capsys):
    code, out, err = run(capsys, "fileout", image_path(MINI), "SequenceableCollection>>do:")
    assert code == 0
    assert out == ("!SequenceableCollection methodsFor: 'as yet unclassified'!\n"
                   "do: arg1\n\t1 to: self size do: [:t1 | arg1 value: (self at: t1)]! !\n\n")
    target = tmp_path / "graphics.st"
    code, out, err = run(capsys, "fileout", image_path(MINI), "Graphics-Display Objects", "-o", target)
    assert code == 0 and out.startswith("wrote %s" % target)
    text = target.read_bytes().decode("latin-1")
    # superclasses first: DisplayObject before DisplayMedium before Form
    assert text.index("subclass: #DisplayObject") < text.index("subclass: #DisplayMedium") < \
        text.index("subclass: #Form\r")
    items = read_chunks(text, "graphics.st")
    assert all(i.kind in ("doit", "methods") for i in items)
    code, out, err = run(capsys, "fileout", image_path(MINI), "NoSuchThing")
    assert code == 1 and "no class, category or method named 'NoSuchThing'" in err


def test_diff_of_scratch_and_a_changed_copy(tmp_path):
    """A 5.6 MB image: the diff finds the one changed method."""
    path = "/usr/share/scratch/Scratch.image"
    if not os.path.exists(path):
        if os.environ.get("CI"):
            pytest.fail("Scratch.image is missing: ./setup.sh installs the scratch package")
        pytest.skip("Scratch is not installed (apt-get install scratch; setup.sh does)")
    a = ObjectSpace.load(path)
    b = ObjectSpace.load(path)
    b.install("SequenceableCollection", "do: aBlock\n\t^ self")
    assert [str(e) for e in a.diff(b).entries] == ["~ SequenceableCollection>>do:"]


def test_fileout_doubles_bangs_and_filein_reads_them_back():
    """PCSystem class>>start logs 'Welcome to Pharo Candle edition!': the `!` is doubled in
    the chunk and read back as one; the method compiled from it has the same content."""
    healthy = ObjectSpace.load(image_path("pharocandle.image"))
    text = healthy.fileout("PCSystem class>>start")
    assert "'Welcome to Pharo Candle edition!!'" in text
    copy = ObjectSpace.load(image_path("pharocandle.image"))
    copy.install("PCSystem class", "start ^ nil")
    assert [str(e) for e in healthy.diff(copy).entries] == ["~ PCSystem class>>start"]
    copy.filein(["start.st"], {"start.st": text})
    assert not healthy.diff(copy)


def test_filein_into_a_spur_image_saves_methods_that_run(tmp_path, capsys):
    """ozvm's compiler writes Spur method headers into a Spur image: the saved image loads
    and runs the filed-in method."""
    fix = tmp_path / "fix.st"
    fix.write_text("!PCPoint methodsFor: 'oz'!\nozSum\n\t^ x + y! !\n")
    out = tmp_path / "out.image"
    code, o, err = run(capsys, "filein", image_path("pharocandle-spur64.image"), fix, "-o", out)
    assert code == 0 and out.exists(), err
    saved = ObjectSpace.load(str(out))
    assert saved.heap.family.is_spur
    assert saved.to_local(saved.evaluate("(PCPoint x: 30 y: 12) ozSum")) == 42


def test_filed_in_source_is_logged_and_filed_out_again(tmp_path, capsys):
    """A change set as Squeak writes it (CR line ends, a preamble, stamps): its methods'
    source, comments and names included, goes to the .changes beside the saved image, and
    `oz fileout` of the saved image answers it rather than decompiled code."""
    cs = tmp_path / "fix.cs"
    cs.write_bytes(b"'From Squeak 2.2 of Sept 23, 1998 on 7 December 2026'!\r\"Change Set:\tozFix\"!\r\r"
                   b"!Point methodsFor: 'arithmetic' stamp: 'oz 12/7/2026 06:30'!\r"
                   b"ozNorm1: aPoint\r\t\"the L1 distance\"\r\t| d |\r\td := self - aPoint.\r"
                   b"\t^ d x abs + d y abs! !\r")
    out = tmp_path / "cs.image"
    code, o, err = run(capsys, "filein", image_path(MINI), cs, "-o", out)
    assert code == 0 and "1 methods, 2 do-its" in o
    assert (tmp_path / "cs.changes").exists()
    code, o, err = run(capsys, "fileout", out, "Point>>ozNorm1:")
    assert o == ("!Point methodsFor: 'arithmetic'!\nozNorm1: aPoint\n\t\"the L1 distance\"\n"
                 "\t| d |\n\td := self - aPoint.\n\t^ d x abs + d y abs! !\n\n")
    space = ObjectSpace.load(str(out))
    assert space.print_string("(3 @ 4) ozNorm1: (1 @ 1)") == "5"
