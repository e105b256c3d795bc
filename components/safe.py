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
# Streamlit's `:color[...]` and `:material/icon:` directives.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'@%])")
# GFM autolinks (`http://…`, `www.…`, `a@b.c`) are found in the text after escapes are resolved, so
# escaping cannot stop them (measured in chromium); an invisible word joiner inside the pattern does.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"
MAX_INLINE = 2_000


def md(value: object, *, limit: int | None = MAX_INLINE) -> str:
    """`value` as Markdown source that renders as its text (one line per line), never as a link:
    word joiners, which are invisible, sit inside anything GFM would turn into one."""
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
