"""How Chromium is started for tests and benchmarks on these machines."""

# Chromium as root in a container, on a closed network: no sandbox, no GPU, and
# none of the background traffic that floods the network with refused connections.
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
