"""One module per probe; each returns a ProbeResult with its hops timed against their floors."""
