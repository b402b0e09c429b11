"""Regexes from data files, checked before use: they must compile and may not nest unbounded repeats
(``(a+)+``), the shape that backtracks catastrophically on a long message."""
from __future__ import annotations

import re

try:  # Python 3.11+
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]


def _star_height(parsed) -> int:
    """Nesting depth of unbounded repeats in a parsed regex (sre_parse tree)."""
    height = 0
    for op, arg in parsed:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            inner = _star_height(sub)
            height = max(height, inner + (1 if high == sre_parse.MAXREPEAT or high > 10 else 0))
        elif name == "SUBPATTERN":
            height = max(height, _star_height(arg[-1]))
        elif name == "BRANCH":
            height = max(height, *(_star_height(b) for b in arg[1]))
        elif name in ("ASSERT", "ASSERT_NOT"):
            height = max(height, _star_height(arg[1]))
        elif name in ("GROUPREF", "GROUPREF_EXISTS"):
            raise ValueError("backreferences are not allowed (they make matching non-linear)")
    return height


def check_regex(pattern: str) -> re.Pattern:
    """Compile ``pattern``; raise ValueError if it is invalid or can backtrack catastrophically."""
    try:
        compiled = re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None
    if _star_height(parsed) > 1:
        raise ValueError(f"regex {pattern!r} nests unbounded repeats (like '(a+)+'), which can take "
                         "exponential time; rewrite it without a repeat inside a repeat")
    return compiled
