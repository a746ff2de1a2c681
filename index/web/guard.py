"""Server-side request forgery guard: URLs from chat must not reach the bot's own network.

Every URL (and every redirect hop) is checked before it is fetched: the scheme must be
http or https, and every address the host name resolves to must be public. Private,
loopback, link-local, multicast, reserved and unspecified addresses are refused unless
`fetch.allow_private` is set for a trusted setup.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from index.errors import FetchError, UnsafeURLError

_SCHEMES = {"http", "https"}


def check_scheme(url: str) -> str:
    """The URL's host name; UnsafeURLError unless it is an http(s) URL with a host."""
    host, _ = _host_and_port(url)
    return host


def check_url(url: str, allow_private: bool) -> None:
    """Refuse non-http(s) URLs, and (unless allowed) hosts that resolve to private addresses."""
    host, port = _host_and_port(url)
    if allow_private:
        return
    for address in resolve(host, port):
        if not is_public(address):
            raise UnsafeURLError(
                f"{host} resolves to the private or local address {address}; refused "
                "(set fetch.allow_private for trusted setups)"
            )


def _host_and_port(url: str) -> tuple[str, int | None]:
    """The host and port exactly as httpx will connect to them; FetchError when malformed."""
    # httpx's IDNA 2008 encoding, not Python's "idna" codec (IDNA 2003), which maps some
    # names to another host ("ß" becomes "ss"): resolve the name that is connected to
    try:
        parts = httpx.URL(url)
        urlsplit(url).port  # noqa: B018 (raises ValueError for a malformed port)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(f"not a valid URL ({exc})") from None
    if parts.scheme.lower() not in _SCHEMES:
        raise UnsafeURLError(f"only http and https URLs can be fetched, not {parts.scheme}:")
    host = parts.raw_host.decode("ascii")
    if not host:
        raise UnsafeURLError("the URL has no host name")
    return host, parts.port


def resolve(host: str, port: int | None) -> set[str]:
    """Every IP address the host name resolves to."""
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"can't resolve host {host} ({exc.args[-1]})") from None
    return {str(info[4][0]) for info in infos}


def is_public(address: str) -> bool:
    """Whether an IP address is globally routable (IPv4 inside IPv6 is checked as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None and not is_public(str(ip.sixtofour)):
            return False  # 6to4 (2002::/16) carrying a private IPv4 address
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)
