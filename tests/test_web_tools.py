"""The workbench's tools in headless Chromium on a real image (Squeak 2.2): browse a class,
edit a method and see the guest use it, file in, inspect an object and drill down and back,
diff two spaces. Each tool's page is kept as a screenshot (tests/artifacts/screenshots)."""
from __future__ import annotations

import html
import os
import re

import pytest

from conftest import HERE
from web_support import served

bench = served("squeak2.2-mini.image")


@pytest.fixture
def sandbox(bench):
    """A copy of the image's space for a test that changes code (unloaded after it)."""
    status, text = bench.http("POST", "/spaces/s1/copy", {})
    assert status == 200
    sid = re.search(r"copied into (s\d+)", text).group(1)
    yield sid
    assert bench.http("POST", "/spaces/%s/unload" % sid, {})[0] == 200


def _by(kind):
    from selenium.webdriver.common.by import By
    return getattr(By, kind)


def element(bench, css):
    return bench.find(css)


def click(bench, css):
    """Click what `css` selects and wait for the page it leads to."""
    bench.click(bench.find(css))


def click_link(bench, pane, text):
    """Click the entry `text` of a pane (categories, classes, protocols, methods)."""
    for a in bench.driver.find_elements(_by("CSS_SELECTOR"), "#pane-%s a" % pane):
        if a.text == text:
            bench.click(a)
            return
    raise AssertionError("no %r in the %s pane" % (text, pane))


def test_browse_a_class_through_the_four_panes(bench):
    bench.open("/browse/s1")
    click_link(bench, "categories", "Numeric-Numbers")
    assert "Fraction" in element(bench, "#pane-classes").text
    click_link(bench, "classes", "Fraction")
    click_link(bench, "protocols", "as yet unclassified")
    click_link(bench, "methods", "printOn:")
    assert element(bench, "#pane-methods a.selected").text == "printOn:"
    origin = element(bench, "#origin").text
    assert "Fraction>>printOn:" in origin and "decompiled" in origin     # the image ships no sources
    source = element(bench, "#source").get_attribute("value")
    assert source.startswith("printOn: ") and "numerator" in source and "denominator" in source
    bench.screenshot("browser")
    click(bench, "#view-bytecodes")
    assert re.search(r"push.*numerator|numerator", element(bench, "#bytecodes").text)
    click(bench, "#view-definition")
    definition = element(bench, "#definition").text
    assert definition.startswith("Number subclass: #Fraction")
    assert "instanceVariableNames: 'numerator denominator'" in definition
    click(bench, "#view-hierarchy")
    hierarchy = element(bench, "#hierarchy").text.splitlines()
    assert [l.strip() for l in hierarchy[:4]] == ["Object", "Magnitude", "Number", "Fraction"]
    click(bench, "#implementors")
    found = element(bench, "#results").text
    assert "Fraction>>printOn:" in found and "Object>>printOn:" in found


def test_senders_references_and_search(bench):
    status, text = bench.http("GET", "/browse/s1/query/senders?name=reduced")
    assert status == 200 and ">Integer&gt;&gt;/<" in text and ">SmallInteger&gt;&gt;/<" in text
    assert "senders of reduced" in text and ": 2</span>" in text
    status, text = bench.http("GET", "/browse/s1/query/references?name=Fraction")
    assert status == 200 and ">Fraction&gt;&gt;reciprocal<" in text and ">Integer&gt;&gt;asFraction<" in text
    status, text = bench.http("GET", "/browse/s1/search?q=fract")
    assert status == 200 and ">Fraction<" in text and ">asFraction<" in text
    status, text = bench.http("GET", "/browse/s1/query/nonsense?name=x")
    assert status == 400 and "senders, implementors or references" in html.unescape(text)
    assert bench.http("GET", "/browse/s1?cls=NoSuchClass")[0] == 404
    assert bench.http("GET", "/browse/s1?cls=Fraction&sel=noSuchSelector")[0] == 404


def test_edit_a_method_see_the_guest_use_it_and_a_compile_error_at_its_place(bench, sandbox):
    bench.open("/browse/%s?cls=Integer&prot=arithmetic" % sandbox)
    source = element(bench, "#source")
    source.clear()
    source.send_keys("ozTwice\n\t^ self +")              # malformed: the expression is cut off
    click(bench, "#accept")
    error = element(bench, "#compile-error")
    assert "line 2, column" in error.text
    assert error.get_attribute("data-line") == "2"
    caret = bench.driver.execute_script("return document.getElementById('source').selectionStart")
    assert caret >= len("ozTwice\n\t^ self")            # the caret is put at the error
    assert element(bench, "#source").get_attribute("value") == "ozTwice\n\t^ self +"   # kept
    bench.screenshot("browser-compile-error")
    source = element(bench, "#source")
    source.clear()
    source.send_keys("ozTwice\n\t^ self + self")
    click(bench, "#accept")
    assert "accepted Integer>>ozTwice" in element(bench, "#message").text
    assert element(bench, "#origin").text.startswith("Integer>>ozTwice · source")   # logged source
    # the guest uses it: its own code sends it
    status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % sandbox,
                              {"source": "21 ozTwice"})
    assert status == 200 and "answered 42" in text
    # the original space does not have it
    status, text = bench.http("POST", "/inspect/s1/nil/evaluate", {"source": "21 ozTwice"})
    assert status == 422 and "ozTwice" in html.unescape(text)


def test_file_in_a_chunk_file_or_see_where_it_is_wrong(bench, sandbox):
    bench.open("/filein/%s" % sandbox)
    element(bench, "#filein-text").send_keys(
        "!Integer methodsFor: 'oz'!\nozThrice\n\t^ self * 3! !\n")
    click(bench, "#filein-submit")
    assert "1 methods" in element(bench, "#filein-result").text
    bench.screenshot("filein")
    status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % sandbox, {"source": "5 ozThrice"})
    assert "answered 15" in text
    status, text = bench.http("POST", "/filein/%s" % sandbox, {
        "name": "bad.st", "text": "!Integer methodsFor: 'oz'!\nozBad\n\t^ self ]! !\n"})
    assert status == 400 and "bad.st:3:" in text
    status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % sandbox, {"source": "5 ozBad"})
    assert status == 422        # all or nothing: nothing of the bad file is kept


def oracle_print_strings() -> dict:
    """{expression: printString} as squeak-vm answered (tests/data/workbench_printstrings.txt)."""
    out = {}
    with open(os.path.join(HERE, "data", "workbench_printstrings.txt")) as f:
        for line in f:
            if line.startswith("RESULT\t"):
                _, expr, printed, _ms = line.rstrip("\n").split("\t")
                out[expr] = printed[1:-1].replace("''", "'")      # the printString of the printString
    return out


def test_inspect_an_object_drill_down_and_back(bench):
    oracle = oracle_print_strings()
    bench.open("/inspect/s1")
    element(bench, "#evaluate-source").send_keys("Array with: 3 / 4 with: 'abc' with: #(7 8)")
    click(bench, "#evaluate")
    bench.wait(lambda d: element(bench, "#print-string").get_attribute("data-done"))
    assert element(bench, "#print-string").text == oracle[    # the guest's own printString
        "(Array with: 3 / 4 with: 'abc' with: #(7 8)) printString"]
    assert element(bench, "#inspected").text == "an Array"
    click(bench, "#indexed a[data-index='1']")          # drill down to the Fraction
    assert element(bench, "#class-link").text == "Fraction"
    assert element(bench, "#named span[data-field='numerator']").text == "3"
    assert element(bench, "#named span[data-field='denominator']").text == "4"
    bench.wait(lambda d: element(bench, "#print-string").get_attribute("data-done"))
    assert element(bench, "#print-string").text == oracle["(3/4) printString"]
    bench.screenshot("inspector")
    element(bench, "#evaluate-source").send_keys("numerator + denominator")   # self: the Fraction
    click(bench, "#evaluate")
    assert "answered 7" in element(bench, "#message").text
    click(bench, "#trail a:nth-of-type(2)")              # back to the Array
    assert element(bench, "#inspected").text == "an Array"
    click(bench, "#indexed a[data-index='2']")
    assert element(bench, "#as-text").text == "abc"


def test_indexed_slots_come_in_pages_and_errors_are_shown_in_place(bench):
    status, text = bench.http("POST", "/inspect/s1/nil/evaluate", {"source": "(1 to: 250) asArray"})
    oid = re.search(r'id="inspected">an Array', text) and re.search(
        r'/inspect/s1/(o\d+)/evaluate', text).group(1)
    assert "page 1 of 3" in text
    status, page3 = bench.http("GET", "/inspect/s1/%s?page=3" % oid)
    assert status == 200 and 'data-index="250">250<' in page3 and 'data-index="200"' not in page3
    assert bench.http("GET", "/inspect/s1/%s?page=4" % oid)[0] == 404
    assert bench.http("GET", "/inspect/s1/o99999")[0] == 404
    status, text = bench.http("POST", "/inspect/s1/%s/evaluate" % oid, {"source": "self at: 0"})
    assert status == 422 and "evaluate-error" in text
    status, text = bench.http("POST", "/inspect/s1/%s/evaluate" % oid, {"source": "self foo: ]"})
    assert status == 400 and 'data-line="1"' in text
    status, answer = bench.http("GET", "/api/inspect/s1/%s/print" % oid, json_answer=True)
    assert status == 200 and answer["text"].startswith("(1 2 3 ")


def test_a_runaway_printString_times_out_and_the_server_goes_on(bench, sandbox):
    status, text = bench.http("POST", "/browse/%s/accept" % sandbox, {
        "cls": "Object", "prot": "printing", "source": "printOn: aStream\n\t[true] whileTrue"})
    assert status == 200
    status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % sandbox, {"source": "Object new"})
    oid = re.search(r'/inspect/%s/(o\d+)/evaluate' % sandbox, text).group(1)
    status, answer = bench.http("GET", "/api/inspect/%s/%s/print" % (sandbox, oid), json_answer=True)
    assert status == 422 and "did not answer" in answer["error"]
    assert bench.http("GET", "/browse/s1?cls=Fraction")[0] == 200     # the server goes on
    status, text = bench.http("POST", "/inspect/%s/nil/evaluate" % sandbox, {"source": "3 + 4"})
    assert "answered 7" in text                                     # and so does the guest


def test_diff_two_spaces_class_by_class_with_source_diffs(bench, sandbox):
    status, text = bench.http("POST", "/browse/%s/accept" % sandbox, {
        "cls": "Integer", "source": "ozTwice\n\t^ self + self"})
    assert status == 200
    status, text = bench.http("POST", "/browse/%s/accept" % sandbox, {
        "cls": "Fraction", "source": "reciprocal\n\t\"changed\"\n\t^ Fraction numerator: denominator denominator: numerator"})
    assert status == 200
    bench.open("/diff?a=s1&b=%s" % sandbox)
    summary = element(bench, "#diff-summary").text
    assert "differences" in summary
    entries = element(bench, "#diff-entries").text
    assert "+ Integer>>ozTwice" in entries and "~ Fraction>>reciprocal" in entries
    changed = element(bench, ".diff-entry[data-name='Fraction>>reciprocal'] pre").text
    assert "+" in changed and "-" in changed
    bench.screenshot("diff")
    status, text = bench.http("GET", "/diff?a=s1&b=s1")
    assert status == 200 and "no difference" in text
    assert bench.http("GET", "/diff?a=s1&b=s77")[0] == 404
