"""A plain listing of V3 bytecodes (for `oz compile` and for reading test failures)."""
from __future__ import annotations

from .codegen import SPECIAL_SELECTORS


def listing(code, literal_names=None) -> list:
    """One line per instruction: 'pc  bytes  meaning'."""
    lits = literal_names or []

    def lit(i):
        return lits[i] if i < len(lits) else "lit%d" % i

    out = []
    pc = 0
    n = len(code)
    while pc < n:
        b = code[pc]
        size = 1
        if b < 16:
            text = "push rcvr %d" % b
        elif b < 32:
            text = "push temp %d" % (b - 16)
        elif b < 64:
            text = "push const %s" % lit(b - 32)
        elif b < 96:
            text = "push litvar %s" % lit(b - 64)
        elif b < 104:
            text = "pop into rcvr %d" % (b - 96)
        elif b < 112:
            text = "pop into temp %d" % (b - 104)
        elif b < 120:
            text = "push " + ("self", "true", "false", "nil", "-1", "0", "1", "2")[b - 112]
        elif b < 124:
            text = "return " + ("self", "true", "false", "nil")[b - 120]
        elif b == 124:
            text = "return top"
        elif b == 125:
            text = "block return top"
        elif b in (128, 129, 130):
            x = code[pc + 1]
            size = 2
            kind = ("rcvr %d", "temp %d", "const %s", "litvar %s")[x >> 6]
            idx = x & 63
            what = kind % (lit(idx) if x >> 6 >= 2 else idx)
            text = ("push ", "store ", "pop into ")[b - 128] + what
        elif b in (131, 133):
            x = code[pc + 1]
            size = 2
            text = ("send " if b == 131 else "super send ") + "%s (%d args)" % (lit(x & 31), x >> 5)
        elif b == 132:
            x, y = code[pc + 1], code[pc + 2]
            size = 3
            op = x >> 5
            text = ["send %s (%d args)" % (lit(y), x & 31), "super send %s (%d args)" % (lit(y), x & 31),
                    "push rcvr %d" % y, "push const %s" % lit(y), "push litvar %s" % lit(y),
                    "store rcvr %d" % y, "pop into rcvr %d" % y, "store litvar %s" % lit(y)][op]
        elif b == 134:
            x = code[pc + 1]
            size = 2
            text = "send %s (%d args)" % (lit(x & 63), x >> 6)
        elif b == 135:
            text = "pop"
        elif b == 136:
            text = "dup"
        elif b == 137:
            text = "push thisContext"
        elif b == 138:
            x = code[pc + 1]
            size = 2
            text = ("pop %d into new array" % (x & 127)) if x & 128 else "push new array %d" % x
        elif b in (140, 141, 142):
            x, y = code[pc + 1], code[pc + 2]
            size = 3
            text = ("push", "store", "pop into")[b - 140] + " temp %d of vector temp %d" % (x, y)
        elif b == 143:
            x, hi, lo = code[pc + 1], code[pc + 2], code[pc + 3]
            size = 4
            text = "closure copied %d args %d size %d" % (x >> 4, x & 15, hi * 256 + lo)
        elif b < 152:
            text = "jump +%d" % (b - 143)
        elif b < 160:
            text = "jump false +%d" % (b - 151)
        elif b < 168:
            size = 2
            text = "jump %+d" % ((b - 164) * 256 + code[pc + 1])
        elif b < 172:
            size = 2
            text = "jump true +%d" % ((b - 168) * 256 + code[pc + 1])
        elif b < 176:
            size = 2
            text = "jump false +%d" % ((b - 172) * 256 + code[pc + 1])
        elif b < 208:
            text = "send " + SPECIAL_SELECTORS[b - 176]
        else:
            text = "send %s (%d args)" % (lit(b & 15), (b - 208) >> 4)
        out.append("%3d  %-12s %s" % (pc, " ".join(str(x) for x in code[pc:pc + size]), text))
        pc += size
    return out
