"""Browser tests: a real headless Chromium against a live local server (``-m browser``)."""
