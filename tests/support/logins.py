"""Logging a test client in as an account that has passed two-factor authentication, without the form:
what the login form leaves in the session (tests of the form itself log in through it)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from analytics.security.two_factor import mark_verified, totp_device, totp_enrol


def verified_client(user: Any, client: Client | None = None) -> Client:
    """`client` (a new one by default) logged in as `user`, enrolled if it was not, with its code given."""
    client = client or Client()
    client.force_login(user)
    if totp_device(user) is None:
        totp_enrol(user.get_username())
    session = client.session
    device = totp_device(user)
    assert device is not None
    mark_verified(session, device)
    session.save()
    return client
