"""ozvm: a Smalltalk virtual machine in Python that holds real Squeak/Pharo images as object spaces."""
from __future__ import annotations

__version__ = "0.1.0"
