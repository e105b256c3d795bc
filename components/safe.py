"""Untrusted text (agent output, trace content, server errors, ids, query parameters) shown as text.

`st.error`, `st.warning`, `st.info`, `st.success`, `st.caption`, `st.markdown`, widget labels and
Plotly labels all render Markdown (and Plotly renders a subset of HTML). Every untrusted string that
goes into one of them passes through `md()` (or `plotly_text()`), which makes each character that
could start Markdown, an HTML tag, a link, an image, a Streamlit directive or a formula literal.
Prefer `st.text` / `st.code`, which render nothing, when the whole block is untrusted.
"""

from __future__ import annotations

import html
import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the ones that
# can start something: emphasis, code, links and images, HTML, headings, lists, tables, math,
# Streamlit's `:color[...]` and `:material/icon:` directives, and GFM autolinks (`http://`, `www.`).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'@%])")
MAX_INLINE = 2_000
# GFM autolink literals (`https://…`, `www.…`, `name@host.tld`) are found in the text *after* the
# escapes are resolved, so backslashes cannot stop them (measured in chromium). An invisible word
# joiner (U+2060) inside each pattern does: between `:` and `//`, after `www`, before `@`.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def md(value: object, *, limit: int | None = MAX_INLINE) -> str:
    """`value` as Markdown source that renders as exactly its text (one line per line; invisible
    word joiners keep URLs and e-mail addresses from becoming links)."""
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _AUTOLINK.sub(WORD_JOINER, text))


def plotly_text(value: object, *, limit: int = 200) -> str:
    """A Plotly label, tick or hover value: Plotly renders `<a>`, `<b>`, `<br>`… in these."""
    text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    # Plotly decodes &amp; &lt; &gt; but shows &quot; literally; with "<" escaped a quote starts nothing.
    return html.escape(text, quote=False)
