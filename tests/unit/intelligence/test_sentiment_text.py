"""Preparing a text: HTML removed, the documented truncation rule, PII scrubbed before anything else."""

from __future__ import annotations

from analytics.intelligence.sentiment.text import HEAD_CHARS, JOINER, MAX_CHARS, TAIL_CHARS, clean_text, prepare_text


def test_html_tags_scripts_comments_and_entities_are_removed() -> None:
    html = (
        "<div><p>Great <b>show</b> &amp; friendly&nbsp;staff</p><script>alert('x')</script>"
        "<!-- hidden --><style>p{color:red}</style><br/>Would go again</div>"
    )
    assert clean_text(html) == "Great show & friendly staff Would go again"


def test_entity_encoded_markup_is_removed_too() -> None:
    assert clean_text("&lt;b&gt;Loved it&lt;/b&gt;") == "Loved it"


def test_text_without_markup_keeps_its_symbols() -> None:
    assert clean_text("I <3 this, 5 > 4 and\n\n it was   fun :)") == "I <3 this, 5 > 4 and it was fun :)"


def test_a_long_text_keeps_its_first_and_last_parts_joined_by_an_ellipsis() -> None:
    opening = "The opening act was wonderful. " * 200  # 6,200 characters
    closing = " But the ending was a disaster and I want my money back."
    prepared = prepare_text(opening + "filler words here. " * 5_000 + closing)  # ~100 kB
    assert prepared.truncated
    assert len(prepared.text) <= MAX_CHARS + len(JOINER)
    assert prepared.text.startswith("The opening act was wonderful.")
    assert prepared.text.endswith("I want my money back.")
    head, tail = prepared.text.split(JOINER)
    assert HEAD_CHARS - 200 <= len(head) <= HEAD_CHARS and TAIL_CHARS - 200 <= len(tail) <= TAIL_CHARS
    assert head.split(" ")[-1] in {"The", "opening", "act", "was", "wonderful."}  # cut at spaces, no word split
    assert tail.split(" ", 1)[0] in {"filler", "words", "here."}


def test_a_short_text_is_not_truncated() -> None:
    prepared = prepare_text("Short and sweet.")
    assert (prepared.text, prepared.truncated) == ("Short and sweet.", False)


def test_a_huge_html_text_is_cut_before_cleaning_and_still_truncated_by_the_rule() -> None:
    prepared = prepare_text("<p>" + "nice event " * 100_000 + "</p>")  # 1.1 MB
    assert prepared.truncated and len(prepared.text) <= MAX_CHARS + len(JOINER)
    assert "<" not in prepared.text


def test_emails_and_phone_numbers_are_scrubbed_from_the_prepared_text() -> None:
    prepared = prepare_text("Mail me at riya.k@example.com or call +91 98765 43210, the host was rude!")
    assert "example.com" not in prepared.text and "98765" not in prepared.text
    assert "[email]" in prepared.text and "[phone]" in prepared.text
    assert prepared.text.endswith("the host was rude!")
