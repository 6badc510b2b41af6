"""Text a person types (themes file, CLI, review page): one rule for what a field accepts, one for printing.

A one-line field accepts no control character at all (NUL, ESC, CR, LF, tab, DEL, C1, and the
invisible bidi/line separators that reorder or break a line); a multi-line field accepts LF and tab.
Every message and listing prints such text through `printable`, so nothing typed can move the
cursor, clear a terminal or forge a line of output.
"""

from __future__ import annotations

import unicodedata

# Unicode's line/paragraph separators and the bidi controls that can make text read differently
# from how it is stored (CVE-2021-42574 "Trojan Source"); ZWJ/ZWNJ/ZWSP stay (emoji, Indic, CJK need them).
_INVISIBLE = {
    "\u2028",
    "\u2029",
    *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2066, 0x206A)),
    "\u200e",
    "\u200f",
    "\u061c",
}


def _is_control(char: str, allow_newlines: bool) -> bool:
    if allow_newlines and char in "\n\t":
        return False
    return unicodedata.category(char) == "Cc" or char in _INVISIBLE


def control_characters(text: str, *, allow_newlines: bool = False) -> list[str]:
    """The distinct control characters in `text`, as escapes (`\\x00`, `\\x1b`, `\\n`), in order of appearance."""
    found = dict.fromkeys(
        repr(char)[1:-1] if char.isascii() else f"U+{ord(char):04X}"
        for char in text
        if _is_control(char, allow_newlines)
    )
    return list(found)


def check_plain_text(text: str, *, allow_newlines: bool = False) -> str:
    """`text` itself, or ValueError naming its control characters (one-line fields allow no line break)."""
    if found := control_characters(text, allow_newlines=allow_newlines):
        kind = "a line break or control character" if not allow_newlines else "a control character"
        raise ValueError(f"has {kind} ({', '.join(found[:5])}): write plain text")
    return text


def printable(text: str) -> str:
    """`text` with every control character escaped, safe to print on one line of a terminal."""
    return "".join(
        (repr(char)[1:-1] if char.isascii() else f"\\u{ord(char):04x}") if _is_control(char, False) else char
        for char in text
    )
