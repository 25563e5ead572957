"""The marketer console: static pages served by the API under `/console`, with their security headers.

The console is hand-written HTML, CSS and ES modules in `assets/` (no build step). It holds no secret and
needs no token to load: every API call it makes carries the token the marketer signs in with, so it can do
nothing that token cannot. Its page is `/console`; its assets are `/console/<name>`, and the page refers to
them and to the API by relative URLs, so it works under any base path (API Gateway's stage `/v1` included).
"""

import hashlib
from dataclasses import dataclass, field
from importlib.resources import files

PAGE_PATH = "/console"
PAGE_ASSET = "index.html"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

# Only the console's own scripts, styles and images, and the API on the same origin. `form-action 'none'`:
# every form is handled by script, so a page whose script failed to load can never send the token anywhere.
# The CSV download is a link navigation to a presigned S3 URL, which no fetch directive governs.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self'",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # Asset names carry no version: the browser asks again each time and gets a 304 while the ETag holds.
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True)
class Answer:
    """What the route answers: status, content type, text body and headers."""

    status: int
    content_type: str | None
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def _load_assets() -> dict[str, tuple[str, bytes]]:
    folder = files(__name__).joinpath("assets")
    loaded: dict[str, tuple[str, bytes]] = {}
    for entry in folder.iterdir():
        suffix = entry.name[entry.name.rfind(".") :]
        if entry.is_file() and suffix in CONTENT_TYPES:
            loaded[entry.name] = (CONTENT_TYPES[suffix], entry.read_bytes())
    return loaded


_ASSETS = _load_assets()


def asset(name: str) -> tuple[str, bytes] | None:
    """The content type and bytes of one asset, or None when the console has no such file."""
    return _ASSETS.get(name)


def _path_of(name: str) -> str:
    # The page lives at /console itself (not /console/index.html), so that its relative URLs resolve beside it.
    return PAGE_PATH if name == PAGE_ASSET else f"{PAGE_PATH}/{name}"


_BY_PATH = {_path_of(name): name for name in _ASSETS}
# Every path the console serves without a token (admission lets these through).
PATHS = frozenset(_BY_PATH)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def serve(path: str, if_none_match: str | None = None) -> Answer | None:
    """The answer for a console path (200, or 304 when the browser's copy is current), or None if unknown."""
    name = _BY_PATH.get(path)
    if name is None:
        return None
    content_type, body = _ASSETS[name]
    headers = {**SECURITY_HEADERS, "ETag": etag_of(body)}
    if if_none_match and headers["ETag"] in {tag.strip() for tag in if_none_match.split(",")}:
        return Answer(304, None, "", headers)
    return Answer(200, content_type, body.decode("utf-8"), headers)
