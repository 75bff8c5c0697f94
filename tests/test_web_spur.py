"""The workbench's pages on Spur spaces, in headless Chromium: PharoCandle as a 64-bit Spur
image (s2) and the Pharo 8 kernel (s3, 2.4 MB, Sista V1 image) loaded beside Squeak 2.2
(s1, V3). Spaces page; browser (a class, its source, bytecodes, definition, hierarchy; an
edited method accepted into a sandbox copy and used by the guest); inspector (the guest's
printString, as SqueakJS prints it, and drill down); process browser and debugger (a
runaway at priority 80 interrupted and terminated; a method stepped through, its
temporaries changing, restarted after a fix); diff (V3 against Spur, Spur against Spur)."""
from __future__ import annotations

import html
import re

import pytest

from spur_answers import squeakjs_answers
from web_support import served

from ozvm.space import control
from ozvm.web.live import process_id

bench = served("squeak2.2-mini.image", "pharocandle-spur64.image", "pharo8-kernel-spur64.image")

PHAROCANDLE, PHARO8 = "s2", "s3"
IMAGE = {PHAROCANDLE: "pharocandle-spur64.image", PHARO8: "pharo8-kernel-spur64.image"}
ROOT = {PHAROCANDLE: "PCObject", PHARO8: "Object"}
DEMO = "ozLiveDemo\n\t| a b |\n\ta := %d.\n\tb := a + 4.\n\ta := a * b.\n\t^ a - 1"


def _by(kind):
    from selenium.webdriver.common.by import By
    return getattr(By, kind)


def _text(driver, element_id):
    return driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
        element_id).strip()


def click(bench, css):
    bench.click(bench.find(css))


@pytest.fixture
def sandbox(bench):
    """A copy of a Spur space for a test that changes code (unloaded after it)."""
    made = []

    def make(sid):
        status, text = bench.http("POST", "/spaces/%s/copy" % sid, {})
        assert status == 200
        made.append(re.search(r"copied into (s\d+)", text).group(1))
        return made[-1]
    make.made = made
    yield make
    for sid in made:
        assert bench.http("POST", "/spaces/%s/unload" % sid, {})[0] == 200


def test_the_spaces_page_lists_the_spur_spaces(bench):
    bench.open("/")
    assert "V3 6502" in bench.find("#space-s1").text
    for sid in (PHAROCANDLE, PHARO8):
        row = bench.find("#space-" + sid).text
        assert "Spur 68021 (little-endian)" in row
    assert "pharo8-kernel-spur64.image" in bench.find("#space-s3").text
    bench.screenshot("spur-spaces")
    # one quantum of a Spur space from the page
    status, text = bench.http("POST", "/spaces/%s/quantum" % PHAROCANDLE, {"ms": "20"})
    assert status == 200 and "quantum:" in text


def test_browse_a_pharo8_class_source_bytecodes_definition_hierarchy(bench):
    bench.open("/browse/%s?cls=Fraction" % PHARO8)
    assert bench.find("#pane-categories a.selected").text == "Kernel-Numbers"
    assert "Fraction" in bench.find("#pane-classes").text
    for a in bench.driver.find_elements(_by("CSS_SELECTOR"), "#pane-methods a"):
        if a.text == "reciprocal":
            bench.click(a)
            break
    else:
        raise AssertionError("no reciprocal in the methods pane")
    assert "Fraction>>reciprocal · decompiled" in bench.find("#origin").text
    source = bench.find("#source").get_attribute("value")
    assert source.startswith("reciprocal") and "denominator" in source and "numerator" in source
    bench.screenshot("spur-browser")
    click(bench, "#view-bytecodes")
    assert "numerator" in bench.find("#bytecodes").text
    click(bench, "#view-definition")
    definition = bench.find("#definition").text
    assert definition.startswith("Number subclass: #Fraction")
    assert "instanceVariableNames: 'numerator denominator'" in definition
    click(bench, "#view-hierarchy")
    names = [line.strip() for line in bench.find("#hierarchy").text.splitlines()]
    assert names[names.index("Number") + 1] == "Fraction" and "Magnitude" in names[:names.index("Number")]
    click(bench, "#references")
    assert "Float>>asTrueFraction" in bench.find("#results").text
    status, text = bench.http("GET", "/browse/%s/query/implementors?name=reciprocal" % PHARO8)
    assert status == 200 and "Fraction&gt;&gt;reciprocal" in text


def test_browse_pharocandle_spur_and_search(bench):
    bench.open("/browse/%s?cls=PCPoint&sel=x" % PHAROCANDLE)
    assert bench.find("#source").get_attribute("value").startswith("x")
    assert "PCPoint" in bench.find("#pane-classes").text
    status, text = bench.http("GET", "/browse/%s/search?q=point" % PHAROCANDLE)
    assert status == 200 and ">PCPoint<" in text


@pytest.mark.parametrize("space", [PHAROCANDLE, PHARO8])
def test_accept_an_edited_method_in_a_spur_sandbox_and_see_the_guest_use_it(bench, sandbox, space):
    sid = sandbox(space)
    bench.open("/browse/%s?cls=%s&prot=oz" % (sid, ROOT[space]))
    source = bench.find("#source")
    source.clear()
    source.send_keys("ozTwice\n\t^ self +")
    click(bench, "#accept")
    assert bench.find("#compile-error").get_attribute("data-line") == "2"
    source = bench.find("#source")
    source.clear()
    source.send_keys("ozTwice\n\t^ self -> self")
    click(bench, "#accept")
    assert "accepted %s>>ozTwice" % ROOT[space] in bench.find("#message").text
    status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % sid, {"source": "21 ozTwice"})
    assert status == 200 and 'id="inspected">21-&gt;21<' in text
    # an edited method of the image itself: the guest's own callers use it
    cls = "PCPoint" if space == PHAROCANDLE else "Point"
    status, _ = bench.http("POST", "/browse/%s/accept" % sid, {
        "cls": cls, "sel": "x", "source": "x\n\t\"edited\"\n\t^ x * 10"})
    assert status == 200
    status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % sid, {"source": "(3 @ 4) x"})
    assert "answered 30" in text
    bench.open("/browse/%s?cls=%s&sel=x" % (sid, cls))           # the source accepted
    assert "%s>>x · source" % cls in bench.find("#origin").text
    assert bench.find("#source").get_attribute("value") == "x\n\t\"edited\"\n\t^ x * 10"
    status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % space, {"source": "(3 @ 4) x"})
    assert "answered 3" in text                  # the image's own space is unchanged


@pytest.mark.parametrize("space", [PHAROCANDLE, PHARO8])
def test_an_accepted_methods_source_is_saved_with_the_image_and_shown_after_a_reload(
        bench, sandbox, space, tmp_path):
    """A source-less image keeps an accepted method's source in the method (Pharo's
    #EmbeddedSource trailer): saved with the image, shown by the browser after a reload,
    and Pharo 8's own CompiledMethod>>sourceCode answers it."""
    sid = sandbox(space)
    source = 'ozKept: x\n\t"a comment the decompiler could not know"\n\t| twice |\n\ttwice := x + x.\n\t^ twice'
    status, text = bench.http("POST", "/browse/%s/accept" % sid, {
        "cls": ROOT[space], "prot": "oz", "source": source})
    assert status == 200 and "accepted" in text
    out = tmp_path / "kept.image"
    status, text = bench.http("POST", "/spaces/%s/save" % sid, {"path": str(out)})
    assert status == 200 and "saved kept.image" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.image"]     # no .changes needed
    status, text = bench.http("POST", "/spaces/load", {"path": str(out)})
    assert status == 200
    again = re.search(r"loaded kept.image as (s\d+)", text).group(1)
    sandbox.made.append(again)
    bench.open("/browse/%s?cls=%s&sel=ozKept:" % (again, ROOT[space]))
    assert "%s>>ozKept: · source" % ROOT[space] in bench.find("#origin").text
    assert bench.find("#source").get_attribute("value") == source
    status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % again, {"source": "3 ozKept: 4"})
    assert "answered 8" in text
    if space == PHARO8:     # the image's own code reads it (with its CR line ends)
        expected = "#[%s]" % " ".join(str(b) for b in source.replace("\n", "\r").encode())
        status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % again, {
            "source": "(Object >> #ozKept:) sourceCode asByteArray = " + expected})
        assert status == 200 and "<title>Inspect true " in text, text[-2000:]


@pytest.mark.parametrize("space,expression,index,inner", [
    (PHAROCANDLE, "#(1 $a 'str' #sym (1 2))", 5, "#(1 2)"),
    (PHARO8, "| log | log := OrderedCollection new. [[1/0] ensure: [log add: #ensured]] on: "
             "ZeroDivide do: [:e | log add: e class name]. log", None, None),
])
def test_inspect_a_spur_object_its_printString_as_squeakjs_and_drill_down(bench, space, expression,
                                                                           index, inner):
    answers = squeakjs_answers(IMAGE[space])
    bench.open("/inspect/%s" % space)
    bench.find("#evaluate-source").send_keys(expression)
    click(bench, "#evaluate")
    bench.wait(lambda d: bench.find("#print-string").get_attribute("data-done"))
    assert bench.find("#print-string").text == answers[expression]
    if space == PHARO8:
        assert bench.find("#inspected").text == "an OrderedCollection"
        click(bench, "#named a[data-field='array']")        # drill down to its array
        assert bench.find("#class-link").text == "Array"
        first = bench.find("#indexed [data-index]").text
        assert first in ("nil", "#ZeroDivide")
        bench.screenshot("spur-inspector")
    else:
        assert bench.find("#class-link").text == "PCArray"
        click(bench, "#indexed a[data-index='%d']" % index)
        assert bench.find("#class-link").text == "PCArray"
        bench.wait(lambda d: bench.find("#print-string").get_attribute("data-done"))
        assert bench.find("#print-string").text.replace(" )", ")") == inner
    click(bench, "#trail a:nth-of-type(2)")                  # back
    assert bench.find("#print-string")


def test_interrupt_a_priority_80_runaway_in_pharo8_and_terminate_it(bench):
    def start_runaway(wb):
        space = wb.space(PHARO8)
        proc = space.create_process("[true] whileTrue", priority=80)
        wb.start(PHARO8, 0.5)
        return process_id(wb, PHARO8, proc), proc.priority(), control.priority_levels(space)

    pid, priority, top = bench.call(start_runaway)
    assert priority == top == 80
    try:
        driver = bench.open("/processes")
        row = "process-%s-%s" % (PHARO8, pid)
        state = lambda d: d.execute_script(
            "const r = document.getElementById(arguments[0]); return r ? r.dataset.state : null;", row)
        press = lambda d, css: d.execute_script(
            "const r = document.getElementById(arguments[0]); const b = r && r.querySelector(arguments[1]);"
            " if (b) b.click(); return !!b;", row, css)
        bench.wait(lambda d: state(d) in ("active", "ready"))
        assert press(driver, "button[name=interrupt]")
        bench.wait(lambda d: state(d) == "suspended")
        bench.screenshot("spur-processes")
        assert press(driver, "a.debug")
        bench.wait(lambda d: d.find_elements(_by("ID"), "stack"))
        assert "DoIt" in _text(driver, "frame-0")
        driver.get(bench.url("/processes"))
        bench.wait(lambda d: state(d) == "suspended")
        assert press(driver, "button[name=terminate]")
        bench.wait(lambda d: state(d) == "terminated")
    finally:
        bench.call(lambda wb: wb.stop(PHARO8))


@pytest.mark.parametrize("space", [PHAROCANDLE, PHARO8])
def test_step_through_a_method_on_spur_temps_change_and_restart_after_a_fix(bench, sandbox, space):
    sid = sandbox(space)

    def make(wb):
        s = wb.space(sid)
        s.install(s.mirror_on(s.class_named(ROOT[space])), DEMO % 3)
        return process_id(wb, sid, s.create_process("nil ozLiveDemo", start=False))

    pid = bench.call(make)
    driver = bench.open("/debug/%s/%s" % (sid, pid))
    driver.find_element(_by("NAME"), "into").click()
    bench.wait(lambda d: "ozLiveDemo" in _text(d, "frame-0"))
    assert (_text(driver, "var-a"), _text(driver, "var-b")) == ("3", "nil")
    assert _text(driver, "next") == "send #+"
    driver.find_element(_by("NAME"), "over").click()
    bench.wait(lambda d: _text(d, "next") == "send #*")
    assert (_text(driver, "var-a"), _text(driver, "var-b")) == ("3", "7")
    driver.find_element(_by("NAME"), "over").click()
    bench.wait(lambda d: _text(d, "next") == "send #-")
    assert (_text(driver, "var-a"), _text(driver, "var-b")) == ("21", "7")
    if space == PHARO8:
        bench.screenshot("spur-debugger")
    form = driver.find_element(_by("ID"), "evaluate-form")
    form.find_element(_by("NAME"), "source").send_keys("a + b")
    form.find_element(_by("NAME"), "evaluate").click()
    bench.wait(lambda d: "28" in _text(d, "message"))
    status, _ = bench.http("POST", "/browse/%s/accept" % sid, {"cls": ROOT[space], "source": DEMO % 5})
    assert status == 200
    driver.find_element(_by("NAME"), "restart").click()
    bench.wait(lambda d: "restarted" in _text(d, "message"))
    assert (_text(driver, "var-a"), _text(driver, "var-b")) == ("nil", "nil")
    driver.find_element(_by("NAME"), "over").click()
    bench.wait(lambda d: _text(d, "next") == "send #*")
    assert (_text(driver, "var-a"), _text(driver, "var-b")) == ("5", "9")
    driver.find_element(_by("NAME"), "run_to_end").click()
    bench.wait(lambda d: "DoIt" in _text(d, "frame-0"))
    assert "44" in html.unescape(driver.page_source)
    driver.find_element(_by("NAME"), "terminate").click()
    bench.wait(lambda d: "terminated" in _text(d, "message"))


def test_diff_a_v3_space_against_a_spur_space(bench):
    bench.open("/diff?a=s1&b=%s" % PHAROCANDLE)
    summary = bench.find("#diff-summary").text
    assert "differences" in summary
    entries = bench.find("#diff-entries").text
    assert "- class Fraction" in entries and "+ class PCPoint" in entries


def test_diff_two_spur_spaces_with_source_diffs(bench, sandbox):
    sid = sandbox(PHARO8)
    status, _ = bench.http("POST", "/browse/%s/accept" % sid, {
        "cls": "Fraction", "source": "reciprocal\n\t\"changed\"\n\t^ Fraction numerator: denominator denominator: numerator"})
    assert status == 200
    status, _ = bench.http("POST", "/browse/%s/accept" % sid, {"cls": "Integer", "source": "ozTwice\n\t^ self + self"})
    assert status == 200
    bench.open("/diff?a=%s&b=%s" % (PHARO8, sid))
    entries = bench.find("#diff-entries").text
    assert "+ Integer>>ozTwice" in entries and "~ Fraction>>reciprocal" in entries
    changed = bench.find(".diff-entry[data-name='Fraction>>reciprocal'] pre").text.splitlines()
    assert "+ ^ Fraction numerator: denominator denominator: numerator" in changed    # decompiled
    assert any(line.startswith("- numerator abs = 1 ifTrue:") for line in changed)
    bench.screenshot("spur-diff")
    status, text = bench.http("GET", "/diff?a=%s&b=%s" % (PHAROCANDLE, PHARO8))
    assert status == 200 and "+ class Fraction" in html.unescape(text)
