"""A stable file name for an article from its link: the same link always lands in the same file.

`web/<host>/<slug>-<8 hex>.md`, where the slug comes from the link's last path segment and the hex
from a hash of the normalised link (lower-case scheme and host, no default port, no fragment, no
tracking parameters such as utm_*, no trailing slash), so two links to the same page share a name
and two different pages never do. Only `a-z 0-9 . -` appear, and the name stays short.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

FOLDER = "web"
MAX_SLUG = 60
MAX_HOST = 60
TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ocid", "cmpid"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking(key: str) -> bool:
    key = key.lower()
    return key.startswith(("utm_", "__hs", "pk_")) or key in TRACKING


def normalise(url: str) -> str:
    """The link two copies of one page share. ValueError when it is not an http(s) link."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) link: {url!r}")
    host = parts.hostname.lower().rstrip(".")
    if parts.port and parts.port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/") or ""
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking(k)])
    return urlunsplit((scheme, host, path, query, ""))


def name_for(url: str) -> str:
    """The seeds-relative file name for the article at `url` (a POSIX path)."""
    link = normalise(url)
    parts = urlsplit(link)
    digest = hashlib.sha256(link.encode("utf-8")).hexdigest()[:8]
    host = _safe(_ascii_host(parts.hostname or ""), MAX_HOST) or "site"
    segment = unquote(parts.path.rsplit("/", 1)[-1])
    segment = re.sub(r"\.(html?|php|aspx?|jsp|cms)$", "", segment, flags=re.IGNORECASE)
    slug = _safe(segment, MAX_SLUG) or "index"
    return f"{FOLDER}/{host.removeprefix('www.')}/{slug}-{digest}.md"


def _ascii_host(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _safe(text: str, limit: int) -> str:
    """Lower-case ASCII letters, digits, dots and dashes only; accents folded, the rest dashes."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    folded = re.sub(r"[^a-z0-9.]+", "-", folded)
    folded = re.sub(r"\.{2,}", ".", folded).strip("-.")
    return folded[:limit].rstrip("-.")
