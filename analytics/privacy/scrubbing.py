"""PII scrubbing for every string that is stored or sent anywhere.

Rules (docs/tracking-plan.md, "Privacy"):
- emails become `[email]`;
- phone numbers (with `+`, spaces, dots, dashes or parentheses, 10-15 digits; or `+` and 8+ digits)
  become `[phone]`; values under identifier keys (`id`, `*_id`, `uuid`) are not read as phones;
- IPv4 and IPv6 literals are truncated to their /24 or /48 network;
- values under secret-bearing keys become `[redacted]`: the exact names of `SECRET_KEYS` (otp, phone,
  email, …) and any key containing one of `SECRET_KEY_PARTS` (`user_password`, `authToken`,
  `Authorization`, `client_secret`), case-insensitive, plus `ssn` as a name or a `_`-separated word.
"""

from __future__ import annotations

import re
import socket

EMAIL_MARK = "[email]"
PHONE_MARK = "[phone]"
REDACTED = "[redacted]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?<![\w+\-/.:@])"  # not inside a word, an id, a path, a time or an address
    r"(\+\s?)?(?:\(?\d{1,5}\)?[\s.\-]?){1,5}\d{2,5}"
    r"(?![\w\-/.:@])"
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
# An IPv6 address written with an IPv4 tail (`::ffff:203.0.113.77`, `64:ff9b::192.0.2.33`): read whole, before
# the IPv4 and IPv6 patterns would each take half of it (which left `::.0.113.0`).
_IPV6_WITH_IPV4 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,6}(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV4_MAPPED = bytes(10) + b"\xff\xff"
_DIGIT = re.compile(r"\d")
# Two things every `_PHONE` match that gets masked needs; a text without either skips the pattern,
# whose backtracking costs ~15 µs on digit-and-dot texts such as a truncated IP ("152.201.133.0"):
# at least 8 digits (`_phone_replacement` masks nothing shorter), and an end of two digits that
# `_PHONE`'s closing look-ahead accepts.
_EIGHT_DIGITS = re.compile(r"(?:\d\D*){8}")
_PHONE_END = re.compile(r"\d\d(?![\w\-/.:@])")

SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "otp",
        "otp_code",
        "code_value",
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "api_key",
        "phone",
        "phone_number",
        "mobile",
        "mobile_number",
        "email",
        "email_address",
        "card_number",
        "cvv",
    }
)


# A key containing one of these (case-insensitive) holds a secret whatever surrounds it. The tracking plan's
# own properties contain none of them (`otp_type`, `method`, `failure_reason`, …).
SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "passcode",
    "token",
    "secret",
    "authorization",
    "api_key",
    "apikey",
    "card_number",
    "cardnumber",
    "cvv",
)


def is_secret_key(key: str) -> bool:
    """Whether a property named `key` holds a secret (its value is stored as `[redacted]`)."""
    return _is_secret(key.lower())


def _is_secret(lowered: str) -> bool:
    if lowered in SECRET_KEYS or any(part in lowered for part in SECRET_KEY_PARTS):
        return True
    return "ssn" in lowered.split("_")


def is_identifier_key(key: str) -> bool:
    return _is_identifier(key.lower())


def _is_identifier(lowered: str) -> bool:
    return lowered in ("id", "uuid") or lowered.endswith(("_id", "_uuid"))


def key_rules(key: str) -> tuple[bool, bool]:
    """(its value is a secret to redact, its value is an identifier) for a property key."""
    lowered = key.lower()
    return _is_secret(lowered), _is_identifier(lowered)


def _phone_replacement(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if match.group(1) and digits >= 8:
        return PHONE_MARK
    has_separator = any(ch in " .-()" for ch in text.strip())
    if 10 <= digits <= 15 and (has_separator or digits == 10 or digits == 12):
        return PHONE_MARK
    return text


def _ipv4_replacement(match: re.Match[str]) -> str:
    text = match.group(0)
    octets = text.split(".")
    # `ipaddress.IPv4Address`'s rules, without its cost: ASCII digits (the pattern's `\d` also takes
    # other scripts' digits), no leading zero, at most 255. The /24 network keeps three octets.
    if all(octet.isascii() and (octet[0] != "0" or octet == "0") and int(octet) <= 255 for octet in octets):
        return f"{octets[0]}.{octets[1]}.{octets[2]}.0"
    return text


def _ipv6_replacement(match: re.Match[str]) -> str:
    text = match.group(0)
    if text.count(":") < 2:
        return text
    # The C parser and printer: for the pattern's hex-and-colon texts they accept exactly what
    # `ipaddress.IPv6Address` accepts and print a /48 network as it does, at a twentieth the cost.
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        return text
    return socket.inet_ntop(socket.AF_INET6, packed[:6] + bytes(10))


def _embedded_ipv4_replacement(match: re.Match[str]) -> str:
    """An IPv4-mapped address is the IPv4 address (its /24, as the tracking plan keeps it); another IPv6
    address with an IPv4 tail is an IPv6 address (its /48)."""
    text = match.group(0)
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        return text
    if packed[:12] == _IPV4_MAPPED:
        return f"{packed[12]}.{packed[13]}.{packed[14]}.0"
    return socket.inet_ntop(socket.AF_INET6, packed[:6] + bytes(10))


def scrub_text(text: str, *, identifier: bool = False) -> str:
    """The text with emails and phone numbers masked and IP literals truncated."""
    if "@" in text:
        text = _EMAIL.sub(EMAIL_MARK, text)
    if _DIGIT.search(text) is not None:
        if "." in text:
            if text.count(":") >= 2:
                text = _IPV6_WITH_IPV4.sub(_embedded_ipv4_replacement, text)
            text = _IPV4.sub(_ipv4_replacement, text)
        if not identifier and _EIGHT_DIGITS.search(text) is not None and _PHONE_END.search(text) is not None:
            text = _PHONE.sub(_phone_replacement, text)
    if text.count(":") >= 2:
        text = _IPV6.sub(_ipv6_replacement, text)
    return text


_QUARANTINE_DEPTH = 12
_QUARANTINE_STRING = 4096


def scrub_for_quarantine(value: object, *, depth: int = 0) -> object:
    """A storable, scrubbed copy of anything a client sent, for the quarantine of refused events.

    Unlike the pipeline's checks this never refuses: NULs and lone surrogates are replaced, long
    strings cut, deep nesting cut, unknown types turned into their `repr`.
    """
    if isinstance(value, str):
        text = value[:_QUARANTINE_STRING].replace("\x00", "\ufffd")
        text = text.encode("utf-8", "replace").decode("utf-8")
        return scrub_text(text)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)  # JSON storage holds 64-bit integers
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if depth >= _QUARANTINE_DEPTH:
        return "[nesting cut]"
    if isinstance(value, dict):
        return {
            str(scrub_for_quarantine(str(k), depth=depth)): (
                REDACTED if is_secret_key(str(k)) and v is not None else scrub_for_quarantine(v, depth=depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_for_quarantine(item, depth=depth + 1) for item in value]
    return scrub_text(repr(value)[:_QUARANTINE_STRING])
