"""Text from outside — names users typed, files they imported, Visma's answers, the address bar — shown as text.

Streamlit renders the body of ``st.markdown``, ``st.error``, ``st.caption``, toasts and labels as Markdown (with
links, images, Streamlit's ``:color[…]`` and ``:material/…:`` directives and ``$`` maths), so a company called
``[Click here](https://evil.example)`` would become a working link. ``plain`` escapes every character Markdown or
those directives act on; what the product writes around it stays Markdown.
"""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation. These are the characters that open something inline:
# emphasis, code, links and images, HTML and entities, tables, strike-through, Streamlit's directives and emoji
# shortcodes (":"), maths ("$").
_ACTIVE = re.compile(r"([\\`*_{}\[\]<>()#!|~:$&])")
# GFM turns bare "http://…", "www.…" and e-mail addresses into links even when their punctuation is escaped (seen in
# Streamlit's renderer in Chromium): an invisible zero-width space breaks each of them up.
_AUTOLINKS = re.compile(r"(?i)(://|\bwww\.|@)")
_ZWSP = "\u200b"
# What opens a block at the start of a line: a list item, a quote, a heading, a setext underline, a code fence.
_LINE_START = re.compile(r"(?m)^(\s*)([-+=])")
_LINE_START_NUMBER = re.compile(r"(?m)^(\s*\d+)([.)])")


def plain(text: object) -> str:
    """``text`` as literal characters inside Markdown: no link, image, emphasis, heading, directive or maths."""
    value = "" if text is None else str(text)
    value = _AUTOLINKS.sub(_break_autolink, value)
    value = _ACTIVE.sub(r"\\\1", value)
    value = _LINE_START.sub(r"\1\\\2", value)
    value = _LINE_START_NUMBER.sub(r"\1\\\2", value)
    return value.replace("\r\n", "\n").replace("\n", "  \n")


def _break_autolink(match: re.Match) -> str:
    found = match.group(1)
    if found == "@":
        return _ZWSP + found
    return found[:-1] + _ZWSP + found[-1]  # "://" → ":/\u200b/", "www." → "www\u200b."
