"""Security headers on every response: no inline script or framing, no sniffing, no referrer
sent to other sites (paths hold calendar and certificate tokens), HSTS in production."""

# Every script, style and font comes from /static; images may also be inline (QR codes, charts).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def register_security_headers(app):
    headers = list(HEADERS.items())
    if app.config["ENV"] == "production":
        headers.append(("Strict-Transport-Security", HSTS))

    @app.after_request
    def security_headers(response):
        # One check and one extend: on every response, so it is kept cheap.
        if "Content-Security-Policy" not in response.headers:
            response.headers.extend(headers)
        return response
