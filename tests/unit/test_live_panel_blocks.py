"""How the live panel cuts an answer into blocks: nothing lost, blocks bounded, drawn blocks stable."""

from __future__ import annotations

import random

from components.live_panel import PARAGRAPH_SOFT_LIMIT, split_blocks


def test_paragraphs_become_blocks_and_long_ones_are_cut_at_a_space() -> None:
    assert split_blocks("one\n\ntwo") == ["one", "two"]
    words = " ".join(f"w{i:04d}" for i in range(600))  # 3,599 characters, no paragraph break
    blocks = split_blocks(words)
    assert len(blocks) == 3 and all(len(b) <= PARAGRAPH_SOFT_LIMIT for b in blocks)
    assert " ".join(blocks) == words  # only the space at each cut is dropped
    assert split_blocks("x" * 3100) == ["x" * 1500, "x" * 1500, "x" * 100]  # no space: cut hard
    assert split_blocks("a\n\n " + "x" * 1600) == ["a", " " + "x" * 1499, "x" * 101]  # nor a block of nothing


def test_growing_text_never_changes_a_block_but_the_last() -> None:
    # The panel redraws only blocks that changed: text growing at its end (a stream) must leave
    # every earlier block as drawn, and nothing may be lost or repeated.
    rng = random.Random(3)
    pieces = ["word ", "x" * 40, " " * 30, "\n", "\n\n", "⟦12:34⟧ ", "a"]
    for _ in range(40):
        text, drawn = "", []
        for _ in range(400):
            before = text
            text += rng.choice(pieces)
            blocks = split_blocks(text)
            assert all(len(b) <= PARAGRAPH_SOFT_LIMIT for b in blocks)
            assert "".join(blocks).replace(" ", "") == text.replace("\n\n", "").replace(" ", "")
            stable = drawn[:-1]
            if not before.endswith("\n"):  # a trailing "\n" may still become a paragraph break
                assert blocks[: len(stable)] == stable
            drawn = blocks
