"""The dashboard: server-rendered pages at `/` and under `/dashboard/`, signed in with an API token.

Modules, one concept each:

    routes      the URL map, and the session middleware only these routes get
    session     the signed cookie, the token sealed in it, flash messages
    csrf        the per-session token every POST form carries
    access      re-authenticating the session's token on each request, in a thread
    login       signing in and out
    queries     what the viewer's token reaches, read from the database
    layout      what every page carries: account, flash, CSRF token, time
    overview    every instance's channels and connections (page and live regions)
    channel     one channel: summary, pairing code, webhook URLs, activity (page and live regions)
    actions     reconnect and sync, through the API's own handlers
    chart       events per minute, counted in SQL and drawn as inline SVG
    qr          the Whapi pairing code as an image
    formatting  labels, badge tones and relative times for the templates
    templates   the Jinja2 environment and rendering
    headers     security headers for pages and live fragments
"""
