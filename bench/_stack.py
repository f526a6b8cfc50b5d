"""A throwaway native stack for benchmarks: the verify test spec on free ports, in a temp directory."""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry, Counter, start_http_server  # noqa: E402

from obs.commands.generate import generate  # noqa: E402
from obs.project import load_model  # noqa: E402
from obs.stack.native import Stack  # noqa: E402
from tests.support.verify_spec import SECRET_ENV, free_ports, port_is_free, write_spec  # noqa: E402


def log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


@contextmanager
def stack(profile: str = "fast"):
    """Yields (spec, model, Stack) with all four components up; always takes them down."""
    os.environ.setdefault(SECRET_ENV, "benchmark-routing-key")
    with tempfile.TemporaryDirectory(prefix=f"obs-bench-{profile}-") as tmp:
        ports = free_ports()
        legacy = next(p for p in range(29500, 29999) if p not in ports.values() and port_is_free(p))
        spec = write_spec(Path(tmp), ports, legacy, project=f"bench-{profile}")
        spec.write_text(spec.read_text().replace("profile: fast", f"profile: {profile}"))
        generate(spec, None, check=False)
        model = load_model(spec)
        registry = CollectorRegistry()
        Counter("legacy_requests", "Requests the legacy service handled.", registry=registry).inc()
        server, _ = start_http_server(legacy, addr="127.0.0.1", registry=registry)
        st = Stack(spec.parent, model)
        try:
            st.up(log)
            yield spec, model, st
        finally:
            st.down()
            server.shutdown()
            server.server_close()


@contextmanager
def live_services(ctx):
    """The spec's services sending OTLP at their SDK export interval, as instrumented services do."""
    from obs.verify import traffic
    stop = threading.Event()
    ctx.stop = stop
    sent = traffic.start(ctx)
    try:
        yield sent
    finally:
        stop.set()
        sent.stop()
