"""Every URL rule in one place: Argilla's API URL, webhook URLs as Argilla checks and stores them, and showing a URL
without its password.

Messages name no option: callers add which setting or flag the URL came from.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, HttpUrl, TypeAdapter

MAX_URL = 2083  # Argilla's limit on a webhook URL
# How much of a URL a message shows: Argilla stores percent-encoded URLs thousands of characters long.
URL_SHOWN = 100
_EXAMPLE = "http://127.0.0.1:8000/"
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def hide_userinfo(url: str) -> str:
    """`url` fit for a message: its user name and password shown as ***, also when the URL is malformed
    (`http://u:p@ss@h`, `u:p@h`); host, path and query stay (`?notify=ops@example.org` is not a password)."""
    scheme_end = url.find("//")
    start = scheme_end + 2 if scheme_end >= 0 else 0
    at = url.rfind("@", start, _first_of(url, "/?#", start))  # the userinfo, as a URL parser reads it
    if at < 0:
        # A raw `/` or `#` in a password ends the authority early (`http://u:pa/ss@h`): an `@` before the query
        # is taken for the end of a password too, at the cost of hiding the host of a path that holds one.
        at = url.rfind("@", start, _first_of(url, "?", start))
        if at < 0:
            return url
    return url[:start] + "***" + url[at:]


def _first_of(text: str, characters: str, start: int) -> int:
    found = [i for i in (text.find(c, start) for c in characters) if i >= 0]
    return min(found, default=len(text))


def shorten_url(url: str) -> str:
    """The URL as a message shows it: its first URL_SHOWN characters, and its length when it is longer."""
    return url if len(url) <= URL_SHOWN else f"{url[:URL_SHOWN]}... ({len(url)} characters)"


def shown_api_url(url: str) -> str:
    """An API URL fit for a message, where a key pasted into it would show: its user info, query and fragment as
    ***, and its path too (`/***`) unless it is empty or `/api/v1` (which messages advise about). Argilla's base URL
    has none of those, so a working URL is shown whole."""
    url = hide_userinfo(url.strip())  # first: a password holding `/` or `#` would end the host early
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or not parts.netloc:
        return "(not shown: not a URL, perhaps a key)"
    host = parts.netloc.rpartition("@")[2]
    shown = f"{parts.scheme}://{'***@' if '@' in parts.netloc else ''}{host}"
    shown += parts.path if parts.path.rstrip("/") in ("", "/api/v1") else "/***"
    return shown + ("?***" if "?" in url else "") + ("#***" if "#" in url else "")


def check_api_url(api_url: str, example: str) -> str:
    """Argilla's base URL without a trailing slash; ValueError when it is not http(s) with a host and a valid port.

    A user name or password is refused (Argilla takes the key in a header, and they would end up in messages and
    profiles), and so are a query and a fragment (the client appends /api/v1/... to the URL). `example` is the URL a
    message suggests.
    """
    api_url = api_url.strip()  # a newline from `$(cat url.txt)`, a space pasted along
    shown = shown_api_url(api_url)
    try:
        parts = urlsplit(api_url)
        port = parts.port  # ValueError past 65535
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in api_url) or port == 0:
        raise ValueError(f"malformed API URL {shown}: expected e.g. {example}")
    if "@" in parts.netloc:
        raise ValueError(f"the API URL {shown} holds a user name or password: remove them (the API key is sent apart)")
    if "?" in api_url or "#" in api_url:
        raise ValueError(f"the API URL {shown} has a query or fragment: give the server's base URL, e.g. {example}")
    return api_url.rstrip("/")


def check_url(value: str) -> str:
    """A webhook URL by Argilla's own rule, checked before sending: http(s) with a host, at most 2083 characters."""
    if len(value) > MAX_URL:
        raise ValueError(f"URL is longer than {MAX_URL} characters")
    check_url_shape(value)
    try:
        AnyHttpUrl(value)
    except ValueError:
        raise ValueError(f"{_quoted(value)} is not a valid http(s) URL with a host (e.g. {_EXAMPLE})") from None
    return value


def check_url_shape(url: str) -> str:
    """What any URL must look like: http(s) with a host after `//` (and a numeric port, if any), by a lenient parse.

    Not Argilla's full rule (`check_url`): a URL the server already holds was valid for the server, even where our
    pydantic, or the length of its stored, percent-encoded form, says otherwise. `http:///path` is refused: pydantic,
    and so Argilla, would store it as `http://path/`, which nobody means.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"{_quoted(url)} is not an http(s) URL (e.g. {_EXAMPLE})")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
        netloc, host = parts.netloc, parts.hostname
    except ValueError:
        netloc, host = "?", None  # e.g. a bracket left open: pydantic's parse below gives the verdict
    if not netloc:
        raise ValueError(f"{_quoted(url)} has no host after // (e.g. {_EXAMPLE})")
    if not host and url_problem(url) is not None:
        raise ValueError(f"{_quoted(url)} is not a valid http(s) URL with a host (e.g. {_EXAMPLE})")
    return url


def url_problem(url: str) -> Optional[str]:
    """Why Argilla would refuse this URL in a create (`check_url`), or None."""
    if len(url) > MAX_URL:
        return f"URL is longer than {MAX_URL} characters"
    try:
        AnyHttpUrl(url)
    except ValueError:
        return f"{_quoted(url)} is not a valid http(s) URL with a host (e.g. {_EXAMPLE})"
    return None


def _quoted(url: str) -> str:
    return repr(shorten_url(hide_userinfo(url)))


@lru_cache(maxsize=None)
def _http_url() -> TypeAdapter:
    return TypeAdapter(HttpUrl)


def normalize_url(url: str) -> str:
    """The URL as Argilla stores it: `str(pydantic.HttpUrl(url))`, exactly what its WebhookCreate schema does.

    Lower-cased scheme and host, default port dropped, `/` for an empty path, dot segments resolved, IDNA hosts
    punycoded. A URL pydantic refuses is returned unchanged.
    """
    try:
        return str(_http_url().validate_python(url))
    except ValueError:
        return url


def http_url(host: str, port: int, path: str) -> str:
    """`http://host:port/path`, with an IPv6 host in brackets."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{path}"


def loopback_as_one(url: str) -> str:
    """The URL normalized, with localhost, 127.0.0.1 and [::1] written alike: each reaches a listener on loopback."""
    parts = urlsplit(normalize_url(url))
    if parts.hostname in LOOPBACK:
        parts = parts._replace(netloc=f"loopback:{parts.port or ''}")
    return parts.geturl()


def landing(url: str) -> tuple[str, str, str]:
    """Where a request to `url` lands: scheme, loopback-as-one host and port, and the path as a receiver routes it
    (with or without its trailing slash, whatever the query)."""
    parts = urlsplit(loopback_as_one(url))
    return parts.scheme, parts.netloc, parts.path.rstrip("/")
