"""Allowed targets of outbound webhooks: public addresses only.

An endpoint URL on a private, link-local or otherwise non-public network would let an API
key make this server send requests into its own network (169.254.169.254 is the cloud
metadata service, for one). URLs are checked twice: when an endpoint is saved (literal
addresses and local names, without DNS) and before each send (every address the host
name resolves to). Loopback is allowed when settings.DEBUG or
settings.OUTBOUND_WEBHOOK_ALLOW_LOOPBACK is on, for a receiver on the same machine.
"""

import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

# Suffixes of names for the machine itself, multicast DNS on the local network, home
# networks, and the hosts of a cloud provider's internal network.
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(ValueError):
    """The URL points at an address that outbound webhooks must not reach."""


def loopback_allowed() -> bool:
    return bool(settings.DEBUG or settings.OUTBOUND_WEBHOOK_ALLOW_LOOPBACK)


def check_url(url: str) -> None:
    """Raise UnsafeTarget if the URL's host is a non-public address or a local name."""
    host = _host(url)
    address = _literal(host)
    if address is not None:
        _check_address(address, url)
        return
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        if not loopback_allowed():
            raise UnsafeTarget(
                f"{url} points at this machine (loopback); use a public address, or set "
                "OUTBOUND_WEBHOOK_ALLOW_LOOPBACK for a receiver on the same machine."
            )
        return
    if name.endswith(LOCAL_SUFFIXES) or "." not in name:
        raise UnsafeTarget(
            f"{url} names a host of a local network ({host}); use a public host name."
        )


def check_resolved(url: str) -> None:
    """Raise UnsafeTarget unless every address the URL's host resolves to is allowed."""
    # NOTE: the HTTP client resolves the name again when it connects, so a DNS server that
    # answers differently the second time (DNS rebinding) is not stopped by this check.
    check_url(url)
    host = _host(url)
    if _literal(host) is not None:
        return
    port = urlsplit(url).port or 443
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        # Not unsafe: the send fails with the same error and is retried.
        logger.info("webhook host %s did not resolve: %s", host, exc)
        return
    for *_, sockaddr in found:
        _check_address(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]), url)


def _host(url: str) -> str:
    host = urlsplit(url).hostname
    if not host:
        raise UnsafeTarget(f"{url} has no host; give a URL such as https://example.com/hooks.")
    return host


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _check_address(address: Address, url: str) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        if loopback_allowed():
            return
        raise UnsafeTarget(
            f"{url} points at this machine ({address}, loopback); use a public address, or "
            "set OUTBOUND_WEBHOOK_ALLOW_LOOPBACK for a receiver on the same machine."
        )
    if not address.is_global or address.is_multicast:
        kind = "link-local" if address.is_link_local else "private or reserved"
        raise UnsafeTarget(f"{url} points at {address}, a {kind} address; use a public address.")
