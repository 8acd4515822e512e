"""The HTTP layer: cache and security headers, ETags, kept responses, errors, the request's database."""
