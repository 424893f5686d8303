"""Where a webhook may be delivered: public http(s) addresses only (no SSRF into the deployment).

A webhook URL is user input, and the exporter runs inside the cloud account, next to the
instance metadata service (169.254.169.254), VPC endpoints and whatever listens on loopback.
So the host is resolved here and every address it resolves to must be public: not private,
loopback, link-local, multicast, reserved, unspecified or shared (CGNAT), including IPv4
addresses wrapped in IPv6 (::ffff:10.0.0.1, 6to4, Teredo, NAT64). The exporter then connects
to one of the addresses checked here, not to a fresh lookup of the name, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot slip through.

`GRABADORA_WEBHOOK_ALLOW_PRIVATE=true` turns the address check off, for tests and for
deployments whose receivers live on a private network; only the scheme is checked then.
"""

from __future__ import annotations

import ipaddress
import socket

import httpx

from grabadora.integrations import PermanentDeliveryError, TransientDeliveryError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(address: IPAddress) -> bool:
    """Whether a delivery may go to this address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(v4 is not None and not is_public(v4) for v4 in embedded):
            return False
    # `is_global` excludes private, loopback, link-local, reserved, unspecified and shared
    # space, but counts some multicast ranges as global.
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_private: bool) -> list[IPAddress]:
    """The addresses a delivery to `url` may connect to, in resolver order.

    Empty when `allow_private` is set (connect by name as usual). Raises
    `PermanentDeliveryError` for a URL that is not http(s) or reaches a non-public address,
    and `TransientDeliveryError` when the name does not resolve (DNS may recover).
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise PermanentDeliveryError("the webhook URL is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise PermanentDeliveryError("the webhook URL must be an http:// or https:// address")
    if allow_private:
        return []
    host = parsed.host
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TransientDeliveryError(f"the webhook host {host} could not be resolved") from None
    addresses: list[IPAddress] = []
    for info in infos:
        # Drop an IPv6 zone ("fe80::1%eth0"); the address itself is what is judged.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not is_public(address):
            raise PermanentDeliveryError(
                # Never which address: that would map the deployment's network for anyone
                # who can save a webhook URL (the host name is theirs, the answer is not).
                f"the webhook host {host} resolves to a private or reserved address; "
                "webhooks are delivered only to public addresses"
            )
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TransientDeliveryError(f"the webhook host {host} could not be resolved")
    return addresses
