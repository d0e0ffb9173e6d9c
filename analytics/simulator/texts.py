"""Review and feedback texts whose tone follows the experience.

A review is put together from an opener, one or two remarks about an aspect of the listing (in the
words of its category) and a closer, each chosen from the tone's own list — thousands of different
sentences, none of them carrying personal data. Tone: positive for ratings 4-5, neutral for 3,
negative for 1-2.
"""

from __future__ import annotations

import random

POSITIVE, NEUTRAL, NEGATIVE = "positive", "neutral", "negative"

SUBJECTS: dict[str, tuple[str, ...]] = {
    "music": ("the set", "the band", "the sound", "the playlist", "the vocals"),
    "tech": ("the talks", "the speakers", "the workshop", "the demos", "the Q&A"),
    "food": ("the food", "the menu", "the tasting", "the chef", "the portions"),
    "sports": ("the match", "the game", "the coaching", "the warm-up", "the turf"),
    "art": ("the workshop", "the instructor", "the materials", "the session", "the gallery"),
    "networking": ("the crowd", "the conversations", "the format", "the icebreakers", "the people"),
    "wellness": ("the session", "the instructor", "the breathing exercises", "the space", "the pace"),
    "comedy": ("the comics", "the jokes", "the headliner", "the crowd work", "the lineup"),
}

OPENERS: dict[str, tuple[str, ...]] = {
    POSITIVE: (
        "Absolutely loved it!",
        "What a great evening.",
        "Really well organised.",
        "Totally worth it.",
        "Such a fun experience.",
        "Had an amazing time.",
        "Exceeded my expectations.",
        "Loved every minute.",
        "Brilliant event.",
        "Paisa vasool, honestly.",
    ),
    NEUTRAL: (
        "It was okay.",
        "Decent event overall.",
        "Not bad, not great.",
        "An average evening.",
        "Mixed feelings about this one.",
        "It was fine.",
        "Reasonable for the price.",
        "Somewhat enjoyable.",
    ),
    NEGATIVE: (
        "Really disappointed.",
        "Not worth the money.",
        "Poorly organised.",
        "Would not recommend.",
        "Waste of an evening.",
        "Very underwhelming.",
        "Quite frustrating experience.",
        "Expected much better.",
    ),
}

REMARKS: dict[str, tuple[str, ...]] = {
    POSITIVE: (
        "{subject} was fantastic",
        "{subject} was top notch",
        "the host was super welcoming",
        "{subject} kept everyone engaged",
        "the venue had a lovely vibe",
        "everything started on time",
        "{subject} was even better than described",
        "met some wonderful people",
        "the check-in was quick and smooth",
        "{subject} was the highlight of my week",
    ),
    NEUTRAL: (
        "{subject} was alright",
        "the venue was a bit crowded",
        "{subject} was fine but nothing special",
        "it started a little late",
        "{subject} could have been longer",
        "the crowd was quiet",
        "parking was a hassle",
        "{subject} was hit and miss",
    ),
    NEGATIVE: (
        "{subject} was a letdown",
        "it started almost an hour late",
        "the venue was cramped and noisy",
        "{subject} felt rushed",
        "the host barely showed up",
        "nothing like the description",
        "{subject} was badly planned",
        "the sound and seating were terrible",
        "felt like a cash grab",
    ),
}

CLOSERS: dict[str, tuple[str, ...]] = {
    POSITIVE: (
        "Will definitely come again.",
        "Highly recommend it.",
        "Can't wait for the next one.",
        "Bringing friends next time.",
        "Five stars from me.",
        "Thank you to the host!",
        "",
    ),
    NEUTRAL: (
        "Might come again.",
        "Could be better with some tweaks.",
        "Okay for a one-time visit.",
        "Hope the next one is better.",
        "",
        "",
    ),
    NEGATIVE: (
        "Won't be coming back.",
        "I want a refund.",
        "Please fix the basics.",
        "Very poor value.",
        "Avoid this one.",
        "",
    ),
}

FEEDBACK: dict[str, tuple[str, ...]] = {
    POSITIVE: (
        "Love the app, finding events is so easy.",
        "Great selection of events in my city.",
        "The new search is really fast.",
        "Booking and payment were smooth.",
        "Super easy to find plans for the weekend.",
        "Nice clean design, keep it up.",
    ),
    NEUTRAL: (
        "Would like more filters in search.",
        "Please add events in more cities.",
        "Notifications are a bit too frequent.",
        "It would help to see who else is going.",
        "Can you add a calendar export?",
        "Dark mode please.",
    ),
    NEGATIVE: (
        "Payments keep failing, very annoying.",
        "The app crashes when I open my tickets.",
        "My request was declined with no reason.",
        "Refunds take far too long.",
        "Search results are not relevant at all.",
        "Too many bugs after the last update.",
    ),
}


def tone_of_rating(rating: int) -> str:
    return POSITIVE if rating >= 4 else NEUTRAL if rating == 3 else NEGATIVE


def review_text(rng: random.Random, *, rating: int, category: str) -> str:
    tone = tone_of_rating(rating)
    subjects = SUBJECTS.get(category, ("the event",))
    remarks = rng.sample(REMARKS[tone], 2 if rng.random() < 0.45 else 1)
    filled = [remark.format(subject=rng.choice(subjects)) for remark in remarks]
    body = " and ".join(filled)
    parts = [rng.choice(OPENERS[tone]), body[0].upper() + body[1:] + ".", rng.choice(CLOSERS[tone])]
    if rng.random() < 0.2:
        parts = parts[1:]  # some reviews skip the opener
    return " ".join(part for part in parts if part)


def feedback_text(rng: random.Random, *, frustration: float) -> str:
    if frustration > 1.2:
        tone = NEGATIVE if rng.random() < 0.8 else NEUTRAL
    elif frustration > 0.4:
        tone = rng.choice((NEGATIVE, NEUTRAL, NEUTRAL, POSITIVE))
    else:
        tone = POSITIVE if rng.random() < 0.6 else NEUTRAL
    return rng.choice(FEEDBACK[tone])
