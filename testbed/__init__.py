"""What the tests and the benchmarks share: live servers, the nginx configuration, Chromium's flags.

Tests and benchmarks never import each other; both may import this.
"""
