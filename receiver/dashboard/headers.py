"""Security headers for dashboard pages: no inline script or style, no framing, no caching."""

from __future__ import annotations

# Inline <svg> is markup, not script, so charts and QR codes pass; `data:` images are the QR
# codes Whapi sends as PNG.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages show live state, and some carry the CSRF token: never from a cache.
    "Cache-Control": "no-store",
}
