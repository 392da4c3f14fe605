"""Whether a raised alert pages anyone, and to which channels; then record it.

In order: an alert already in the ledger is a replay and is dropped; a kind
switched off for the project is dropped; the rest are recorded in the alert
log (an `AlertFired` event) and in the ledger. They page only when the
event is live (younger than ``live_age_s``), when no alert of the same title
from the same run paged within its ``wait_duration``, and when a
subscription matches; otherwise the log says why not.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from .dispatch import Dispatcher
from .evaluate import Fired
from .journal import Journal
from .ledger import AlertRecord, Ledger
from .ruling import RuleState
from .settings import AlertsSettings
from .store import ConfigStore

logger = logging.getLogger(__name__)

SEEN_IDS = 50_000  # alert ids remembered, so repeats skip the ledger look-up


@dataclass(frozen=True)
class _Decision:
    paged: bool
    reason: str = ""
    channels: tuple[str, ...] = ()


class Pager:
    """Records alerts and hands their deliveries to the dispatcher."""

    def __init__(
        self, store: ConfigStore, ledger: Ledger, state: RuleState, journal: Journal,
        dispatcher: Dispatcher, settings: AlertsSettings,
    ) -> None:
        self._store = store
        self._ledger = ledger
        self._state = state
        self._journal = journal
        self._dispatcher = dispatcher
        self._settings = settings
        self.stats = {"fired": 0, "paged": 0}
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def handle(self, fired: Fired, now: float) -> AlertRecord | None:
        """Record `fired` and schedule its deliveries; None when dropped."""
        run = fired.run
        if fired.alert_id in self._seen or await self._ledger.exists(fired.alert_id):
            self._remember(fired.alert_id)
            return None
        if fired.kind in self._store.disabled(entity=run.entity, project=run.project):
            return None
        decision = await self._decide(fired, now)
        record = _record(fired, decision, now, self._settings.public_url)
        await self._journal.fired(record)
        deliveries = await self._ledger.create(record, now)
        if decision.paged:
            await self._state.paged(run.key, fired.title, fired.event_time,
                                    fired.wait_s)
        for delivery in deliveries:
            self._dispatcher.schedule(delivery)
        self._remember(fired.alert_id)
        self._count(record)
        return record

    def _remember(self, alert_id: str) -> None:
        self._seen[alert_id] = None
        self._seen.move_to_end(alert_id)
        if len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)

    async def _decide(self, fired: Fired, now: float) -> _Decision:
        age = now - fired.event_time
        live = self._settings.live_age_s
        if age > live:
            return _Decision(False, f"the event was logged {age:.0f} s ago; only "
                             f"events younger than {live:.0f} s page")
        run = fired.run
        if await self._state.waiting(run.key, fired.title, fired.event_time,
                                     fired.wait_s):
            return _Decision(False, f"an alert with this title paged less than "
                             f"{fired.wait_s:g} s before (wait_duration)")
        targets = self._store.targets(run.entity, run.project, fired.kind,
                                      fired.level)
        channels = tuple(dict.fromkeys(channel.id for _, channel in targets))
        if not channels:
            return _Decision(False, "no subscription matches this alert")
        return _Decision(True, "", channels)

    def _count(self, record: AlertRecord) -> None:
        self.stats["fired"] += 1
        self.stats["paged"] += int(record.paged)
        logger.info("alert %s (%s) on %s/%s/%s: %s", record.alert_id, record.kind,
                    record.entity, record.project, record.run_id,
                    "paged" if record.paged else record.reason)


def _record(
    fired: Fired, decision: _Decision, now: float, public_url: str
) -> AlertRecord:
    run = fired.run
    return AlertRecord(
        alert_id=fired.alert_id, kind=fired.kind, rule=fired.rule,
        title=fired.title, text=fired.text, level=fired.level,
        entity=run.entity, project=run.project, run_id=run.run_id,
        run_name=run.label, run_url=run.url(public_url) if public_url else "",
        event_time=fired.event_time, fired_at=now, paged=decision.paged,
        reason=decision.reason, channels=decision.channels,
    )
