"""Server-side load: several client threads sharing one ONNX Runtime session (or LiteRT
interpreter per thread), each sending batches back to back for a fixed time.

ONNX Runtime releases the GIL inside ``run``, so client threads overlap like concurrent
requests to one model server; the result is throughput and per-request latency percentiles
for each (clients, batch) setting."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from plates.timing import summarise


def _client(call, latencies: list[float], stop: float) -> None:
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t0)


def load_test(
    bundle: str, clients: Sequence[int], batches: Sequence[int], seconds: float = 5.0, intra_threads: int | None = None
) -> list[dict[str, Any]]:
    from deploy.predictor import Predictor

    rows = []
    for batch in batches:
        for n in clients:
            p = Predictor(bundle, threads=intra_threads)
            images = np.random.default_rng(0).integers(0, 256, (batch, p.height, p.width, 3), dtype=np.uint8)
            if p.runtime == "litert":  # an interpreter is not thread-safe: one per client
                calls = [Predictor(bundle, threads=intra_threads).bind(images) for _ in range(n)]
            else:
                calls = [p.bind(images)] * n
            for c in calls:  # warm-up
                c()
            latencies: list[list[float]] = [[] for _ in range(n)]
            stop = time.perf_counter() + seconds

            threads = [threading.Thread(target=_client, args=(calls[i], latencies[i], stop)) for i in range(n)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
            flat = np.asarray([x for lat in latencies for x in lat])
            stats = summarise(flat, batch)
            stats.update(
                clients=n,
                runtime=p.runtime,
                intra_threads=p.threads,
                wall_seconds=wall,
                throughput_ips=float(batch * len(flat) / wall),
            )
            rows.append(stats)
    return rows
