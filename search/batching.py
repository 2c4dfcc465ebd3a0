"""Micro-batching of query encoding across concurrent requests in one asyncio server.

Why: a server answering many requests at once embeds each query in its own session run,
handing the GIL back and forth per query. QueryBatcher lets the requests that wait at the
same moment share one run: the first request starts a run at once (no added latency when
the server is idle); requests that arrive while `max_concurrent` runs are busy queue up
and go together in the next run, at most `max_batch` of them. `window` (seconds) can hold
a run back briefly to gather more, when a batch is cheaper per query than a single run.

The encoder must offer encode_batch(texts) (search/onnx_encoder.py), or encode(texts)
(sentence-transformers batches by itself); either returns one row per text.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class QueryBatcher:
    def __init__(self, encoder, *, max_batch: int = 32, max_concurrent: int = 2, window: float = 0.0):
        if max_batch < 1 or max_concurrent < 1 or window < 0:
            raise ValueError("max_batch and max_concurrent must be at least 1, window at least 0")
        self.encoder = encoder
        self._encode = getattr(encoder, "encode_batch", None) or encoder.encode
        self.max_batch = max_batch
        self.max_concurrent = max_concurrent
        self.window = window
        self._pool = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="kb-batch")
        self._waiting: list[tuple[str, asyncio.Future]] = []
        self._running = 0
        self._timer = None
        self._loop = None
        # How many runs and texts went through, for tests and benchmarks.
        self.runs = 0
        self.texts = 0

    async def encode(self, text: str) -> np.ndarray:
        """text's vector, computed in a run shared with whichever queries wait beside it."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._running or self._waiting:
                # Another event loop is using this batcher right now: its futures cannot be shared.
                return (await loop.run_in_executor(self._pool, self._encode, [text]))[0]
            self._loop = loop
        future = loop.create_future()
        self._waiting.append((text, future))
        self._dispatch()
        return await future

    def _dispatch(self) -> None:
        while self._waiting and self._running < self.max_concurrent:
            if self.window and len(self._waiting) < self.max_batch:
                if self._timer is None:
                    self._timer = self._loop.call_later(self.window, self._window_closed)
                return
            self._start()

    def _window_closed(self) -> None:
        self._timer = None
        self._start_waiting()

    def _start_waiting(self) -> None:
        while self._waiting and self._running < self.max_concurrent:
            self._start()

    def _start(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
        self._running += 1
        self.runs += 1
        self.texts += len(batch)
        done = self._loop.run_in_executor(self._pool, self._encode, [text for text, _ in batch])
        done.add_done_callback(lambda finished: self._finish(batch, finished))

    def _finish(self, batch, finished: asyncio.Future) -> None:
        self._running -= 1
        error = RuntimeError("the query batcher was closed") if finished.cancelled() else finished.exception()
        if error is None:
            vectors = finished.result()
            if len(vectors) != len(batch):
                error = RuntimeError(f"the encoder returned {len(vectors)} vectors for {len(batch)} texts")
        for i, (_, future) in enumerate(batch):
            if future.done():  # the request went away (client disconnected)
                continue
            if error is None:
                future.set_result(vectors[i])
            else:
                future.set_exception(error)
        # Whatever queued during the run has waited long enough: no window for it.
        self._start_waiting()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
