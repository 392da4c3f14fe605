"""Delivery: one worker per channel, at least once, with backoff.

Each channel has its own asyncio task and its own queue ordered by when a
delivery is due, so a channel that times out, refuses or is rate limited
never holds back another. An attempt is written to the ledger as
``sending`` before it starts and with its outcome after it ends; the outcome
is also published as a `Delivery` event. A failed attempt is retried after
``backoff_base_s * 2**(attempt-1)`` (capped at ``backoff_max_s``), or after
the receiver's ``Retry-After`` when it gave one (which holds the whole
channel), until ``max_attempts``; a permanent failure (a revoked webhook, a
refused login) ends the delivery at once.

After a restart the ledger's open deliveries are scheduled again; one that
was ``sending`` may or may not have reached the receiver, and is sent again:
Slack webhooks and SMTP have no idempotency key, so that one attempt is the
duplicate a restart can cause.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable

from .channels import deliver
from .crypto import SecretBox
from .errors import SendFailed
from .journal import Journal
from .ledger import AlertRecord, DeliveryRecord, Ledger
from .model import Channel
from .ruling import RuleState
from .settings import AlertsSettings

logger = logging.getLogger(__name__)

INTERRUPTED = (
    "the alerts service restarted during this attempt; it may have been "
    "delivered, and is sent again"
)
_STORE_RETRY_S = 1.0


class Dispatcher:
    """Routes deliveries to their channel's worker."""

    def __init__(
        self, ledger: Ledger, channels: Callable[[str], Channel | None],
        box: SecretBox, state: RuleState, journal: Journal,
        settings: AlertsSettings,
    ) -> None:
        self._ledger = ledger
        self._channels = channels
        self._box = box
        self._state = state
        self._journal = journal
        self._settings = settings
        self._workers: dict[str, _ChannelWorker] = {}
        self.stats = {"sent": 0, "retrying": 0, "failed": 0}

    async def resume(self) -> int:
        """Schedule the ledger's open deliveries; returns how many."""
        found = await self._ledger.open_deliveries()
        for delivery in found:
            if delivery.status == "sending":
                await self._interrupted(delivery)
            self.schedule(delivery)
        if found:
            logger.info("resuming %d open deliveries", len(found))
        return len(found)

    def schedule(self, delivery: DeliveryRecord) -> None:
        worker = self._workers.get(delivery.channel_id)
        if worker is None:
            worker = _ChannelWorker(delivery.channel_id, self)
            self._workers[delivery.channel_id] = worker
        worker.push(delivery)

    async def close(self) -> None:
        for worker in self._workers.values():
            await worker.stop()

    async def _interrupted(self, delivery: DeliveryRecord) -> None:
        delivery.note("retrying", INTERRUPTED, time.time())
        delivery.next_at = time.time()
        await self._ledger.save(delivery)
        alert = await self._ledger.alert(delivery.alert_id)
        if alert is not None:
            await self._journal.delivery(alert, delivery)

    # ---- one attempt ---------------------------------------------------------

    async def attempt(self, delivery: DeliveryRecord) -> bool:
        """Make one attempt; True when the delivery needs another."""
        alert = await self._ledger.alert(delivery.alert_id)
        if alert is None:
            logger.error("delivery %s.%s has no alert record; dropped",
                         delivery.alert_id, delivery.channel_id)
            return False
        delivery.attempt += 1
        delivery.status = "sending"
        await self._ledger.save(delivery)
        failure = await self._send(delivery.channel_id, alert)
        again = await self._record(delivery, failure)
        await self._ledger.save(delivery)
        await self._journal.delivery(alert, delivery)
        self.stats[delivery.status] = self.stats.get(delivery.status, 0) + 1
        return again

    async def _send(self, channel_id: str, alert: AlertRecord) -> SendFailed | None:
        channel = self._channels(channel_id)
        if channel is None:
            return SendFailed("the channel was removed", permanent=True)
        try:
            await deliver(channel, alert, self._box, self._settings)
        except SendFailed as exc:
            return exc
        return None

    async def _record(self, delivery: DeliveryRecord, failure: SendFailed | None
                      ) -> bool:
        now = time.time()
        if failure is None:
            delivery.note("sent", "", now)
            return False
        last = failure.permanent or delivery.attempt >= self._settings.max_attempts
        if last:
            delivery.note("failed", failure.reason, now)
            logger.warning("delivery of %s to %s failed: %s", delivery.alert_id,
                           delivery.channel_id, failure.reason)
            return False
        pause = self._backoff(delivery.attempt)
        if failure.retry_after is not None:
            pause = max(pause, failure.retry_after)
            await self._state.hold(delivery.channel_id, now + failure.retry_after, now)
        delivery.next_at = now + pause
        delivery.note("retrying", failure.reason, now)
        logger.info("delivery of %s to %s: attempt %d failed (%s); retry in %.1f s",
                    delivery.alert_id, delivery.channel_id, delivery.attempt,
                    failure.reason, pause)
        return True

    def _backoff(self, attempt: int) -> float:
        settings = self._settings
        return min(settings.backoff_max_s, settings.backoff_base_s * 2 ** (attempt - 1))

    async def held_until(self, channel_id: str) -> float:
        try:
            return await self._state.held_until(channel_id)
        except Exception as exc:  # Redis raises many types; a hold is advisory
            logger.warning("cannot read the hold of %s: %s", channel_id, exc)
            return 0.0


class _ChannelWorker:
    """The deliveries of one channel, sent one at a time when due."""

    def __init__(self, channel_id: str, dispatcher: Dispatcher) -> None:
        self.channel_id = channel_id
        self._dispatcher = dispatcher
        self._queue: list[tuple[float, int, DeliveryRecord]] = []
        self._order = itertools.count()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"channel-{channel_id}")

    def push(self, delivery: DeliveryRecord) -> None:
        heapq.heappush(self._queue, (delivery.next_at, next(self._order), delivery))
        self._wake.set()

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            delay = await self._due_in()
            if delay is None or delay > 0:
                await self._sleep(delay)
                continue
            _, _, delivery = heapq.heappop(self._queue)
            await self._attempt(delivery)

    async def _due_in(self) -> float | None:
        if not self._queue:
            return None
        held = await self._dispatcher.held_until(self.channel_id)
        return max(self._queue[0][0], held) - time.time()

    async def _sleep(self, delay: float | None) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), delay)
        except asyncio.TimeoutError:
            pass

    async def _attempt(self, delivery: DeliveryRecord) -> None:
        try:
            again = await self._dispatcher.attempt(delivery)
        except asyncio.CancelledError:
            raise
        except Exception:  # the store failed; the delivery stays open
            logger.exception("delivery of %s to %s could not be recorded; retrying",
                             delivery.alert_id, self.channel_id)
            delivery.next_at = time.time() + _STORE_RETRY_S
            again = True
        if again:
            self.push(delivery)
