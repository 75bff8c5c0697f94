"""SqueakJS's answers on the Spur images, as the differential suites recorded them: reference
printStrings for tests that evaluate an expression in a Spur space by other routes.

    squeakjs_answers("pharo8-kernel-spur64.image")["3 + 4"]  ->  '7'

Pharo 8 kernel: tests/data/sista_expected.txt (tests/sista_script.py --regenerate);
PharoCandle-Spur64 and spur32-headless: tests/data/squeakjs_spur_expected.txt
(tests/squeakjs_spur_script.py --regenerate).
"""
from __future__ import annotations

import image_script
import sista_script
import squeakjs_spur_script


def squeakjs_answers(image: str) -> dict:
    """{expression: printString} of the expressions SqueakJS answered on `image` (an image
    name of the shared folder); errors left out."""
    if image == sista_script.SOURCE_IMAGE:
        lines = image_script.read_expected(sista_script.EXPECTED)
    else:
        lines = squeakjs_spur_script.read_expected()[image]
    out = {}
    for line in lines:
        parts = line.split("\t")
        if parts[0] == "RESULT" and len(parts) == 3:
            out[parts[1]] = parts[2]
    return out
