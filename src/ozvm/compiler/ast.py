"""Parse tree nodes of Smalltalk methods; every node keeps its source offset `pos`."""
from __future__ import annotations


class Node:
    kind = "node"


class Literal(Node):
    kind = "literal"

    def __init__(self, value, pos):
        self.value = value
        self.pos = pos


class Variable(Node):
    """A name: a temp, an argument, an instance/class/pool/global variable or a pseudo
    variable (self super true false nil thisContext). `binding` is set by the code generator."""
    kind = "variable"

    def __init__(self, name, pos):
        self.name = name
        self.pos = pos
        self.binding = None


class Assign(Node):
    kind = "assign"

    def __init__(self, variable, value, pos):
        self.variable = variable
        self.value = value
        self.pos = pos


class Send(Node):
    """A message; `receiver` is None for the parts of a cascade."""
    kind = "send"

    def __init__(self, receiver, selector, args, pos):
        self.receiver = receiver
        self.selector = selector
        self.args = args
        self.pos = pos
        self.special = None     # set by the code generator for inlined control structures


class Cascade(Node):
    kind = "cascade"

    def __init__(self, receiver, messages, pos):
        self.receiver = receiver
        self.messages = messages
        self.pos = pos


class Block(Node):
    """`args` and `temps` are lists of TempDecl."""
    kind = "block"

    def __init__(self, args, temps, statements, pos):
        self.args = args
        self.temps = temps
        self.statements = statements
        self.pos = pos
        self.scope = None

    def is_just_nil(self) -> bool:
        s = self.statements
        return len(s) == 1 and s[0].kind == "variable" and s[0].name == "nil"


class Return(Node):
    kind = "return"

    def __init__(self, expr, pos):
        self.expr = expr
        self.pos = pos


class Brace(Node):
    kind = "brace"

    def __init__(self, elements, pos):
        self.elements = elements
        self.pos = pos


class TempDecl:
    """A declared argument or temporary (name and position)."""
    __slots__ = ("name", "pos")

    def __init__(self, name, pos):
        self.name = name
        self.pos = pos


class Pragma:
    __slots__ = ("selector", "args", "pos")

    def __init__(self, selector, args, pos):
        self.selector = selector
        self.args = args
        self.pos = pos


class MethodNode:
    """A whole method (or do-it). `body` is a Block with the method's temps and statements."""
    __slots__ = ("selector", "args", "body", "pragmas", "primitive", "source")

    def __init__(self, selector, args, body, pragmas, primitive, source):
        self.selector = selector
        self.args = args
        self.body = body
        self.pragmas = pragmas
        self.primitive = primitive
        self.source = source
