"""Job event fan-out for the SSE stream: one reader of the job store per watched job, shared by all of its
subscribers.

The job store's event log is the source of truth (so a reconnecting client, a late subscriber or another
replica sees the same history). A `JobFeed` keeps a watched job's events in memory, in sequence order;
one poller task per feed reads new events (right away when this process wrote them, else every
`poll_seconds`) and wakes every subscriber at once. A thousand subscribers to one job cost one query
per poll, not a thousand."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event

from shared.jobs import FINISHED, JobStore
from shared.models.jobs import JobRecord, ProgressEvent

log = logging.getLogger(__name__)

TERMINAL_EVENTS = frozenset({"done", "failed"})
"""The event types a job's log ends with (a cancel writes `failed` with status `cancelled`)."""


class JobFeed:
    """A watched job's events so far (`events[i].seq == i + 1`) and a way to wait for more."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.events: list[ProgressEvent] = []
        self.frames: list[bytes] = []
        """Each event in the SSE wire format, encoded once for all subscribers."""
        self.final = False
        """The last event is terminal and the job is over: subscribers end after it."""
        self.changed = asyncio.Event()
        self.ready = asyncio.Event()
        self.poke = asyncio.Event()
        self.subscribers = 0
        self.task: asyncio.Task[None] | None = None

    def publish(self, new: list[ProgressEvent], *, final: bool) -> None:
        for event in new:
            if event.seq != len(self.events) + 1:
                # The log is gap-free by contract; a hole means a concurrent reader raced ahead. Drop the
                # rest: the next read starts from what we have.
                log.warning("job %s: event %d arrived after %d", self.job_id, event.seq, len(self.events))
                break
            self.events.append(event)
            self.frames.append(format_sse_event(data_str=event.model_dump_json(), event=event.type, id=str(event.seq)))
        self.final = final
        woken, self.changed = self.changed, asyncio.Event()
        woken.set()


class EventHub:
    def __init__(self, *, jobs: JobStore, poll_seconds: float) -> None:
        self.jobs = jobs
        self.poll_seconds = poll_seconds
        self.feeds: dict[str, JobFeed] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # Store reads run here, not in the pool that serves sync routes: a burst of slow requests must
        # not delay the stream.
        self._reader = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ml-events")

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def close(self) -> None:
        for feed in list(self.feeds.values()):
            if feed.task is not None:
                feed.task.cancel()
            # Open streams end now; their clients reconnect (to the next server) from their last id.
            feed.publish([], final=True)
        self.feeds.clear()
        self._reader.shutdown(wait=False, cancel_futures=True)

    def notify(self, job_id: str) -> None:
        """A new event of `job_id` is in the store (from any thread): read it now instead of at the next poll."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(self._poke, job_id)

    def _poke(self, job_id: str) -> None:
        feed = self.feeds.get(job_id)
        if feed is not None:
            feed.poke.set()

    async def _read(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, lambda: fn(*args, **kwargs))

    @contextlib.asynccontextmanager
    async def watch(self, job_id: str) -> AsyncIterator[JobFeed]:
        """The feed of `job_id`, its history loaded, for as long as the block runs."""
        feed = self.feeds.get(job_id)
        if feed is None:
            feed = self.feeds[job_id] = JobFeed(job_id)
            feed.task = asyncio.create_task(self._poll(feed), name=f"events-{job_id}")
        feed.subscribers += 1
        try:
            await feed.ready.wait()
            yield feed
        finally:
            feed.subscribers -= 1
            if feed.subscribers == 0:
                feed.poke.set()  # let the poller see it is no longer needed

    async def _poll(self, feed: JobFeed) -> None:
        try:
            while True:
                new: list[ProgressEvent] = await self._read(self.jobs.events, feed.job_id, after=len(feed.events))
                if new or not feed.ready.is_set():
                    final = False
                    last = new[-1] if new else (feed.events[-1] if feed.events else None)
                    if last is not None and last.type in TERMINAL_EVENTS:
                        job: JobRecord = await self._read(self.jobs.get_job, feed.job_id)
                        final = job.status in FINISHED
                    feed.publish(new, final=final)
                    feed.ready.set()
                if feed.subscribers == 0:
                    break
                feed.poke.clear()
                # A finished job changes only if it is resumed, and the resume pokes the feed.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(None if feed.final else self.poll_seconds):
                        await feed.poke.wait()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reading the events of job %s failed", feed.job_id)
            feed.final = True
            feed.ready.set()
            woken, feed.changed = feed.changed, asyncio.Event()
            woken.set()
        finally:
            if self.feeds.get(feed.job_id) is feed:
                del self.feeds[feed.job_id]

    async def stream(self, *, job_id: str, after: int, heartbeat: float) -> AsyncIterator[bytes]:
        """The job's events after `after`, in order, then each new one as it comes; a `: ping` comment
        whenever nothing was sent for `heartbeat` seconds; the end right after the terminal event.

        Events are sent as the bytes `JobFeed` encoded once, and whatever a subscriber has not been sent
        yet goes out in one write: the cost per subscriber is a wake-up and a socket write per batch."""
        loop = asyncio.get_running_loop()
        async with self.watch(job_id) as feed:
            cursor = after
            last_sent = loop.time()
            while True:
                changed = feed.changed
                if cursor < len(feed.events):
                    batch = feed.frames[cursor:]
                    cursor += len(batch)
                    yield batch[0] if len(batch) == 1 else b"".join(batch)
                    last_sent = loop.time()
                    continue
                if feed.final:
                    return
                if feed.task is None or feed.task.done():
                    return  # the hub closed: the client reconnects and resumes from its last id
                quiet = loop.time() - last_sent
                if quiet >= heartbeat:
                    yield KEEPALIVE_COMMENT
                    last_sent = loop.time()
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(heartbeat - quiet):
                        await changed.wait()
