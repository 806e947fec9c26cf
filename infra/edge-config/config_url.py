"""The edge config's URL rule, as the custom resource applies it before fetching a URL.

The same rule as the Rust config types (`HttpsUrl::parse` in shared/src/config/fields.rs), which
the custom resource cannot run (the Lambda Python runtime has no WebAssembly host): `https://`
with a host, or plain `http://` only when the parsed host is exactly a loopback address or
`localhost`, so `http://127.0.0.1.evil.com` and `http://localhost@evil` are refused, as are
`file://` and every other scheme urllib would open. It is a whitelist of the URLs reelgate needs,
not a general parser: anything two parsers could read differently (user info, `127.1`, leading
zeros, percent-encoded hosts, IPv6 zone ids) is refused. tests/py/test_config_url.py checks it
against the bundle's own validator, URL by URL.
"""

import ipaddress

URL_SHAPE = "must be an https:// URL (http:// only to 127.0.0.1, [::1] or localhost)"
PATH_PUNCTUATION = set("-._~/:@!$&'()+,;=")
DNS_LABEL = set("abcdefghijklmnopqrstuvwxyz0123456789-")


class UrlError(ValueError):
    """A URL field the edge would refuse; the message names the field, never the value."""

    def __init__(self, field, problem):
        super().__init__(f"Config field {field} {problem}")


def check_url(field, text):
    """Returns `text` if it is a URL the edge accepts in `field`; raises UrlError otherwise."""
    if not isinstance(text, str) or "://" not in text:
        raise UrlError(field, URL_SHAPE)
    scheme, rest = text.split("://", 1)
    slash = rest.find("/")
    authority, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    if "@" in authority:
        raise UrlError(field, "must not contain user info (user@host)")
    host, port = split_port(authority)
    kind = host_kind(host)
    if kind is None:
        raise UrlError(field, "has no valid host (lowercase DNS name, dotted IPv4 or [IPv6])")
    if not (scheme == "https" or (scheme == "http" and kind == "loopback")):
        raise UrlError(field, URL_SHAPE)
    if port is not None and not port_ok(port, 443 if scheme == "https" else 80):
        raise UrlError(field, "has a port that is not 1-65535 without leading zeros or is the scheme's default")
    if "?" in path or "#" in path:
        raise UrlError(field, "must not contain ? or #")
    path_chars = all(c.isascii() and (c.isalnum() or c in PATH_PUNCTUATION) for c in path)
    if not path_chars or any(segment in (".", "..") for segment in path.split("/")):
        raise UrlError(
            field,
            "has a path with characters other than letters, digits and -._~/:@!$&'()+,;= or a . or .. segment",
        )
    return text


def split_port(authority):
    """`host[:port]` of an authority; an IPv6 literal keeps its brackets."""
    colon = authority.rfind(":")
    if colon >= 0 and "]" not in authority[colon:]:
        return authority[:colon], authority[colon + 1:]
    return authority, None


def host_kind(host):
    """"loopback", "remote", or None for a host outside the accepted forms."""
    if host.startswith("[") and host.endswith("]"):
        literal = host[1:-1]
        # Python reads zone ids (`%eth0`); Rust's Ipv6Addr does not.
        if "%" in literal or not literal.isascii():
            return None
        try:
            address = ipaddress.IPv6Address(literal)
        except ValueError:
            return None
        # Only ::1, as Rust's Ipv6Addr::is_loopback (newer Pythons also count ::ffff:127.0.0.1).
        return "loopback" if address == ipaddress.IPv6Address("::1") else "remote"
    last = host.rsplit(".", 1)[-1]
    if all(c in "0123456789" for c in last):
        # Dotted-quad only: `127.1`, `0177.0.0.1` and friends mean different hosts to different parsers.
        octets = host.split(".")
        if len(octets) != 4 or not all(dotted_octet(o) for o in octets):
            return None
        return "loopback" if octets[0] == "127" else "remote"
    labels_ok = all(
        1 <= len(label) <= 63 and not label.startswith("-") and not label.endswith("-") and set(label) <= DNS_LABEL
        for label in host.split(".")
    )
    if len(host) > 253 or not labels_ok:
        return None
    return "loopback" if host == "localhost" else "remote"


def dotted_octet(text):
    """0-255 in decimal without leading zeros, as Rust's Ipv4Addr reads an octet."""
    return (
        1 <= len(text) <= 3
        and all(c in "0123456789" for c in text)
        and (text == "0" or not text.startswith("0"))
        and int(text) <= 255
    )


def port_ok(text, default):
    """1-65535 without leading zeros and not the scheme's default, as Rust's `u16` parse reads it
    (which takes one leading `+`)."""
    digits = text[1:] if text.startswith("+") else text
    if text.startswith("0") or not digits or not all(c in "0123456789" for c in digits):
        return False
    value = int(digits)
    return 0 < value <= 65535 and value != default
