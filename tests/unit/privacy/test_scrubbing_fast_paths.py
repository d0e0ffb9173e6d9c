"""The hot path's shortcuts give exactly the answers of the slow, obvious code they replace.

IP truncation uses the C parser (`socket.inet_pton`) instead of `ipaddress`, the phone pattern is
skipped for texts that cannot hold a masked number, a client's IP is scrubbed for the fingerprint through the
C parser too, and the envelope remembers keys and values that passed unchanged (docs/benchmarks.md). Each is
checked against the reference on edge cases and on a seeded sample of random texts.
"""

from __future__ import annotations

import ipaddress
import random
import re
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest

from analytics.collection import envelope
from analytics.collection.envelope import RequestContext, prepare_event
from analytics.privacy import scrubbing
from analytics.privacy.network import truncate_ip
from tests.factories import event

RECEIVED = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _reference_truncate_ip(value: str) -> str:
    try:
        address = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _reference_scrub(text: str, *, identifier: bool = False) -> str:
    """`scrub_text` as written before its shortcuts: `ipaddress`, and every card and phone rule on every text."""

    def ipv4(match: re.Match[str]) -> str:
        try:
            address = ipaddress.IPv4Address(match.group(0))
        except ValueError:
            return match.group(0)
        return str(ipaddress.IPv4Network(f"{address}/24", strict=False).network_address)

    def ipv6(match: re.Match[str]) -> str:
        if match.group(0).count(":") < 2:
            return match.group(0)
        try:
            address = ipaddress.IPv6Address(match.group(0))
        except ValueError:
            return match.group(0)
        return str(ipaddress.IPv6Network(f"{address}/48", strict=False).network_address)

    def embedded(match: re.Match[str]) -> str:
        try:
            address = ipaddress.IPv6Address(match.group(0))
        except ValueError:
            return match.group(0)
        if address.ipv4_mapped is not None:
            return str(ipaddress.IPv4Network(f"{address.ipv4_mapped}/24", strict=False).network_address)
        return str(ipaddress.IPv6Network(f"{address}/48", strict=False).network_address)

    def plain(text: str) -> str:
        text = scrubbing._EMAIL.sub(scrubbing.EMAIL_MARK, text)
        text = scrubbing._IPV6_WITH_IPV4.sub(embedded, text)
        text = scrubbing._IPV4.sub(ipv4, text)
        if identifier:
            if scrubbing._phone_layout(text):
                text = scrubbing.PHONE_MARK
        else:
            text = scrubbing._CARD.sub(scrubbing._card_replacement, text)
            text = scrubbing._PHONE.sub(scrubbing._phone_replacement, text)
            text = scrubbing._mask_spans(text, scrubbing._phone_spans(text), scrubbing.PHONE_MARK)
        return scrubbing._IPV6.sub(ipv6, text)

    text = " ".join(  # every whitespace-free token, URL or not: the secret-parameter rule leaves others alone
        scrubbing._without_secret_parameters(token) for token in text.split(" ")
    )
    scrubbed = plain(text)
    decoded = unquote(scrubbed).replace("\x00", "\ufffd")
    masked = plain(decoded)
    return masked if masked != decoded else scrubbed


@pytest.mark.parametrize(
    "value",
    [
        "203.0.113.77",
        " 203.0.113.77 ",
        "0.0.0.0",  # noqa: S104
        "255.255.255.255",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3",
        "1.2.3.4.5",
        "\u0661.\u0662.\u0663.\u0664",
        "2001:db8:1:2::5",
        "[2001:db8:abcd:12::1]",
        "::ffff:203.0.113.77",
        "::1.2.3.4",
        "::",
        "::1",
        "1:2:3:4:5:6:7::",
        "1::2::3",
        "fe80::1%eth0",
        "not-an-ip",
        "",
        "1.2.3.4\x00",
    ],
)
def test_truncate_ip_matches_ipaddress(value: str) -> None:
    assert truncate_ip(value) == _reference_truncate_ip(value)


def test_truncate_ip_matches_ipaddress_on_random_addresses() -> None:
    rng = random.Random(20240611)
    for _ in range(5000):
        if rng.random() < 0.5:
            value = ".".join(str(rng.choice((0, 1, 10, 99, 255, 256, rng.randrange(300)))) for _ in range(4))
        else:
            words = [format(rng.choice((0, 0, 1, 0xFFFF, rng.randrange(65536))), "x") for _ in range(8)]
            start = rng.randrange(8)
            end = rng.randrange(start, 9)
            value = ":".join(words[:start]) + ("::" if end > start else ":") + ":".join(words[end:])
        assert truncate_ip(value) == _reference_truncate_ip(value), value


def test_scrub_address_matches_scrub_text_on_addresses_and_on_anything_else() -> None:
    # The envelope fingerprints a client's IP as `scrub_address` leaves it: it must be exactly what `scrub_text`
    # made of it, or replays stored by earlier releases would no longer match.
    rng = random.Random(20261205)
    values = [
        "::ffff:203.0.113.77",
        "::ffff:cb00:714d",
        "64:ff9b::192.0.2.33",
        "::1.2.3.4",
        "[2001:db8::1]",
        " 203.0.113.77",
        "fe80::1%eth0",
        "01.2.3.4",
        "2001:DB8:1:2::5",
        "ip 198.51.100.7 or priya@example.in",
        "",
    ]
    for _ in range(3000):
        v4 = ipaddress.IPv4Address(rng.getrandbits(32))
        v6 = ipaddress.IPv6Address(rng.getrandbits(128))
        values += [str(v4), str(v6), v6.exploded.upper(), f"::ffff:{v4}", f"2001:db8:{rng.getrandbits(16):x}::{v4}"]
        values.append(str(ipaddress.IPv6Address(rng.getrandbits(48) << 80)))  # a /48 already: '::' compression
    for value in values:
        assert scrubbing.scrub_address(value) == scrubbing.scrub_text(value), value


@pytest.mark.parametrize(
    "text",
    [
        "from 203.0.113.77 and 10.0.0.255",
        "01.2.3.4",
        "256.1.2.3",
        "\u0661.\u0662.\u0663.\u0664",
        "v6 2001:db8:1:2::5 here",
        "FFFF:ABCD:0:1::",
        "1:2:3:4:5:6:7:8:9",
        "1::2::3",
        "::ffff:0:0",
        "::ffff:203.0.113.77",
        "::ffff:01.2.3.4",
        "64:ff9b::192.0.2.33",
        "1::2::1.2.3.4",
        "152.201.133.0",
        "call +91 98765 43210",
        "98765.43210",
        "(987) 654-3210",
        "+1 (415) 555-0100",
        "9876543210",
        "ticket 12345678",
        "7:30 pm, 2026-03-10",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) Chrome/124.0.6367.82 Mobile Safari/537.36",
        "09876543210",
        "00919876543210",
        "https://wa.me/919876543210?text=hi%20there",
        "card 4111 1111 1111 1111",
        "/p?email=a%40b.co&token=x",
        "ord-2026-000123",
    ],
)
@pytest.mark.parametrize("identifier", [False, True])
def test_scrub_text_matches_the_reference(text: str, identifier: bool) -> None:
    assert scrubbing.scrub_text(text, identifier=identifier) == _reference_scrub(text, identifier=identifier)


def test_scrub_text_matches_the_reference_on_random_texts() -> None:
    rng = random.Random(7)
    atoms = [
        "1",
        "12",
        "123",
        "98765",
        "43210",
        "0",
        "255",
        "256",
        "+",
        "+91",
        " ",
        ".",
        "-",
        "(",
        ")",
        ":",
        "::",
        "/",
        "@",
        "a",
        "ff",
        "ffff",
        "::ffff:",
        "1.2.3.4",
        "db8",
        "2001",
        "priya",
        "example.com",
        "_",
        "\u0663",
        "²",
        "7:30",
        "v1.2.3",
        "é",
        "\n",
        "?",
        "=",
        "&",
        "%40",
        "%2",
        "0091",
        "4111",
        "tel:",
    ]
    for _ in range(5000):
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 14)))
        for identifier in (False, True):
            assert scrubbing.scrub_text(text, identifier=identifier) == _reference_scrub(text, identifier=identifier), (
                text
            )


def test_remembered_values_never_include_anything_scrubbing_changed() -> None:
    pii = {"note": "priya@example.com", "phone_like": "+91 98765 43210", "ip_text": "seen from 203.0.113.77"}
    for _ in range(3):  # the second and third passes go through the memo
        prepared = prepare_event(
            event(properties={**pii, "screen": "HomeScreen"}, context={"ip": "203.0.113.77"}),
            source="tracker",
            request=RequestContext(received_at=RECEIVED),
        )
        assert prepared.properties == {
            "note": "[email]",
            "phone_like": "[phone]",
            "ip_text": "seen from 203.0.113.0",
            "screen": "HomeScreen",
        }
        assert prepared.ip_prefix == "203.0.113.0/24"
    remembered = envelope._known_texts[False] | envelope._known_texts[True] | set(envelope._known_keys)
    assert "HomeScreen" in remembered
    assert not {*pii.values(), "203.0.113.77"} & remembered


def test_a_remembered_value_is_still_refused_where_its_checks_fail() -> None:
    request = RequestContext(received_at=RECEIVED)
    prepare_event(event(properties={"note": "fine", "fine": 1}), source="tracker", request=request)
    for properties in ({"note": "fine\x00"}, {"fine\x00": 1}):
        with pytest.raises(envelope.EventRejected) as rejected:
            prepare_event(event(properties=properties), source="tracker", request=request)
        assert rejected.value.code == "invalid_characters"


@pytest.mark.parametrize(
    ("field", "good", "refused", "code"),
    [
        ("event_name", "screen_viewed", "call_9876543210", "personal_data"),
        ("event_name", "screen_viewed", "9 lives", "invalid_event_name"),
        ("user_id", "user-9876543210", "priya@example.com", "personal_data"),
        ("user_id", "user-9876543210", "+91 98765 43210", "personal_data"),
        ("user_id", "user-9876543210", "u\x00", "invalid_characters"),
    ],
)
def test_a_name_or_id_is_remembered_only_once_it_passed_its_checks(
    field: str, good: str, refused: str, code: str
) -> None:
    """Catches: the event-name or id memo keeping a value that a check refused (so the next event with it
    stored)."""
    known = envelope._known_names if field == "event_name" else envelope._known_ids
    request = RequestContext(received_at=RECEIVED)
    assert prepare_event(event(**{field: good}), source="tracker", request=request)
    assert good in known
    for _ in range(2):  # the second pass would go through the memo
        with pytest.raises(envelope.EventRejected) as rejected:
            prepare_event(event(**{field: refused}), source="tracker", request=request)
        assert rejected.value.code == code
    assert refused not in known
