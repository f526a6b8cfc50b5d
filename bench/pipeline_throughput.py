"""Throughput of the generated collector pipeline against a bare OTLP-in, OTLP-out collector, in one run.

    python bench/pipeline_throughput.py [--seconds 15] [--rounds 3] [--profile production|fast]

Both are the same binary (the distribution obs builds from the generated manifest), each pinned to CPU 0 while
the load and the sinks run on the other CPUs, so "at a fixed CPU" means one core. The generated pipeline is
`obs.generate.configs.otelcol.config` for the profile (memory limiter, span metrics, exporters batching in
their persistent queues in production), with its exporters pointed at the sinks; the bare one has an OTLP
receiver and an OTLP exporter per signal, no processor and the exporters' defaults. The sinks answer every
export at once without reading it, so the backends' cost is not measured.

The load posts pre-built OTLP/HTTP protobuf requests (500 server spans with the HTTP attributes span metrics
keys on; 500 cumulative data points) from several processes as fast as the collector answers. For each
collector and signal: items accepted per second, and items per CPU-second of the collector (its user + system
time from /proc): what one core sustains when it is the bottleneck. Rounds alternate bare and generated; the
median of each is reported, and the ratio generated / bare.
"""
from __future__ import annotations

import argparse
import dataclasses
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# gRPC notes every process the load starts beside its sink's threads; the numbers are what this prints.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

import grpc  # noqa: E402
import requests  # noqa: E402
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2  # noqa: E402
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2  # noqa: E402
from opentelemetry.proto.common.v1 import common_pb2  # noqa: E402
from opentelemetry.proto.metrics.v1 import metrics_pb2  # noqa: E402
from opentelemetry.proto.resource.v1 import resource_pb2  # noqa: E402
from opentelemetry.proto.trace.v1 import trace_pb2  # noqa: E402

from obs.emit import yaml_dump  # noqa: E402
from obs.generate.configs import otelcol  # noqa: E402
from obs.model import conventions as c  # noqa: E402
from obs.model import network  # noqa: E402
from obs.project import load_model  # noqa: E402
from obs.stack.build import ensure  # noqa: E402
from tests.support.stack_spec import free_ports, write_spec  # noqa: E402

ITEMS_PER_REQUEST = 500
SENDERS = 3
COLLECTOR_CPU = 0


def _attr(key: str, value: str | int) -> common_pb2.KeyValue:
    v = common_pb2.AnyValue(int_value=value) if isinstance(value, int) else common_pb2.AnyValue(string_value=value)
    return common_pb2.KeyValue(key=key, value=v)


def traces_request() -> bytes:
    now = time.time_ns()
    spans = []
    for i in range(ITEMS_PER_REQUEST):
        spans.append(trace_pb2.Span(
            trace_id=os.urandom(16), span_id=os.urandom(8), name="GET /items/{id}",
            kind=trace_pb2.Span.SPAN_KIND_SERVER,
            start_time_unix_nano=now - 20_000_000, end_time_unix_nano=now,
            attributes=[_attr("http.request.method", "GET"), _attr("http.route", f"/items/{i % 20}"),
                        _attr("http.response.status_code", 500 if i % 50 == 0 else 200)]))
    resource = resource_pb2.Resource(attributes=[_attr("service.name", "bench-service")])
    return trace_service_pb2.ExportTraceServiceRequest(resource_spans=[trace_pb2.ResourceSpans(
        resource=resource, scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]).SerializeToString()


def metrics_request() -> bytes:
    now = time.time_ns()
    points = [metrics_pb2.NumberDataPoint(attributes=[_attr("series", i)], start_time_unix_nano=now - 10**9,
                                          time_unix_nano=now, as_int=i) for i in range(ITEMS_PER_REQUEST)]
    metric = metrics_pb2.Metric(name="bench.points", sum=metrics_pb2.Sum(
        data_points=points, aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE, is_monotonic=True))
    resource = resource_pb2.Resource(attributes=[_attr("service.name", "bench-service")])
    return metrics_service_pb2.ExportMetricsServiceRequest(resource_metrics=[metrics_pb2.ResourceMetrics(
        resource=resource, scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[metric])])]).SerializeToString()


# -- sinks: answer every export at once, never parse it --------------------------------------------------------

class _HttpSink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:   # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def sinks() -> tuple[str, str, object, object]:
    """(grpc host:port, http host:port, grpc server, http server)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=[("grpc.max_receive_message_length",
                                                                              64 * 2**20)])
    empty = lambda request, context: b""   # noqa: E731 - an empty Export*ServiceResponse is zero bytes
    handlers = {f"opentelemetry.proto.collector.{s}.v1.{S}Service": grpc.method_handlers_generic_handler(
        f"opentelemetry.proto.collector.{s}.v1.{S}Service",
        {"Export": grpc.unary_unary_rpc_method_handler(empty, request_deserializer=None, response_serializer=None)})
        for s, S in (("trace", "Trace"), ("metrics", "Metrics"))}
    server.add_generic_rpc_handlers(tuple(handlers.values()))
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), _HttpSink)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    return f"127.0.0.1:{grpc_port}", f"127.0.0.1:{http.server_address[1]}", server, http


# -- the two collectors -----------------------------------------------------------------------------------------

def generated_config(model, grpc_sink: str, http_sink: str) -> dict:
    net = dataclasses.replace(network.native(model), addresses={"jaeger": grpc_sink, "prometheus": http_sink})
    return otelcol.config(model, net)


def bare_config(otlp_grpc: int, otlp_http: int, health: int, grpc_sink: str, http_sink: str) -> dict:
    return {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{otlp_grpc}"},
                                             "http": {"endpoint": f"127.0.0.1:{otlp_http}"}}}},
        "exporters": {otelcol.TO_JAEGER: {"endpoint": grpc_sink, "tls": {"insecure": True}},
                      otelcol.TO_PROMETHEUS: {"endpoint": f"http://{http_sink}/api/v1/otlp"}},
        "extensions": {"health_check": {"endpoint": f"127.0.0.1:{health}"}},
        "service": {"extensions": ["health_check"], "telemetry": {"metrics": {"level": "none"}},
                    "pipelines": {"traces": {"receivers": ["otlp"], "exporters": [otelcol.TO_JAEGER]},
                                  "metrics": {"receivers": ["otlp"], "exporters": [otelcol.TO_PROMETHEUS]}}},
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(binary: Path, config: dict, workdir: Path, health: int) -> subprocess.Popen:
    path = workdir / "config.yaml"
    path.write_text(yaml_dump.dump(config))
    proc = subprocess.Popen([str(binary), f"--config={path}"], cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=open(workdir / "otelcol.log", "w"),
                            env={**os.environ, c.STATE_DIR_ENV: str(workdir / "state")},
                            preexec_fn=lambda: os.sched_setaffinity(0, {COLLECTOR_CPU}))
    for _ in range(200):
        try:
            if requests.get(f"http://127.0.0.1:{health}/", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"collector exited: {(workdir / 'otelcol.log').read_text()[-2000:]}")
        time.sleep(0.1)
    raise SystemExit("collector did not become healthy")


def _sender(url: str, body: bytes, seconds: float, ready: mp.Queue, go: object, out: mp.Queue) -> None:
    os.sched_setaffinity(0, set(range(os.cpu_count() or 2)) - {COLLECTOR_CPU} or {COLLECTOR_CPU})
    session, accepted, refused = requests.Session(), 0, 0
    headers = {"Content-Type": "application/x-protobuf"}
    ready.put(True)
    go.wait()   # type: ignore[attr-defined]
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            ok = session.post(url, data=body, headers=headers, timeout=5).status_code == 200
        except requests.RequestException:
            ok = False
        accepted, refused = accepted + ok, refused + (not ok)
    out.put((accepted, refused))


def measure(proc: subprocess.Popen, url: str, body: bytes, seconds: float) -> tuple[float, float]:
    """(items accepted per second, items per CPU-second of the collector), timed from when every sender is ready."""
    # spawn, not fork: the gRPC sink's threads live in this process.
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    senders = [ctx.Process(target=_sender, args=(url, body, seconds, ready, go, out)) for _ in range(SENDERS)]
    for s in senders:
        s.start()
    for _ in senders:
        ready.get()
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    go.set()
    results = [out.get() for _ in senders]
    elapsed, cpu = time.monotonic() - t0, cpu_seconds(proc.pid) - cpu0
    for s in senders:
        s.join()
    items = sum(a for a, _ in results) * ITEMS_PER_REQUEST
    return items / elapsed, items / cpu if cpu else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=("production", "fast"), default="production")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="obs-bench-throughput-") as tmp:
        work = Path(tmp)
        spec = write_spec(work, free_ports(), project="bench-throughput")
        spec.write_text(spec.read_text().replace("profile: fast", f"profile: {args.profile}"))
        model = load_model(spec)
        from obs.generate import render
        for rel, text in render(model).items():
            if rel == c.OTELCOL_MANIFEST:
                (work / rel).parent.mkdir(parents=True, exist_ok=True)
                (work / rel).write_text(text)
        binary = ensure(["otelcol"], manifest=work / c.OTELCOL_MANIFEST, progress=print)["otelcol"]
        grpc_sink, http_sink, grpc_server, http_server = sinks()
        p = model.stack.ports
        gen_cfg = generated_config(model, grpc_sink, http_sink)
        bare_ports = [int(v) for v in list(free_ports().values())[:3]]
        bare_cfg = bare_config(*bare_ports, grpc_sink, http_sink)
        setups = {"bare": (bare_cfg, bare_ports[1], bare_ports[2]),
                  "generated": (gen_cfg, p["otlp_http"], p["collector_health"])}
        bodies = {"traces": traces_request(), "metrics": metrics_request()}
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            for name, (cfg, http_port, health) in setups.items():
                run_dir = work / f"{name}-{r}"
                run_dir.mkdir()
                proc = start(binary, cfg, run_dir, health)
                try:
                    for signal, body in bodies.items():
                        url = f"http://127.0.0.1:{http_port}/v1/{signal}"
                        measure(proc, url, body, 2.0)   # warm-up: connections, first batches, queue files
                        results.setdefault((name, signal), []).append(measure(proc, url, body, args.seconds))
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
        grpc_server.stop(0)
        http_server.shutdown()
    print(f"profile {args.profile}; collector pinned to CPU {COLLECTOR_CPU}; {args.rounds} rounds of "
          f"{args.seconds:.0f} s per collector and signal; {ITEMS_PER_REQUEST} items per request, {SENDERS} senders")
    print(f"{'signal':<8} {'collector':<10} {'items/s':>10} {'items per CPU-s':>16}")
    for signal in bodies:
        for name in setups:
            rate = statistics.median(x for x, _ in results[(name, signal)])
            per_cpu = statistics.median(y for _, y in results[(name, signal)])
            print(f"{signal:<8} {name:<10} {rate:>10.0f} {per_cpu:>16.0f}")
        gen = statistics.median(y for _, y in results[("generated", signal)])
        bare = statistics.median(y for _, y in results[("bare", signal)])
        print(f"{signal:<8} generated / bare, items per CPU-second: {gen / bare:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
