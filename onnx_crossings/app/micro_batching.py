"""Micro-batching: requests that arrive while the model is busy are scored together in its next run."""

import asyncio
from collections.abc import Callable


# No timer: a request that finds the model idle runs at once (batch 1), so light load pays no waiting;
# under load the queue fills while a run is in progress and the next run takes it all.
class MicroBatcher[Item, Result]:
    """Queues items from concurrent requests; one worker scores everything queued, up to max_batch, per run."""

    def __init__(self, score: Callable[[list[Item]], list[Result]], max_batch: int):
        self.score = score
        self.max_batch = max_batch
        self.queue: asyncio.Queue[tuple[Item, asyncio.Future]] = asyncio.Queue()
        # model runs so far, and the items they scored: /health reports the mean batch
        self.runs = 0
        self.scored = 0
        self.worker: asyncio.Task | None = None

    def start(self) -> None:
        """Start the worker on the running event loop."""
        self.worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        """Cancel the worker."""
        if self.worker is not None:
            self.worker.cancel()
            await asyncio.gather(self.worker, return_exceptions=True)

    async def submit(self, item: Item) -> Result:
        """Score one item in the next run and return its result."""
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((item, future))
        return await future

    async def _work(self) -> None:
        """Forever: wait for an item, take everything queued behind it, score it in a thread, answer each."""
        while True:
            batch = [await self.queue.get()]
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            items, futures = zip(*batch, strict=True)
            self.runs += 1
            self.scored += len(batch)
            try:
                results = await asyncio.to_thread(self.score, list(items))
            except Exception as error:  # every waiting request learns of it; the worker goes on
                for future in futures:
                    if not future.done():
                        future.set_exception(error)
                continue
            for future, result in zip(futures, results, strict=True):
                if not future.done():  # a client that went away cancelled its future
                    future.set_result(result)
