"""Native stack: building the real binaries from the Go module proxy and running them."""
