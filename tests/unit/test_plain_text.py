"""Text from outside is shown as text: ``ui.text.plain`` checked with a CommonMark renderer nobody here wrote
(markdown-it-py), on the hostile texts of the issue and on Hypothesis' own."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ui.text import plain

RENDER = MarkdownIt("commonmark").enable("table").enable("strikethrough")
HOSTILE = [
    "[Click here to re-authorize](https://evil.example/phish) ![t](http://attacker/r.png)",
    "<img src=x onerror=alert(1)> <https://evil.example/autolink>",
    "**Bakkerij** _B.V._ `code` ~~gone~~ | a | b |",
    "# Heading\n- item\n1. first\n> quote\n---",
    ":red[Rood] :material/warning: $x^2$ &amp;",
]


def rendered(text: str) -> str:
    return RENDER.render(f"Company: {plain(text)}")


def test_the_issues_hostile_texts_render_as_their_own_characters():
    for text in HOSTILE:
        html = rendered(text)
        for tag in ("<a ", "<img", "<em>", "<strong>", "<code>", "<s>", "<h1", "<ul>", "<ol>", "<blockquote>", "<hr",
                    "<table"):
            assert tag not in html, (text, html)


def test_streamlits_own_syntax_and_autolinks_are_broken_up():
    assert plain(":red[x]") == "\\:red\\[x\\]"
    assert plain("$x$") == "\\$x\\$"
    assert "www." not in plain("see www.evil.example") and "www" in plain("see www.evil.example")
    assert "://" not in plain("https://evil.example") and "\u200b" in plain("https://evil.example")
    assert "\u200b@" in plain("mail anna@demo-bureau.nl")


def test_ordinary_names_read_the_same():
    assert plain("Bakkerij De Gouden Korst B.V.") == "Bakkerij De Gouden Korst B.V."
    assert plain("journaal-2026.csv") == "journaal-2026.csv"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=60))
def test_any_ascii_text_comes_out_as_one_paragraph_of_its_own_characters(text):
    html = rendered(text)
    assert html.count("<p>") <= 1
    for tag in ("<a ", "<img", "<em>", "<strong>", "<code>", "<h1", "<h2", "<ul>", "<ol>", "<blockquote>", "<hr"):
        assert tag not in html, (text, html)
