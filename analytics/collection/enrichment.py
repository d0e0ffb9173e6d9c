"""Enrichment: user agent parsing (ua-parser, the maintained uap-core rules) and page fields."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse as parse_ua

DEVICE_TYPES = frozenset({"mobile", "tablet", "desktop", "bot", "other"})
_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "HarmonyOS", "Tizen"})
_DESKTOP_OS = frozenset({"Windows", "Mac OS X", "macOS", "Linux", "Ubuntu", "Chrome OS", "Fedora", "FreeBSD"})


@dataclass(frozen=True)
class Agent:
    device_type: str
    browser: str
    os: str


def _version(family: str, major: str | None) -> str:
    return f"{family} {major}" if major else family


@lru_cache(maxsize=8192)
def parse_user_agent(user_agent: str) -> Agent:
    """Device type, browser and OS of a user agent string ('' fields when unknown)."""
    if not user_agent:
        return Agent("", "", "")
    result = parse_ua(user_agent[:512])
    device = result.device.family if result.device else ""
    os_family = result.os.family if result.os else ""
    browser = _version(result.user_agent.family, result.user_agent.major) if result.user_agent else ""
    os_name = _version(os_family, result.os.major) if result.os else ""
    if device == "Spider":
        kind = "bot"
    elif "iPad" in device or (os_family == "Android" and "Mobile" not in user_agent):
        # Google's convention: Android tablets omit the "Mobile" token.
        kind = "tablet"
    elif os_family in _MOBILE_OS:
        kind = "mobile"
    elif os_family in _DESKTOP_OS:
        kind = "desktop"
    else:
        kind = "other"
    return Agent(kind, "" if browser == "Other" else browser[:64], "" if os_name == "Other" else os_name[:64])
