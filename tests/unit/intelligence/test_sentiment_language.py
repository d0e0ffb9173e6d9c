"""The English check: other languages are caught, English (short, slangy, emoji) is not."""

from __future__ import annotations

import pytest

from analytics.intelligence.sentiment.language import english_vocabulary, language_check


@pytest.mark.parametrize(
    "text",
    [
        "The concert was amazing and the staff were lovely.",
        "LMAO, AMAZING!",
        "meh. the venue was ok i guess",
        "Meh, it was fine I guess.",
        "@anonymous see you at the gig tonight #excited http://t.co/abc",
    ],
)
def test_english_texts_pass(text: str) -> None:
    assert language_check(text).english


@pytest.mark.parametrize(
    "text",
    [
        "El concierto fue increíble, la banda tocó durante tres horas.",
        "Très déçu par l'organisation, rien n'était prêt à l'heure.",
        "Leider war die Veranstaltung schlecht organisiert und viel zu voll.",
        "कार्यक्रम बहुत अच्छा था, हमें बहुत मज़ा आया।",
        "Khana thanda tha aur staff ka behaviour bhi theek nahi tha.",
        "コンサートは最高でした。また行きたいです。",
        "Концерт был потрясающий, атмосфера просто супер.",
    ],
)
def test_other_languages_are_caught(text: str) -> None:
    check = language_check(text)
    assert not check.english
    assert check.english_share is not None and check.english_share < 0.95


def test_text_without_words_is_language_neutral() -> None:
    check = language_check("😍😍😍 !!! 10/10")
    assert check.english and check.words == 0 and check.english_share is None


def test_the_vocabulary_comes_from_installed_packages_and_is_large() -> None:
    vocabulary = english_vocabulary()
    assert len(vocabulary) > 50_000
    assert {"concert", "venue", "ticket", "disappointing", "awesome"} <= vocabulary
