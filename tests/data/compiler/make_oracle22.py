"""Regenerate oracle22.txt: what Squeak 2.2's own Compiler makes of each corpus22.txt source.

    .venv/bin/python tests/data/compiler/make_oracle22.py

Runs ../shared/oracle/run-oracle (or $OZ_ORACLE/run-oracle) (squeak-vm with the scriptable mini image). Each output line:
class TAB source TAB header TAB literals ('&&'-separated 'Class:printString', associations as
'Class:key->') TAB bytecodes (space-separated, the 4-byte trailer removed), or
class TAB source TAB ERROR TAB message. A class written doit:CLASS makes the entry a do-it
(`Compiler>>translate:noPattern:ifFail:`, as `Compiler evaluate:` does).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.environ.get("OZ_ORACLE", os.path.join(HERE, "..", "..", "..", "..", "shared", "oracle"))

EXPR = ("[:m :s | s print: m header; nextPutAll: '@@'. m literals do: [:l | s nextPutAll: l class name; nextPut: $:. "
        "(l isKindOf: Association) ifTrue: [s print: l key; nextPutAll: '->'] ifFalse: [s print: l]. s nextPutAll: '&&']. "
        "s nextPutAll: '@@'. (m initialPC to: m size) do: [:i | s print: (m at: i); space]. s contents] "
        "value: ((Compiler new compile: '%s' in: %s notifying: nil ifFail: [nil]) generate: #(0 0 0 0)) "
        "value: (WriteStream on: String new)")


DOIT_EXPR = EXPR.replace(
    "((Compiler new compile: '%s' in: %s notifying: nil ifFail: [nil]) generate: #(0 0 0 0))",
    "(((Compiler new from: (ReadStream on: '%s') class: %s context: nil notifying: nil) "
    "translate: (ReadStream on: '%s') noPattern: true ifFail: [nil]) generate: #(0 0 0 0))")


def expression(cls, src):
    """The oracle expression for a corpus entry; class 'doit:C' compiles a do-it in C."""
    quoted = src.replace("'", "''")
    if cls.startswith("doit:"):
        return DOIT_EXPR % (quoted, cls[5:], quoted)
    return EXPR % (quoted, cls)


def corpus():
    out = []
    with open(os.path.join(HERE, "corpus22.txt"), encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cls, src = line.split("\t", 1)
            out.append((cls, src))
    return out


def run_batch(batch, timeout):
    """Answers for the expressions of `batch` (expr -> fields); stops early if one hangs."""
    with tempfile.TemporaryDirectory() as tmp:
        exprs = os.path.join(tmp, "exprs.txt")
        with open(exprs, "w", encoding="latin-1") as f:
            for e in batch:
                f.write(e + "\n")
        try:
            res = subprocess.run([os.path.join(ORACLE, "run-oracle"),
                                  os.path.join(ORACLE, "squeak2.2-mini-oracle.image"), exprs, str(timeout)],
                                 capture_output=True, text=True, encoding="latin-1", timeout=timeout + 30)
            out = res.stdout
        except subprocess.TimeoutExpired as ex:
            out = ex.stdout or ""
            if isinstance(out, bytes):
                out = out.decode("latin-1")
    results = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if parts[0] in ("RESULT", "ERROR") and len(parts) >= 3:
            results[parts[1]] = parts
    return results


def main():
    entries = corpus()
    exprs = [expression(cls, src) for cls, src in entries]
    results = {}
    known = {}
    path = os.path.join(HERE, "oracle22.txt")
    if "--all" not in sys.argv and os.path.exists(path):
        # keep the answers already there (pass --all to ask the image again for everything)
        with open(path, encoding="latin-1") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 4:
                    known[(parts[0], parts[1])] = parts
    for (cls, src), expr in zip(entries, exprs):
        if (cls, src) in known:
            results[expr] = known[(cls, src)]
    pending = [e for e in exprs if e not in results]
    while pending:
        batch = pending[:40]
        got = run_batch(batch, 20)
        results.update(got)
        done = [e for e in batch if e in got]
        if len(done) < len(batch):
            first = next(e for e in batch if e not in got)
            results[first] = ["ERROR", first, "no answer (the image's compiler hangs)"]
            pending = [e for e in pending if e not in results]
        else:
            pending = pending[40:]
    lines = []
    for (cls, src), expr in zip(entries, exprs):
        r = results.get(expr)
        if (cls, src) in known:
            lines.append("\t".join(r))
        elif r[0] == "ERROR":
            lines.append("%s\t%s\tERROR\t%s" % (cls, src, r[2]))
        else:
            text = r[2]
            assert text.startswith("'") and text.endswith("'"), text
            text = text[1:-1].replace("''", "'")
            header, lits, code = text.split("@@")
            code = code.split()[:-4]
            lines.append("%s\t%s\t%s\t%s\t%s" % (cls, src, header, lits, " ".join(code)))
    with open(os.path.join(HERE, "oracle22.txt"), "w", encoding="latin-1") as f:
        f.write("\n".join(lines) + "\n")
    print("%d entries, %d errors" % (len(lines), sum(1 for l in lines if "\tERROR\t" in l)))


if __name__ == "__main__":
    sys.exit(main())
