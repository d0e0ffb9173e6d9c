"""PII scrubbing for every string that is stored or sent anywhere.

Rules (docs/tracking-plan.md, "Privacy"), applied to every value and every property key:
- URL query parameters whose name marks a secret (`token`, `password`, `authToken`, …) are removed; a text
  with percent-escapes is also checked decoded (`?email=john.doe%40example.com`), and stored decoded and
  masked when the decoded text holds an email or a phone number;
- emails, internationalised ones included, become `[email]`;
- card numbers (13–19 digits, with or without spaces or dashes) that pass the Luhn check become `[card]`;
- phone numbers become `[phone]`: any number in a phone layout (with `+`, spaces, dots, dashes or
  parentheses, 10–15 digits; or `+` and 8+ digits), and any number libphonenumber (`phonenumbers`) finds
  valid — international ones in any region (written with `+` or `00`, or as bare digits as in
  `wa.me/919876543210`) and national ones of the regions in `ANALYTICS_PHONE_REGIONS` (`09876543210`);
  a number inside a word or an id (`signup_98765…`, `ord-2026-…`) is not read as a phone;
- values under identifier keys (`id`, `*_id`, `uuid`) that are only digits or an opaque token stay as they
  are (an `order_id` of 9876543210 is an id); one written as a phone number (with `+`, or spaces, dots,
  dashes or parentheses, and valid) or holding an email is masked like any text;
- IPv4 and IPv6 literals are truncated to their /24 or /48 network (an IPv4-mapped IPv6 address to the
  IPv4 /24);
- values under secret-bearing keys become `[redacted]`: the exact names of `SECRET_KEYS` (otp, phone,
  email, …) and any key containing one of `SECRET_KEY_PARTS` (`user_password`, `authToken`,
  `Authorization`, `client_secret`), case-insensitive, plus `ssn` as a name or a `_`-separated word.
The envelope refuses (422 `personal_data`) an email or a phone number as a top-level id (`user_id`,
`anonymous_id`, `session_id`) or inside an event name: those name the rows themselves, so masking them would
merge different people's events under one `[email]`.
"""

from __future__ import annotations

import re
import socket
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import phonenumbers
from django.conf import settings
from phonenumbers import Leniency, PhoneNumberMatcher

EMAIL_MARK = "[email]"
PHONE_MARK = "[phone]"
REDACTED = "[redacted]"
CARD_MARK = "[card]"

# `\w` is Unicode: `josé@exämple.com` and `用户@例子.公司` are emails too; the top-level domain is letters.
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
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
# libphonenumber's matcher (30–300 µs a text) runs only on a text with a run of 8+ digits that spaces, dashes
# or parentheses may split; its hits are dropped when they sit inside a word or an id, or hold a dot: dotted
# digits are versions and addresses (`Chrome/123.0.6312.99`, `152.201.133.0`), and a dotted phone number
# (`98765.43210`) is the phone-layout rule's.
_DIGIT_RUN = re.compile(r"(?:\d[\s\-()]{0,2}){7,}\d")
_INSIDE_WORD = re.compile(r"[\w\-]")
_CARD = re.compile(r"(?<![\w\-.])\d(?:[ \-]?\d){12,18}(?![\w\-.])")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_TOKEN = re.compile(r"\S+")  # URLs are whitespace-free tokens (a linear scan, whatever the text)
# An identifier written as a phone number: `+` or `00` and digits, or digits in groups split by separators.
_PHONE_LAYOUT = re.compile(r"\s*\+?[\d\s\-().]{7,}\d\s*")

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


@lru_cache(maxsize=8)
def _regions(setting: str) -> tuple[str, ...]:
    return tuple(region.strip().upper() for region in setting.split(",") if region.strip())


def phone_regions() -> tuple[str, ...]:
    """The regions whose national formats are read as phone numbers (`ANALYTICS_PHONE_REGIONS`)."""
    return _regions(settings.ANALYTICS_PHONE_REGIONS)


def _phone_spans(text: str) -> list[tuple[int, int]]:
    """Where libphonenumber finds a valid number not inside a word or an id: in any region written with `+`
    or `00` (the matcher's own rule), in the configured regions' national formats, and bare international
    digits (`919876543210`) read with a `+`."""
    spans: set[tuple[int, int]] = set()
    for region in phone_regions() or ("ZZ",):
        for match in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
            spans.add((match.start, match.end))
    for run in _DIGIT_RUN.finditer(text):
        digits = "".join(ch for ch in run.group(0) if ch.isdigit())
        if 11 <= len(digits) <= 15 and not run.group(0).startswith("0"):
            try:
                number = phonenumbers.parse("+" + digits, None)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                spans.add((run.start(), run.end()))
    return [
        (start, end)
        for start, end in sorted(spans)
        if "." not in text[start:end]
        and not (start > 0 and _INSIDE_WORD.match(text[start - 1]))
        and not (end < len(text) and _INSIDE_WORD.match(text[end]))
    ]


def _mask_spans(text: str, spans: list[tuple[int, int]], mark: str) -> str:
    out, last = [], 0
    for start, end in spans:
        if start < last:
            continue  # overlapping hits of two regions: the first one masks it
        out += [text[last:start], mark]
        last = end
    return "".join(out) + text[last:]


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _card_replacement(match: re.Match[str]) -> str:
    digits = "".join(ch for ch in match.group(0) if ch.isdigit())
    return CARD_MARK if 13 <= len(digits) <= 19 and digits.isascii() and _luhn(digits) else match.group(0)


def _without_secret_parameters(url: str) -> str:
    """`url` without the query parameters whose name marks a secret (the rest re-encoded as a form)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(key, value) for key, value in pairs if not is_secret_key(key)]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept, quote_via=quote, safe="[]@:/,")))


def _url_token(match: re.Match[str]) -> str:
    token = match.group(0)
    return _without_secret_parameters(token) if "?" in token and "=" in token else token


def _phone_layout(text: str) -> bool:
    """Whether an identifier's value is written as a phone number: only digits and separators, starting with
    `+` or with digit groups split by separators, and all its digits one valid number for libphonenumber.
    Digits alone are an id (`0000012345`, `919876543210`), and so is a layout libphonenumber does not take
    (`1718000000-1234`)."""
    if _PHONE_LAYOUT.fullmatch(text) is None:
        return False
    stripped = text.strip()
    if not (stripped.startswith("+") or any(ch in " .-()" for ch in stripped)):
        return False
    candidate = stripped.replace(".", " ")  # a whole value's dots are separators (`98765.43210`)
    digits = sum(ch.isdigit() for ch in candidate)
    return any(sum(ch.isdigit() for ch in candidate[start:end]) == digits for start, end in _phone_spans(candidate))


def scrub_text(text: str, *, identifier: bool = False) -> str:
    """The text with secret URL parameters removed, emails, card and phone numbers masked and IP literals
    truncated; checked again percent-decoded when it has escapes."""
    if "?" in text and "=" in text:
        text = _TOKEN.sub(_url_token, text)
    scrubbed = _scrub_plain(text, identifier=identifier)
    if "%" in scrubbed and _PERCENT_ESCAPE.search(scrubbed) is not None:
        # `%00` decodes to NUL, which no database column takes: kept as the replacement character.
        decoded = unquote(scrubbed).replace("\x00", "\ufffd")
        masked = _scrub_plain(decoded, identifier=identifier)
        if masked != decoded:
            return masked  # stored decoded: what was hidden behind the escapes is masked
    return scrubbed


def scrub_address(value: str) -> str:
    """`scrub_text(value)` for a value that is usually one IP address (a client's `context.ip`), at a fraction of
    the cost: a plain address is read by the C parser and printed as scrubbing prints its network (`203.0.113.0`,
    `2001:db8:1::`, an IPv4-mapped address written with dots as its IPv4 network); anything else is scrubbed as
    text. Equal to `scrub_text` for every value (tests compare them)."""
    try:
        packed = socket.inet_pton(socket.AF_INET6 if ":" in value else socket.AF_INET, value)
    except (OSError, ValueError):
        return scrub_text(value)
    if len(packed) == 4:
        return f"{packed[0]}.{packed[1]}.{packed[2]}.0"
    if "." in value and packed[:12] == _IPV4_MAPPED:  # (scrubbing reads the dotted tail as an IPv4 address)
        return f"{packed[12]}.{packed[13]}.{packed[14]}.0"
    return socket.inet_ntop(socket.AF_INET6, packed[:6] + bytes(10))


def _scrub_plain(text: str, *, identifier: bool) -> str:
    if "@" in text:
        text = _EMAIL.sub(EMAIL_MARK, text)
    if _DIGIT.search(text) is not None:
        if "." in text:
            if text.count(":") >= 2:
                text = _IPV6_WITH_IPV4.sub(_embedded_ipv4_replacement, text)
            text = _IPV4.sub(_ipv4_replacement, text)
        if identifier:
            if _phone_layout(text):
                text = PHONE_MARK
        elif _EIGHT_DIGITS.search(text) is not None:
            text = _CARD.sub(_card_replacement, text)
            if _PHONE_END.search(text) is not None:
                text = _PHONE.sub(_phone_replacement, text)
            if _DIGIT_RUN.search(text) is not None:
                text = _mask_spans(text, _phone_spans(text), PHONE_MARK)
    if text.count(":") >= 2:
        text = _IPV6.sub(_ipv6_replacement, text)
    return text


def identifier_holds_personal_data(value: str) -> bool:
    """Whether a top-level id holds an email, is written as a phone number, or holds an international number
    (`tel:+919876543210`); the envelope refuses it. Digits alone, or a word and digits (`user-9876543210`),
    are an id."""
    if "@" in value and _EMAIL.search(value) is not None:
        return True
    if _phone_layout(value):
        return True
    return "+" in value and any("+" in value[max(start - 1, 0) : end] for start, end in _phone_spans(value))


_NAME_SEPARATORS = re.compile(r"[\W_]+")
_LETTER_THEN_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def name_holds_personal_data(name: str) -> bool:
    """Whether an event name holds an email or a phone number, even joined to a word (`call_9876543210`,
    `call-98765-43210`, `call9876543210`)."""
    if "@" in name and _EMAIL.search(name) is not None:
        return True
    spaced = _LETTER_THEN_DIGIT.sub(" ", _NAME_SEPARATORS.sub(" ", name))
    return _DIGIT_RUN.search(spaced) is not None and bool(_phone_spans(spaced))


_QUARANTINE_DEPTH = 12
_QUARANTINE_STRING = 4096


def scrub_for_quarantine(value: object, *, depth: int = 0, identifier: bool = False) -> object:
    """A storable, scrubbed copy of anything a client sent, for the quarantine of refused events.

    Unlike the pipeline's checks this never refuses: NULs and lone surrogates are replaced, long
    strings cut, deep nesting cut, unknown types turned into their `repr`. Values under identifier keys
    (`user_id`, `*_id`, …) follow the identifier rule, as in a stored event: digits alone stay an id.
    """
    if isinstance(value, str):
        text = value[:_QUARANTINE_STRING].replace("\x00", "\ufffd")
        text = text.encode("utf-8", "replace").decode("utf-8")
        return scrub_text(text, identifier=identifier)
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
                REDACTED
                if is_secret_key(str(k)) and v is not None
                else scrub_for_quarantine(v, depth=depth + 1, identifier=is_identifier_key(str(k)))
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_for_quarantine(item, depth=depth + 1, identifier=identifier) for item in value]
    return scrub_text(repr(value)[:_QUARANTINE_STRING])
