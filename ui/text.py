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
# shortcodes (":"), maths ("$"). A "www." or "http://" cannot autolink once its "." or ":" is escaped.
_ACTIVE = re.compile(r"([\\`*_{}\[\]<>()#!|~:$&])")
_WWW = re.compile(r"(?i)\b(www)\.")
# What opens a block at the start of a line: a list item, a quote, a heading, a setext underline, a code fence.
_LINE_START = re.compile(r"(?m)^(\s*)([-+=])")
_LINE_START_NUMBER = re.compile(r"(?m)^(\s*\d+)([.)])")


def plain(text: object) -> str:
    """``text`` as literal characters inside Markdown: no link, image, emphasis, heading, directive or maths."""
    value = "" if text is None else str(text)
    value = _ACTIVE.sub(r"\\\1", value)
    value = _WWW.sub(r"\1\\.", value)
    value = _LINE_START.sub(r"\1\\\2", value)
    value = _LINE_START_NUMBER.sub(r"\1\\\2", value)
    return value.replace("\r\n", "\n").replace("\n", "  \n")
