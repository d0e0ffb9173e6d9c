"""PII scrubbing for every string that is stored or sent anywhere.

Rules (docs/tracking-plan.md, "Privacy"):
- emails become `[email]`;
- phone numbers (with `+`, spaces, dots, dashes or parentheses, 10-15 digits; or `+` and 8+ digits)
  become `[phone]`; values under identifier keys (`id`, `*_id`, `uuid`) are not read as phones;
- IPv4 and IPv6 literals are truncated to their /24 or /48 network;
- values under secret-bearing keys (password, otp, token, phone, email, …) become `[redacted]`.
"""

from __future__ import annotations

import ipaddress
import re

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
_DIGIT = re.compile(r"\d")

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


def is_identifier_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in ("id", "uuid") or lowered.endswith("_id") or lowered.endswith("_uuid")


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
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        return text
    return str(ipaddress.IPv4Network(f"{address}/24", strict=False).network_address)


def _ipv6_replacement(match: re.Match[str]) -> str:
    text = match.group(0)
    if text.count(":") < 2:
        return text
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return text
    return str(ipaddress.IPv6Network(f"{address}/48", strict=False).network_address)


def scrub_text(text: str, *, identifier: bool = False) -> str:
    """The text with emails and phone numbers masked and IP literals truncated."""
    if "@" in text:
        text = _EMAIL.sub(EMAIL_MARK, text)
    if _DIGIT.search(text) is not None:
        if "." in text:
            text = _IPV4.sub(_ipv4_replacement, text)
        if not identifier:
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
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if depth >= _QUARANTINE_DEPTH:
        return "[nesting cut]"
    if isinstance(value, dict):
        return {
            str(scrub_for_quarantine(str(k), depth=depth)): (
                REDACTED if str(k).lower() in SECRET_KEYS and v is not None else scrub_for_quarantine(v, depth=depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_for_quarantine(item, depth=depth + 1) for item in value]
    return scrub_text(repr(value)[:_QUARANTINE_STRING])
