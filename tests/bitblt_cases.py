"""The BitBlt differential suite: copyBits, warpBits (WarpBlt), drawLoop and displayString
cases, each run by squeak-vm in a scriptable copy
of Scratch 1.4 (tests/scratch_oracle.py) and by ozvm's primitive on the same Forms.

Each case is one Smalltalk expression that builds a destination Form (and a source, a
halftone, a color map) with deterministic contents, fills a BitBlt's fields with
`instVarAt:put:` (so that bad values reach the primitive as they are), runs `copyBits`
(`copyBitsTranslucent:` for rules 30 and 31) and answers
`Array with: <what copyBits answered, or #self> with: <digest of the destination bits>`
(and the color map's digest for the tally rules). A primitive failure ends in the image's
fallback (`Bad BitBlt arg`), an ERROR line on both VMs. WarpBlt cases set the quadrilateral
(p1x..p4z) the same way and run `warpBitsSmoothing:sourceMap:`.

    python tests/bitblt_cases.py --regenerate     squeak-vm's answers -> tests/data/bitblt_expected.txt
"""
from __future__ import annotations

import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "data", "bitblt_expected.txt")
DEPTHS = (1, 2, 4, 8, 16, 32)
RULES = [r for r in range(41) if r not in (16, 17)]
MULT = 2654435761
PRIME = 4294967291


WARP_RULES = (3, 3, 25, 34, 24, 7, 20, 1)


def fill_value(i: int, seed: int, mixed: bool = False) -> int:
    """The word at 1-based index i of a Form filled with `seed`. A `mixed` Form has words
    that are 0 (transparent for the paint rules) or have alpha 0 or 255 (the alpha rules
    treat those apart; fixAlpha fills in a zero alpha) at every fourth index."""
    word = (i * MULT + seed) % 4294967296
    if mixed:
        kind = i % 4
        if kind == 0:
            return 0
        if kind == 1:
            return word & 0xFFFFFF
        if kind == 2:
            return word | 0xFF000000
    return word


def digest(words) -> int:
    acc = 7
    for w in words:
        acc = (acc * 1000003 + w) % PRIME
    return acc


def _form(rng, depth=None, max_words=80):
    depth = depth or rng.choice(DEPTHS)
    ppw = 32 // abs(depth)
    w = rng.randint(1, min(70, ppw * 6))
    h = rng.randint(1, 9)
    while ((w + ppw - 1) // ppw) * h > max_words and h > 1:
        h -= 1
    return {"w": w, "h": h, "depth": depth, "seed": rng.randrange(1 << 32)}


def _geometry(rng, rule, dest, sw, sh) -> dict:
    """The BitBlt's rule and rectangle fields, some of them outside the forms."""
    return {
        "rule": rule,
        "destX": rng.randint(-5, dest["w"]), "destY": rng.randint(-3, dest["h"]),
        "width": rng.randint(0, max(sw, dest["w"]) + 4), "height": rng.randint(0, max(sh, dest["h"]) + 2),
        "sourceX": rng.randint(-4, sw), "sourceY": rng.randint(-2, sh),
        "clipX": rng.randint(-3, dest["w"] // 2), "clipY": rng.randint(-2, dest["h"] // 2),
        "clipWidth": rng.randint(0, dest["w"] + 6), "clipHeight": rng.randint(0, dest["h"] + 3),
    }


def _geometry_inside(rng, rule, dest, sw, sh) -> dict:
    """Rule and rectangle fields that mostly leave something to copy after clipping."""
    f = {"rule": rule,
         "destX": rng.randint(-2, dest["w"] - 1), "destY": rng.randint(-1, dest["h"] - 1),
         "width": rng.randint(1, sw + 2), "height": rng.randint(1, sh + 1),
         "sourceX": rng.randint(-1, max(sw - 2, 0)), "sourceY": rng.randint(-1, max(sh - 2, 0)),
         "clipX": None, "clipY": None, "clipWidth": None, "clipHeight": None}
    if rng.random() < 0.4:
        f.update({"clipX": rng.randint(-2, 2), "clipY": rng.randint(-1, 1),
                  "clipWidth": rng.randint(1, dest["w"] + 3), "clipHeight": rng.randint(1, dest["h"] + 2)})
    return f


# Rules 23 and 33 (tallyIntoMap) count the destination's pixels into the color map. Without
# a source Form squeak-vm 4.10 loads no color map, yet its plugin's color map flags and table
# pointer (globals) still hold an earlier copyBits' map, and it tallies into that: into an
# object the image may have dropped and its collector moved, writing over whatever is there
# now (a run of these cases crashes squeak-vm a few cases later). ozvm loads no map and
# tallies nothing. The cases give these rules a source.
TALLY_RULES = (23, 33)
def _field_number(text, default=0):
    """What the C VM takes from a field: a SmallInteger, a Float truncated, nil as the
    default; None for anything else (the primitive fails)."""
    if text is None:
        return default
    if isinstance(text, int):
        return text
    try:
        return int(float(text))
    except ValueError:
        return None


def _turned(f) -> bool:
    """Would a copy within one Form with these fields go left or up (the source above the
    destination, or on its row and left of it)? Clipping moves both by the same amount.
    Through a color map such a copy runs the C VM's pixel-map loop, which goes right and
    down whatever the direction: it reads and writes beyond the rectangle, past the bits
    near the Form's end (squeak-vm overwrites the next object and hangs or crashes). The
    random cases leave the color map out of these; make_turned_cases has some that stay
    inside the bits."""
    dx, dy, sx, sy = (_field_number(f[k]) for k in ("destX", "destY", "sourceX", "sourceY"))
    if None in (dx, dy, sx, sy):
        return False
    return dy > sy or (dy == sy and dx > sx)


def make_turned_cases(n: int = 24, seed: int = 2026) -> list:
    """Copies within one Form through a color map that go up (the source rows above) or left
    (on one row), placed so that the C VM's pixel-map loop, which walks right and down
    from the far corner (see _turned), stays inside the Form's bits."""
    rng = random.Random(seed)
    cases = []
    for k in range(n):
        depth = DEPTHS[k % len(DEPTHS)]
        dest = _form(rng, depth)
        dest["h"] = max(dest["h"], 3)
        while ((dest["w"] * depth + 31) // 32) * dest["h"] > 120:
            dest["w"] = max(1, dest["w"] // 2)
        w, h = dest["w"], dest["h"]
        rule = rng.choice(RULES)
        if k % 2 == 0:          # up: rows sy + bbH - 1 .. sy + 2 bbH - 2 are read
            sy = rng.randint(0, 1)
            height = rng.randint(1, (h - sy + 1) // 2)
            dy = sy + rng.randint(1, h - sy - height) if h - sy - height >= 1 else sy + 1
            sx = dx = rng.randint(0, w - 1)
            width = rng.randint(1, w - sx)
        else:                   # left, on rows two or more above the last
            sy = dy = rng.randint(0, h - 3)
            height = 1
            sx = rng.randint(0, max(w - 2, 0))
            dx = min(sx + rng.randint(1, 3), w - 1) if w > 1 else sx
            width = rng.randint(1, max(w - dx, 1))
        f = {"rule": rule, "destX": dx, "destY": dy, "width": width, "height": height,
             "sourceX": sx, "sourceY": sy, "clipX": None, "clipY": None, "clipWidth": None,
             "clipHeight": None}
        halftone = ("bitmap", [rng.randrange(1 << 32)]) if rng.random() < 0.2 else None
        cases.append({"dest": dest, "source": "same", "fields": f, "halftone": halftone,
                      "cmap": _color_map(rng, depth), "alpha": rng.randint(0, 255) if rule in (30, 31) else None})
    return cases


PAIRS = [(d, s) for d in DEPTHS for s in DEPTHS]       # every (destination, source) depth pair


def _drawing_geometry(rng, rule, dest, sw, sh, same) -> dict:
    """Rule and rectangle fields that leave something to draw after clipping: a destination
    pixel (px, py) inside the forms and the clipping rectangle is drawn from the source
    pixel (qx, qy); around it the rectangles reach past the forms' and the clip's edges.
    For a copy within one Form (`same`) the source is a few pixels from the destination in
    any direction (overlapping copies both ways, and apart)."""
    px, py = rng.randrange(dest["w"]), rng.randrange(dest["h"])
    if same:
        qx = min(max(px + rng.randint(-3, 3), 0), dest["w"] - 1)
        qy = min(max(py + rng.randint(-2, 2), 0), dest["h"] - 1)
    else:
        qx, qy = rng.randrange(sw), rng.randrange(sh)
    dx = px - rng.randint(0, px + 2)
    dy = py - rng.randint(0, py + 1)
    f = {"rule": rule, "destX": dx, "destY": dy,
         "width": px - dx + rng.randint(1, sw + 2), "height": py - dy + rng.randint(1, sh + 1),
         "sourceX": qx - (px - dx), "sourceY": qy - (py - dy),
         "clipX": None, "clipY": None, "clipWidth": None, "clipHeight": None}
    if rng.random() < 0.6:
        cx, cy = px - rng.randint(0, px + 2), py - rng.randint(0, py + 1)
        f.update({"clipX": cx, "clipY": cy, "clipWidth": px - cx + rng.randint(1, dest["w"] + 2),
                  "clipHeight": py - cy + rng.randint(1, dest["h"] + 1)})
    return f


def _color_map(rng, s_depth):
    """An old-style table (a Bitmap of 2^depth entries, or 512/4096/32768 for 16 and 32
    bits) or a new-style one (shifts, masks and an optional table), or none."""
    s_depth = abs(s_depth)
    if s_depth <= 8:
        size = 1 << s_depth
    else:
        size = rng.choice((512, 4096, 32768)) if rng.random() < 0.7 else 0
    if size and rng.random() < 0.7:
        return ("bitmap", size, rng.randrange(1 << 32))
    masks = [rng.choice((0xFF0000, 0x7C00, 0xF800, 0xFF)), rng.choice((0xFF00, 0x3E0, 0x7E0)),
             rng.choice((0xFF, 0x1F)), rng.choice((0, 0xFF000000))]
    shifts = [rng.choice((-9, -6, -3, 0, 3, 6, 9)) for _ in range(4)]
    return ("new", shifts, masks, size, rng.randrange(1 << 32))


def make_cases(n: int = 480, seed: int = 20261207) -> list:
    """copyBits cases. Case k has rule RULES[k % 39] and depth pair PAIRS[k % 36] (so every
    rule meets a dozen pairs, no (rule, pair) twice); a fifth of the depths are negative
    (little-endian pixels). Nine cases in ten draw something (_drawing_geometry: a source
    Form of the pair's depth, the destination itself (overlap) or none (halftone only));
    one in ten has fields anywhere, most of them clipped to nothing, a few of them bad."""
    rng = random.Random(seed)
    cases = []
    for k in range(n):
        rule = RULES[k % len(RULES)]
        d_depth, s_depth = PAIRS[k % len(PAIRS)]
        d_depth, s_depth = [-x if rng.random() < 0.2 else x for x in (d_depth, s_depth)]
        dest = _form(rng, d_depth)
        wild = k % 10 == 9
        kind = rng.random()
        if kind < 0.1:
            source = None
        elif kind < 0.25:
            source = "same"
        else:
            source = _form(rng, s_depth)
        if source is None and rule in TALLY_RULES:
            source = "same"         # squeak-vm tallies into an earlier call's color map (see TALLY_RULES)
        for form in (dest, source):
            if isinstance(form, dict) and rng.random() < 0.3:
                form["mixed"] = True
        sw = dest["w"] if source in (None, "same") else source["w"]
        sh = dest["h"] if source in (None, "same") else source["h"]
        if wild:
            f = _geometry(rng, rule, dest, sw, sh)
            if rng.random() < 0.15:
                f["clipX"], f["clipY"], f["clipWidth"], f["clipHeight"] = None, None, None, None
            if rng.random() < 0.4:
                f[rng.choice(["destX", "width", "sourceY", "clipWidth"])] = rng.choice(
                    ["2.7", "-1.5", "(Fraction numerator: 3 denominator: 2)", "'x'"])
        else:
            f = _drawing_geometry(rng, rule, dest, sw, sh, source == "same")
        halftone = None
        if source is None or rng.random() < 0.2:
            words = [rng.randrange(1 << 32) for _ in range(rng.choice((1, 1, 2, 3, 5)))]
            halftone = ("form" if rng.random() < 0.4 else "bitmap", words)
        cmap = None
        s_depth = (dest if source in (None, "same") else source)["depth"]
        if source is not None and (rng.random() < 0.35 or rule in TALLY_RULES) and not (
                source == "same" and _turned(f)):
            cmap = _color_map(rng, s_depth)
        alpha = rng.randint(0, 255) if rule in (30, 31) else None
        cases.append({"dest": dest, "source": source, "fields": f, "halftone": halftone,
                      "cmap": cmap, "alpha": alpha})
    return cases


def _placed(rng, f, dest, extent=False):
    """The fields `f` moved inside the destination Form: destX@destY a pixel of it, no
    clipping rectangle (the whole Form) and, with `extent`, a width and height that stay
    inside it (the cases made with placed=True: each draws)."""
    f.update({"destX": rng.randrange(dest["w"]), "destY": rng.randrange(dest["h"]),
              "clipX": None, "clipY": None, "clipWidth": None, "clipHeight": None})
    if extent:
        f["width"] = rng.randint(1, dest["w"] - f["destX"])
        f["height"] = rng.randint(1, dest["h"] - f["destY"])
    return f


def make_warp_cases(n: int = 80, seed: int = 147, placed: bool = False) -> list:
    """WarpBlt cases: a source quadrilateral (14-bit fixed point corners p1 top left, p2
    bottom left, p3 bottom right, p4 top right, a few outside the source) drawn into a
    destination rectangle, with smoothing 1-3 (sourceMap for indexed sources); placed:
    the rectangle inside the destination, unclipped."""
    rng = random.Random(seed)
    cases = []
    for k in range(n):
        dest = _form(rng)
        source = _form(rng)
        smoothing = rng.choice((1, 1, 1, 2, 3))
        rule = WARP_RULES[k % len(WARP_RULES)]
        sw, sh = source["w"], source["h"]

        def corner(x, y):
            return [int((x + rng.uniform(-0.6, 0.6)) * 16384), int((y + rng.uniform(-0.6, 0.6)) * 16384)]
        quad = corner(0, 0) + corner(0, sh) + corner(sw, sh) + corner(sw, 0)
        if rng.random() < 0.3:
            quad = [v + rng.randint(-3, 3) * 16384 for v in quad]
        f = {"rule": rule,
             "destX": rng.randint(-3, dest["w"] - 1), "destY": rng.randint(-2, dest["h"] - 1),
             "width": rng.randint(1, dest["w"] + 3), "height": rng.randint(1, dest["h"] + 2),
             "sourceX": 0, "sourceY": 0,
             "clipX": rng.randint(-2, dest["w"] // 2), "clipY": rng.randint(-2, dest["h"] // 2),
             "clipWidth": rng.randint(1, dest["w"] + 4), "clipHeight": rng.randint(1, dest["h"] + 3)}
        if placed:
            _placed(rng, f, dest, extent=True)
        cmap = None
        if dest["depth"] <= 8 or (source["depth"] <= 8 and rng.random() < 0.5):
            if source["depth"] <= 8 and smoothing == 1:
                cmap = ("bitmap", 1 << source["depth"], rng.randrange(1 << 32))
            else:
                cmap = ("bitmap", rng.choice((512, 4096, 32768)), rng.randrange(1 << 32))
        source_map = None
        if source["depth"] < 16:
            source_map = ("bitmap", 1 << source["depth"], rng.randrange(1 << 32))
        cases.append({"dest": dest, "source": source, "fields": f, "halftone": None, "cmap": cmap,
                      "alpha": None, "warp": {"quad": quad, "smoothing": smoothing,
                                             "source_map": source_map}})
    return cases


def make_line_cases(n: int = 40, seed: int = 104, placed: bool = False) -> list:
    """drawLoopX:Y: cases: a pen (a source Form or none, then the halftone fills) stepped
    along a line from destX@destY by (dx, dy); placed: from a pixel of the destination,
    unclipped, (dx, dy) within twice its extent."""
    rng = random.Random(seed)
    cases = []
    for k in range(n):
        dest = _form(rng)
        source = _form(rng, dest["depth"], 4) if rng.random() < 0.5 else None
        if source is not None:
            source["w"], source["h"] = rng.randint(1, 3), rng.randint(1, 3)
        rule = rng.choice((3, 7, 6, 25, 4, 20))
        f = {"rule": rule, "destX": rng.randint(-3, dest["w"]), "destY": rng.randint(-2, dest["h"]),
             "width": rng.randint(1, 3), "height": rng.randint(1, 3), "sourceX": 0, "sourceY": 0,
             "clipX": rng.randint(-2, 3), "clipY": rng.randint(-2, 2),
             "clipWidth": rng.randint(1, dest["w"] + 4), "clipHeight": rng.randint(1, dest["h"] + 3)}
        halftone = ("bitmap", [rng.randrange(1 << 32)]) if source is None or rng.random() < 0.3 else None
        line = (rng.randint(-40, 40), rng.randint(-20, 20))
        if placed:
            _placed(rng, f, dest)
            line = (rng.randint(-2 * dest["w"], 2 * dest["w"]), rng.randint(-2 * dest["h"], 2 * dest["h"]))
        cases.append({"dest": dest, "source": source, "fields": f, "halftone": halftone, "cmap": None,
                      "alpha": None, "line": line})
    return cases


def _x_table(rng, glyphs: int, widest: int) -> list:
    """A StrikeFont's xTable for glyphs 0..glyphs (and the end): the left edge of each
    glyph in the strip, widths 0..widest."""
    xs = [0]
    for _ in range(glyphs + 1):
        xs.append(xs[-1] + rng.randint(0, widest))
    return xs


def make_text_cases(n: int = 40, seed: int = 103, placed: bool = False) -> list:
    """primDisplayString:from:to:map:xTable:kern: cases: glyphs from a 1-bit strip (x ranges
    in xTable, chosen per character by the glyph map) drawn at destX, advancing by width+kern;
    placed: from a pixel of the destination, unclipped."""
    rng = random.Random(seed)
    cases = []
    for k in range(n):
        glyphs = rng.randint(3, 12)
        xs = _x_table(rng, glyphs, 7)
        height = rng.randint(3, 9)
        source = {"w": max(xs[-1], 1), "h": height, "depth": 1, "seed": rng.randrange(1 << 32)}
        dest = _form(rng)
        glyph_map = [(i * 7 + k) % (glyphs + 1) for i in range(256)]
        text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(rng.randint(1, 12)))
        rule = rng.choice((25, 3, 34, 7))
        f = {"rule": rule, "destX": rng.randint(-5, dest["w"]), "destY": rng.randint(-2, dest["h"]),
             "width": 0, "height": height, "sourceX": 0, "sourceY": 0,
             "clipX": rng.randint(-2, 4), "clipY": rng.randint(-2, 2),
             "clipWidth": rng.randint(1, dest["w"] + 4), "clipHeight": rng.randint(1, dest["h"] + 3)}
        if placed:
            _placed(rng, f, dest)
        cmap = ("bitmap", 2, rng.randrange(1 << 32)) if dest["depth"] != 1 or rng.random() < 0.3 else None
        start = rng.randint(1, len(text))
        stop = rng.randint(start, len(text))
        cases.append({"dest": dest, "source": source, "fields": f, "halftone": None, "cmap": cmap,
                      "alpha": None, "text": {"string": text, "start": start, "stop": stop,
                                              "map": glyph_map, "xtable": xs, "kern": rng.randint(-1, 2)}})
    return cases


FONTS = (("Verdana", 13), ("VerdanaBold", 10), ("NewYork", 12), ("ComicSans", 13), ("Helvetica", 15),
         ("Scratch", 13), ("Times", 20), ("Typewriter", 17))


def make_font_cases(n: int = 24, seed: int = 1031) -> list:
    """primDisplayString:from:to:map:xTable:kern: with the image's StrikeFonts (Scratch 1.4's:
    the glyphs Form, its xTable and characterToGlyphMap; the glyphs unhibernated, as the
    image's fallback code does when the primitive fails on their compressed ByteArray
    bits), a line of text into Forms of
    every depth (through a 2-entry color map, as the image's own text drawing does, into
    depths above 1), clipped at the edges."""
    rng = random.Random(seed)
    words = ("Scratch", "Hello,", "world!", "sprite", "Looks", "move", "10", "steps", "when", "clicked")
    cases = []
    for k in range(n):
        font = FONTS[k % len(FONTS)]
        depth = DEPTHS[k % len(DEPTHS)]
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        dest = {"w": rng.randint(20, 120), "h": rng.randint(8, 24), "depth": depth, "seed": rng.randrange(1 << 32)}
        while ((dest["w"] * depth + 31) // 32) * dest["h"] > 400:
            dest["h"] -= 1
        f = {"rule": rng.choice((25, 25, 34, 3, 7)), "destX": rng.randint(-8, 20), "destY": rng.randint(-4, 6),
             "width": 0, "height": 40, "sourceX": 0, "sourceY": 0,
             "clipX": rng.randint(-2, 6), "clipY": rng.randint(-2, 3),
             "clipWidth": rng.randint(10, dest["w"] + 4), "clipHeight": rng.randint(6, dest["h"] + 3)}
        cmap = ("bitmap", 2, rng.randrange(1 << 32)) if depth != 1 or rng.random() < 0.3 else None
        start = rng.randint(1, 3) if len(text) > 3 else 1
        cases.append({"dest": dest, "source": {"font": font}, "fields": f, "halftone": None, "cmap": cmap,
                      "alpha": None, "text": {"string": text, "start": start, "stop": len(text),
                                              "kern": rng.randint(-1, 1)}})
    return cases


def make_rule41_cases(n: int = 72, seed: int = 41) -> list:
    """Rule 41 (rgbComponentAlpha: the source pixels hold an alpha per color component for
    a color given as an argument) through primitiveCopyBits with 0 to 4 arguments (color,
    its alpha, gamma and ungamma tables), from 32-bit sources (the C VM's dedicated loops
    into 32, 16 and 8 bits) and others (its word loops), a few with bad arguments; and
    rules 16, 17 and 42, which fail."""
    rng = random.Random(seed)
    cases = []
    for k in range(n):
        rule = 41 if k % 12 else (16, 17, 42)[(k // 12) % 3]
        dest = _form(rng, rng.choice((32, 32, 16, 16, 8, 8, 4, 2, 1)))
        kind = rng.random()
        if kind < 0.55:
            source = _form(rng, 32)
        elif kind < 0.8:
            source = _form(rng)
        elif kind < 0.92:
            source = "same"
        else:
            source = None
        sw = dest["w"] if source in (None, "same") else source["w"]
        sh = dest["h"] if source in (None, "same") else source["h"]
        f = _geometry_inside(rng, rule, dest, sw, sh)
        halftone = ("bitmap", [rng.randrange(1 << 32)]) if source is None or rng.random() < 0.1 else None
        cmap = None
        if source not in (None, "same") and dest["depth"] == 8 and rng.random() < 0.6:
            size = 1 << abs(source["depth"]) if abs(source["depth"]) <= 8 else rng.choice((512, 4096, 32768))
            cmap = ("bitmap", size, rng.randrange(1 << 32))
        argc = rng.choice((0, 1, 2, 2, 2, 3, 4, 4))
        color = rng.choice((rng.randrange(1 << 24), rng.randrange(1 << 30), -rng.randrange(1, 1000)))
        args = [color, rng.choice((255, 128, rng.randrange(256), rng.randrange(256, 1000))),
                ("gamma", rng.randrange(1 << 32)), ("gamma", rng.randrange(1 << 32))][:argc]
        if argc == 4 and rng.random() < 0.3:
            args[rng.choice((2, 3))] = "array"       # (a SmallInteger there crashes squeak-vm)
        if argc and rng.random() < 0.15:
            args[rng.randrange(min(argc, 2))] = rng.choice(("2.5", "nil"))
        cases.append({"dest": dest, "source": source, "fields": f, "halftone": halftone, "cmap": cmap,
                      "alpha": None, "ozblt": args})
    return cases


def _st_rule41_arg(arg) -> str:
    if isinstance(arg, tuple):
        return "((1 to: 256) collect: [:i | i * %d + %d \\\\ 256]) asByteArray" % (MULT, arg[1])
    if arg == "array":
        return "(Array new: 256 withAll: 3)"
    return str(arg)


OZBLT_SELECTORS = ("ozBlt", "ozBlt:", "ozBlt:with:", "ozBlt:with:with:", "ozBlt:with:with:with:")


def _st_ozblt(args) -> str:
    """Compile a method of BitBlt that calls primitiveCopyBits with len(args) arguments
    (the image has none for rule 41) and send it; its fallback answers #failed."""
    sel = OZBLT_SELECTORS[len(args)]
    keywords = sel.split(":")[:-1] if args else [sel]
    pattern = " ".join("%s: a%d" % (kw, i) for i, kw in enumerate(keywords)) if args else sel
    send = " ".join("%s: %s" % (kw, _st_rule41_arg(a)) for kw, a in zip(keywords, args)) if args else sel
    return ("m := (Compiler new compile: '%s <primitive: ''primitiveCopyBits'' module: ''BitBltPlugin''> "
            "^#failed' in: BitBlt notifying: nil ifFail: [nil]) generate: #(0 0 0 0). "
            "BitBlt addSelector: #%s withMethod: m. r := b %s. " % (pattern, sel, send))


def make_cursor_cases(seed: int = 101) -> list:
    """Primitive 101 (beCursor, beCursorWithMask:) through tryPrimitive:withArgs:: a good
    16x16 1-bit cursor (with and without a mask), then one field changed at a time (extent,
    depth, offset, bits). Receivers squeak-vm crashes on (a SmallInteger, a Point) and two
    arguments are left out."""
    rng = random.Random(seed)

    def form(**change):
        f = {"w": 16, "h": 16, "depth": 1, "offset": (-rng.randint(0, 16), -rng.randint(0, 16)),
             "bits": ("words", 16), "seed": rng.randrange(1 << 32)}
        f.update(change)
        return f
    variants = [{}, {"offset": (0, 0)}, {"offset": (-16, -16)}, {"offset": (1, 0)}, {"offset": (0, -17)},
                {"offset": (-17, -3)}, {"offset": "nil"}, {"offset": ("0.5", 0)}, {"w": 15}, {"h": 32},
                {"depth": 2}, {"depth": 32, "bits": ("words", 256)}, {"bits": ("words", 15)},
                {"bits": ("words", 17)}, {"bits": ("bytes", 64)}]
    cases = []
    for v in variants:
        cases.append({"cursor": form(**v), "mask": None})
    for v in variants:
        cases.append({"cursor": form(), "mask": form(**v)})
    cases.append({"cursor": form(offset=(3, 3)), "mask": form()})
    cases.append({"cursor": form(), "mask": "array"})
    return cases


def cursor_expression(case) -> str:
    def st_form(f):
        kind, n = f["bits"]
        bits = ("b := Bitmap new: %d. 1 to: %d do: [:i | b at: i put: i * %d + %d \\\\ 4294967296]. b"
                % (n, n, MULT, f["seed"]) if kind == "words" else "ByteArray new: %d" % n)
        offset = "nil" if f["offset"] == "nil" else "(%s @ %s)" % f["offset"]
        return ("((Form extent: %d@%d depth: %d) bits: ([%s] value); offset: %s; yourself)"
                % (f["w"], f["h"], f["depth"], bits, offset))
    mask = case["mask"]
    args = "#()" if mask is None else "(Array with: %s)" % ("(Array new: 5)" if mask == "array" else st_form(mask))
    return ("| r b | r := %s tryPrimitive: 101 withArgs: %s. r == ContextPart primitiveFailToken "
            "ifTrue: [#failed] ifFalse: [#ok]" % (st_form(case["cursor"]), args))


SCAN_STOP_SYMBOLS = ("space", "cr", "tab", "stopA")


def make_scan_cases(n: int = 80, seed: int = 1030) -> list:
    """Character scanning (primitive 103, primScanCharactersFrom:to:in:rightX:stopConditions:kern:,
    sent through tryPrimitive:withArgs: so that a failure shows): a scanner (destX, lastIndex,
    xTable, map) walks a string until a character with a stop condition, the right edge
    (crossedX) or the end of the run, advancing destX by each glyph's width and the kern.
    About a third of the cases have one bad field or argument."""
    rng = random.Random(seed)
    cases = []
    for k in range(n):
        glyphs = rng.randint(2, 14)
        xtable = _x_table(rng, glyphs, 9)
        glyph_map = [rng.randint(0, glyphs) for _ in range(256)]
        text = "".join(rng.choice("abcdefghij klmnop") for _ in range(rng.randint(1, 14)))
        stops = {257: "endOfRun", 258: "crossedX"}
        for ch, sym in ((" ", "space"), ("a", "stopA")):
            if rng.random() < 0.4:
                stops[ord(ch) + 1] = sym
        start = rng.randint(1, len(text))
        case = {"scan": True, "rcvr": "scanner", "argc": 6,
                "destX": rng.randint(0, 30), "lastIndex": rng.randint(0, 5),
                "xtable": xtable, "map": glyph_map, "map_size": 256, "map_put": {},
                "string": text, "string_kind": "string",
                "start": start, "stop": rng.randint(start, len(text)),
                "rightX": rng.randint(0, 40 + sum(xtable[1:]) // 2), "kern": rng.randint(-2, 3),
                "stops": stops, "stops_size": 258, "stops_kind": "array"}
        if k % 3 == 2:
            bad = rng.choice(("argc", "kern", "rightX", "start0", "stop0", "stopBig", "startBig",
                              "stringArray", "symbol", "stops257", "stops300", "stopsOC",
                              "rcvrArray3", "rcvrArray4", "rcvrPoint", "destXFloat",
                              "destXNeg", "lastNil", "mapBig", "mapNeg", "mapNil", "map255",
                              "xtableFloat", "xtableNil", "kernBig"))
            case["bad"] = bad
            if bad == "argc":
                case["argc"] = 5
            elif bad == "kern":
                case["kern"] = "1.5"
            elif bad == "kernBig":
                case["kern"] = -40
            elif bad == "rightX":
                case["rightX"] = "100.0"
            elif bad == "start0":
                case["start"] = 0
            elif bad == "stop0":
                case["stop"] = 0
            elif bad == "stopBig":
                case["stop"] = len(text) + 1
            elif bad == "startBig":
                case["start"] = len(text) + 1
            elif bad == "stringArray":
                case["string_kind"] = "array"
            elif bad == "symbol":
                case["string_kind"] = "symbol"
            elif bad == "stops257":
                case["stops_size"] = 257
                del case["stops"][258]
            elif bad == "stops300":
                case["stops_size"] = 300
            elif bad == "stopsOC":
                case["stops_kind"] = "ordered"
            elif bad.startswith("rcvr"):
                case["rcvr"] = bad[4:].lower()
            elif bad == "destXFloat":
                case["destX"] = "3.5"
            elif bad == "destXNeg":
                case["destX"] = -rng.randint(1, 5)
            elif bad == "lastNil":
                case["lastIndex"] = None
            elif bad in ("mapBig", "mapNeg", "mapNil"):
                ch = ord(rng.choice(text[case["start"] - 1:case["stop"]]))
                case["map_put"][ch] = {"mapBig": glyphs + 1, "mapNeg": -1, "mapNil": None}[bad]
            elif bad == "map255":
                case["map_size"] = 255
            elif bad in ("xtableFloat", "xtableNil"):
                i = glyph_map[ord(rng.choice(text[case["start"] - 1:case["stop"]]))]
                xtable[i + rng.randint(0, 1)] = "2.5" if bad == "xtableFloat" else None
        cases.append(case)
    return cases


def scan_expression(case) -> str:
    """The Smalltalk expression of a scan case: answers (stop reason or #failed, destX, lastIndex)."""
    parts = ["| s st m x r a | "]
    parts.append("x := Array new: %d. " % len(case["xtable"]))
    for i, v in enumerate(case["xtable"]):
        parts.append("x at: %d put: %s. " % (i + 1, "nil" if v is None else v))
    parts.append("m := Array new: %d. 1 to: %d do: [:i | m at: i put: (#(%s) at: i)]. "
                 % (case["map_size"], case["map_size"], " ".join(map(str, case["map"]))))
    for ch, v in sorted(case["map_put"].items()):
        parts.append("m at: %d put: %s. " % (ch + 1, "nil" if v is None else v))
    if case["stops_kind"] == "ordered":
        parts.append("st := OrderedCollection new. 1 to: 258 do: [:i | st add: nil]. ")
    else:
        parts.append("st := Array new: %d. " % case["stops_size"])
    for i, sym in sorted(case["stops"].items()):
        parts.append("st at: %d put: #%s. " % (i, sym))
    fields = [case["destX"], case["lastIndex"], "x", "m"]
    rcvr = case["rcvr"]
    if rcvr == "scanner":
        parts.append("s := CharacterScanner new. ")
    elif rcvr in ("array3", "array4"):
        parts.append("s := Array new: %s. " % rcvr[-1])
    elif rcvr == "point":
        parts.append("s := 3 @ 4. ")
    else:
        parts.append("s := 7. ")
    if rcvr in ("scanner", "array3", "array4"):
        for i, v in enumerate(fields[:3 if rcvr == "array3" else 4]):
            parts.append("s instVarAt: %d put: %s. " % (i + 1, "nil" if v is None else v))
    string = {"string": "'%s'", "symbol": "#'%s'", "array": "'%s' asArray"}[case["string_kind"]] % case["string"]
    args = [str(case["start"]), str(case["stop"]), string, str(case["rightX"]), "st", str(case["kern"])]
    parts.append("a := Array new: %d. " % case["argc"])
    for i, v in enumerate(args[:case["argc"]]):
        parts.append("a at: %d put: %s. " % (i + 1, v))
    parts.append("r := s tryPrimitive: 103 withArgs: a. ")
    parts.append("r := r == ContextPart primitiveFailToken ifTrue: [#failed] ifFalse: [r]. ")
    if rcvr in ("scanner", "array3", "array4"):
        parts.append("Array with: r with: (s instVarAt: 1) with: (s instVarAt: 2)")
    else:
        parts.append("Array with: r")
    return "".join(parts)


def placed_cases() -> list:
    """warpBits, drawLoop and displayString cases placed to draw (the older ones are mostly
    clipped away)."""
    return (make_warp_cases(40, 1470, placed=True) + make_line_cases(40, 1040, placed=True)
            + make_text_cases(40, 1030, placed=True))


def all_cases() -> list:
    return (make_cases() + make_turned_cases() + make_warp_cases() + make_line_cases() + make_text_cases()
            + make_font_cases() + make_scan_cases() + placed_cases() + make_rule41_cases() + make_cursor_cases())


def _st_form(name, form):
    """A Form filled as fill_value says; a negative depth (little-endian pixels) is stored
    after the Form is made with the positive one (the same bits)."""
    depth = form["depth"]
    word = "i * %d + %d \\\\ 4294967296" % (MULT, form["seed"])
    if form.get("mixed"):
        word = ("[:w | i \\\\ 4 = 0 ifTrue: [0] ifFalse: [i \\\\ 4 = 1 ifTrue: [w bitAnd: 16rFFFFFF] ifFalse: "
                "[i \\\\ 4 = 2 ifTrue: [w bitOr: 16rFF000000] ifFalse: [w]]]] value: %s" % word)
    text = ("%s := Form extent: %d@%d depth: %d. 1 to: %s bits size do: [:i | %s bits at: i put: (%s)]. "
            % (name, form["w"], form["h"], abs(depth), name, name, word))
    if depth < 0:
        text += "%s instVarAt: 4 put: %d. " % (name, depth)
    return text


def _st_bitmap(words):
    return "((Bitmap new: %d) %s yourself)" % (
        len(words), " ".join("at: %d put: %d;" % (i + 1, w) for i, w in enumerate(words)))


def _st_table(size, seed):
    return ("c := Bitmap new: %d. 1 to: %d do: [:i | c at: i put: i * %d + %d \\\\ 4294967296]. "
            % (size, size, MULT, seed))


def _st_cmap(cmap):
    """(statements that prepare it, the expression of the color map)."""
    if cmap is None:
        return "", "nil"
    if cmap[0] == "bitmap":
        _, size, seed = cmap
        return _st_table(size, seed), "c"
    _, shifts, masks, size, seed = cmap
    prep = _st_table(size, seed) if size else "c := nil. "
    return prep, "(Array with: %s with: %s with: c)" % (
        _st_bitmap([s % (1 << 32) for s in shifts]), _st_bitmap(masks))


FIELD_ORDER = ("destX", "destY", "width", "height", "sourceX", "sourceY",
               "clipX", "clipY", "clipWidth", "clipHeight")


def expression(case) -> str:
    if "cursor" in case:
        return cursor_expression(case)
    if case.get("scan"):
        return scan_expression(case)
    parts = ["| d s b r c h m | ", _st_form("d", case["dest"])]
    if case["source"] == "same":
        parts.append("s := d. ")
    elif case["source"] is None:
        parts.append("s := nil. ")
    elif "font" in case["source"]:
        parts.append("m := StrikeFont fontName: '%s' size: %d. s := m glyphs unhibernate; yourself. "
                     % case["source"]["font"])
    else:
        parts.append(_st_form("s", case["source"]))
    ht = case["halftone"]
    if ht is None:
        parts.append("h := nil. ")
    elif ht[0] == "bitmap":
        parts.append("h := %s. " % _st_bitmap(ht[1]))
    else:
        parts.append("h := Form extent: 32@%d depth: 1. h bits: %s. " % (len(ht[1]), _st_bitmap(ht[1])))
    prep, cm = _st_cmap(case["cmap"])
    parts.append(prep)
    parts.append("b := %s new. b instVarAt: 1 put: d;" % ("WarpBlt" if case.get("warp") else "BitBlt"))
    parts.append(" instVarAt: 2 put: s; instVarAt: 3 put: h; "
                 "instVarAt: 4 put: %d" % case["fields"]["rule"])
    for i, name in enumerate(FIELD_ORDER):
        v = case["fields"][name]
        parts.append("; instVarAt: %d put: %s" % (i + 5, "nil" if v is None else v))
    parts.append("; instVarAt: 15 put: %s" % cm)
    warp = case.get("warp")
    if warp:
        for i, v in enumerate(warp["quad"]):          # p1x p1y, p2x p2y, p3x p3y, p4x p4y (z: 0)
            parts.append("; instVarAt: %d put: %d" % (16 + i + i // 2, v))
        for i in (18, 21, 24, 27):
            parts.append("; instVarAt: %d put: 0" % i)
    parts.append(". ")
    if warp:
        sm = warp["source_map"]
        parts.append("m := %s. " % ("nil" if sm is None else
                                    "Bitmap new: %d. 1 to: %d do: [:i | m at: i put: i * %d + %d \\\\ 4294967296]. m"
                                    % (sm[1], sm[1], MULT, sm[2])))
        parts.append("r := b warpBitsSmoothing: %d sourceMap: m. " % warp["smoothing"])
    elif case.get("line"):
        parts.append("r := b drawLoopX: %d Y: %d. " % case["line"])
    elif case.get("text"):
        t = case["text"]
        if "font" in case["source"]:        # m: the StrikeFont, s: its glyphs
            glyph_map, x_table = "m characterToGlyphMap", "m xTable"
        else:
            glyph_map, x_table = ("#(%s)" % " ".join(map(str, t[k])) for k in ("map", "xtable"))
        parts.append("r := b primDisplayString: '%s' from: %d to: %d map: %s xTable: %s kern: %d. "
                     % (t["string"], t["start"], t["stop"], glyph_map, x_table, t["kern"]))
    elif case.get("ozblt") is not None:
        parts.append(_st_ozblt(case["ozblt"]))
    elif case["alpha"] is not None:
        parts.append("r := b copyBitsTranslucent: %d. " % case["alpha"])
    else:
        parts.append("r := b copyBits. ")
    dig = "(d bits inject: 7 into: [:a :w | a * 1000003 + w \\\\ %d])" % PRIME
    tail = ("Array with: (r == b ifTrue: [#self] ifFalse: [r]) with: %s" % dig)
    if case.get("line") or case.get("text"):
        tail += " with: (b instVarAt: 5) with: (b instVarAt: 6)"
    if case["fields"]["rule"] in (23, 33) and case["cmap"] is not None:
        tail += " with: ((b instVarAt: 15) isNil ifTrue: [0] ifFalse: [((b instVarAt: 15) isKindOf: Bitmap) ifTrue: [(b instVarAt: 15) inject: 7 into: [:a :w | a * 1000003 + w \\\\ %d]] ifFalse: [0]])" % PRIME
    parts.append(tail)
    return "".join(parts)


def regenerate() -> int:
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(HERE, "..", "src"))
    import tempfile
    import shutil
    import scratch_oracle
    cases = all_cases()
    exprs = [expression(c) for c in cases]
    folder = tempfile.mkdtemp(prefix="bitblt-oracle-")
    try:
        image = os.path.join(folder, scratch_oracle.IMAGE_NAME)
        scratch_oracle.build(scratch_oracle.SCRATCH_IMAGE, image)
        lines = scratch_oracle.run_squeak(folder, image, exprs, 600)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not lines or lines[-1] != "DONE" or len(lines) != len(exprs) + 1:
        sys.stderr.write("squeak-vm did not answer every case (%d lines)\n" % len(lines))
        return 1
    with open(EXPECTED, "w", encoding="latin-1", newline="\n") as f:
        f.write("# squeak-vm 4.10 answers for tests/bitblt_cases.py (python tests/bitblt_cases.py --regenerate)\n")
        for line in lines[:-1]:
            kind, _expr, rest = line.split("\t", 2)
            f.write("%s\t%s\n" % (kind, rest))
    return 0


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        sys.exit(regenerate())
    for c in make_warp_cases()[:3]:
        print(expression(c))
