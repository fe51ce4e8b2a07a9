"""ALLOWED_IMAGES as the OpenAPI document says it: its fnmatch patterns as the images a
submission may name, exactly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simdock.domain.images import IMAGE

#: What an ECMA-262 pattern (JSON Schema's) treats as syntax outside a class.
_SPECIAL = frozenset("\\^$.|?*+()[]{}")


def allowed_images_schema(patterns: Sequence[str]) -> dict[str, Any]:
    """JSON Schema keywords that narrow an image reference to ``patterns``: the names
    themselves when none has a wildcard (what the default, ``sim:local``, is), else a
    pattern besides the image reference's own."""
    if all(not set(p) & set("*?[") for p in patterns):
        return {"enum": sorted(p for p in set(patterns) if IMAGE.fullmatch(p))}
    return {"allOf": [{"pattern": allowed_images_pattern(patterns)}]}


def allowed_images_pattern(patterns: Sequence[str]) -> str:
    """A JSON Schema pattern matching the names ``fnmatch.fnmatchcase`` matches with one of
    ``patterns`` (none: a pattern nothing matches)."""
    if not patterns:
        return "^(?!)$"
    return "^(?:" + "|".join(_translated(p) for p in patterns) + ")$"


def _translated(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append("[\\s\\S]*")  # any characters, as fnmatch's * (newlines too)
        elif c == "?":
            out.append("[\\s\\S]")
        elif c == "[":
            j = i + 1 if i < n and pattern[i] == "!" else i
            j = j + 1 if j < n and pattern[j] == "]" else j
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: fnmatch takes it literally
                out.append("\\[")
                continue
            members = pattern[i:j].replace("\\", "\\\\")
            i = j + 1
            if members.startswith("!"):
                members = "^" + members[1:]
            elif members.startswith("^"):
                members = "\\" + members
            out.append(f"[{members}]")
        else:
            out.append("\\" + c if c in _SPECIAL else c)
    return "".join(out)
