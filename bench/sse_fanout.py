"""SSE fan-out benchmark: N subscribers on one `momentloop serve` process, all following one job that
emits R events per second; p50/p99 delivery latency and the server's RSS.

    python bench/sse_fanout.py [--subscribers 1000] [--rate 10] [--seconds 30] [--clients 4] [--json FILE]

The server is started as `momentloop serve` with its default settings. The job's events are written
into the job store by this process, the way a Modal worker, the CLI or another web replica writes them,
so the server's store reader (one per watched job, every `sse_poll_seconds`) is part of what is measured.
Subscribers are raw HTTP/1.1 connections spread over `--clients` processes; each records when every
`id:` arrived. Latency = arrival time - the time the event was committed to the store (one clock: the
same machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.db.jobs import SQLJobStore  # noqa: E402
from shared.db.projects import SQLProjectStore  # noqa: E402

_ID = re.compile(rb"\nid: (\d+)\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- subscribers (in client processes)


async def _subscribe(*, port: int, path: str, token: str, ready: list[int], arrivals: list[tuple[int, float]],
                     last: int, gate: asyncio.Semaphore) -> None:
    async with gate:  # connect a hundred at a time, like browsers arriving, not all in one instant
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                      f"Accept: text/event-stream\r\n\r\n").encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(head.decode(errors="replace"))
    ready[0] += 1
    buf = b"\n"
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            break
        now = time.time()
        buf += chunk
        end = 0
        for m in _ID.finditer(buf):
            seq = int(m.group(1))
            arrivals.append((seq, now))
            end = m.end() - 1
            if seq >= last:
                writer.close()
                return
        buf = buf[end:] if end else buf[-64:]
    writer.close()


def _client(port: int, path: str, token: str, count: int, last: int, out: str, connected: Any) -> None:
    async def main() -> list[list[tuple[int, float]]]:
        ready = [0]
        arrivals: list[list[tuple[int, float]]] = [[] for _ in range(count)]
        gate = asyncio.Semaphore(100)

        tasks = [asyncio.create_task(_subscribe(port=port, path=path, token=token, ready=ready,
                                                arrivals=arrivals[k], last=last, gate=gate))
                 for k in range(count)]
        while ready[0] < count:
            await asyncio.sleep(0.05)
            if any(t.done() and t.exception() for t in tasks):
                break
        with connected.get_lock():
            connected.value += ready[0]
        await asyncio.gather(*tasks)
        return arrivals

    result = asyncio.run(main())
    Path(out).write_text(json.dumps(result))


# ---------------------------------------------------------------- the run


def run(*, subscribers: int, rate: float, seconds: float, clients: int) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="ml-sse-bench-"))
    projects = SQLProjectStore(data / "momentloop.db")
    jobs = SQLJobStore(data / "momentloop.db")
    _, token = projects.add_user(name="bench")
    port = _free_port()
    log = (data / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--data", str(data), "--port", str(port)],
                              cwd=ROOT, stdout=log, stderr=log)
    proc = psutil.Process(server.pid)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                http.get("/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError((data / "serve.log").read_text()) from None
                time.sleep(0.1)
        pid = http.post("/api/projects", json={"name": "bench"}).json()["id"]
        job = jobs.create_job(kind="render", params={})
        projects.link_job(job_id=job.id, project_id=pid, kind="render")
        jobs.set_status(job.id, status="running")
        rss_idle = proc.memory_info().rss

        total = int(rate * seconds)
        last = total + 1  # the `done` event
        ctx = mp.get_context("spawn")
        connected = ctx.Value("i", 0)
        outs = [str(data / f"client-{k}.json") for k in range(clients)]
        shares = [subscribers // clients + (1 if k < subscribers % clients else 0) for k in range(clients)]
        started = time.monotonic()
        procs = [ctx.Process(target=_client, args=(port, f"/api/jobs/{job.id}/events", token, n, last, out, connected))
                 for n, out in zip(shares, outs, strict=True)]
        for p in procs:
            p.start()
        while connected.value < subscribers:
            if time.monotonic() - started > 120 or not any(p.is_alive() for p in procs):
                raise RuntimeError(f"only {connected.value} of {subscribers} subscribers connected")
            time.sleep(0.05)
        connect_seconds = time.monotonic() - started
        rss_connected = proc.memory_info().rss

        peak = [rss_connected]
        cpu_before = proc.cpu_times()
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], proc.memory_info().rss)
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        emitted: dict[int, float] = {}
        t0 = time.monotonic()
        for k in range(total):
            target = t0 + k / rate
            time.sleep(max(0.0, target - time.monotonic()))
            event = jobs.append_event(job.id, type="progress", stage="clips", item=f"scene {k % 12 + 1}",
                                      percent=100.0 * k / total, message="rendering")
            emitted[event.seq] = time.time()
        jobs.set_status(job.id, status="done", result={})
        event = jobs.append_event(job.id, type="done", status="done", percent=100.0, message="done")
        emitted[event.seq] = time.time()
        emit_seconds = time.monotonic() - t0
        for p in procs:
            p.join(timeout=120)
        stop.set()
        sampler.join()
        cpu_after = proc.cpu_times()

        latencies: list[float] = []
        per_event: dict[int, list[float]] = {}
        complete = 0
        for out in outs:
            for arrivals in json.loads(Path(out).read_text()):
                seqs = [s for s, _ in arrivals]
                complete += seqs == list(range(1, last + 1))
                for s, t in arrivals:
                    latencies.append(t - emitted[s])
                    per_event.setdefault(s, []).append(t - emitted[s])
        latencies.sort()

        def pct(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

        spread = sorted((max(v) - min(v)) * 1000 for v in per_event.values())
        worst = sorted(per_event, key=lambda s: -max(per_event[s]))[:5]
        cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
        return {
            "subscribers": subscribers,
            "rate_per_s": rate,
            "events": last,
            "complete_subscribers": complete,
            "deliveries": len(latencies),
            "latency_ms": {"p50": round(pct(0.50), 1), "p90": round(pct(0.90), 1), "p99": round(pct(0.99), 1),
                           "max": round(latencies[-1] * 1000, 1), "mean": round(statistics.fmean(latencies) * 1000, 1)},
            "server_rss_mib": {"idle": round(rss_idle / 2**20, 1), "connected": round(rss_connected / 2**20, 1),
                               "peak": round(peak[0] / 2**20, 1)},
            "server_cpu_percent_while_emitting": round(100 * cpu / emit_seconds, 1),
            "connect_seconds": round(connect_seconds, 2),
            "fan_out_spread_ms": {"p50": round(spread[len(spread) // 2], 1), "max": round(spread[-1], 1)},
            "slowest_events": {s: [round(min(per_event[s]) * 1000, 1), round(max(per_event[s]) * 1000, 1)]
                               for s in worst},
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        }
    finally:
        http.close()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the job emits")
    parser.add_argument("--clients", type=int, default=4, help="subscriber processes")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = run(subscribers=args.subscribers, rate=args.rate, seconds=args.seconds, clients=args.clients)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    lat, rss = result["latency_ms"], result["server_rss_mib"]
    print(f"{result['subscribers']} subscribers, {result['rate_per_s']:g} events/s: p50 {lat['p50']} ms, "
          f"p99 {lat['p99']} ms (target < 250), server RSS peak {rss['peak']} MiB (target < 500); "
          f"{result['complete_subscribers']}/{result['subscribers']} got every event")


if __name__ == "__main__":
    main()
