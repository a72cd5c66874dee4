"""Which webhook URLs are allowed: http(s) to a public host, unless the setting says otherwise."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURL(ValueError):
    """The URL may not receive webhooks; the message says why, for the admin."""


def check_url(url: str) -> None:
    """Refuse a URL that isn't http(s), or whose host resolves to a private address.

    Private, loopback, link-local, reserved and multicast addresses are refused unless
    `WEBHOOK_ALLOW_PRIVATE_HOSTS` is on (on-premises receivers, tests).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as error:  # an unclosed IPv6 bracket, ...
        raise UnsafeURL("This is not a URL.") from error
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("Use an http:// or https:// URL.")
    if not host:
        raise UnsafeURL("The URL has no host.")
    try:
        port = parts.port
    except ValueError as error:
        raise UnsafeURL("The URL's port is not a number from 0 to 65535.") from error
    if getattr(settings, "WEBHOOK_ALLOW_PRIVATE_HOSTS", False):
        return
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError) as error:
        raise UnsafeURL(f"The host {host} could not be resolved.") from error
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise UnsafeURL(
                f"The host {host} is a private, loopback or link-local address ({address}); "
                "webhooks go to public hosts only."
            )
