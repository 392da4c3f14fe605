"""The alert log on the event stream: `AlertFired` and `Delivery` events.

Published as the ``alerts`` source under the run the alert is about, with a
random publisher id per process and its own sequence, so the writer stores
them in ClickHouse (``alert_log`` and ``alert_deliveries``) like any event.
"""

from __future__ import annotations

import time

from lodestar._proto import events_pb2

from ..query.publish import EventPublisher, Target
from .ledger import AlertRecord, DeliveryRecord


class Journal:
    """Publishes the alert log."""

    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    async def fired(self, alert: AlertRecord) -> None:
        event = events_pb2.Event(timestamp=alert.fired_at)
        fired = event.alert_fired
        fired.alert_id = alert.alert_id
        fired.rule = alert.rule
        fired.title = alert.title
        fired.text = alert.text
        fired.level = alert.level  # type: ignore[assignment]
        fired.paged = alert.paged
        fired.reason = alert.reason
        fired.event_time = alert.event_time
        await self._publisher.publish(_target(alert), [event])

    async def delivery(self, alert: AlertRecord, delivery: DeliveryRecord) -> None:
        event = events_pb2.Event(timestamp=time.time())
        event.delivery.alert_id = delivery.alert_id
        event.delivery.channel_id = delivery.channel_id
        event.delivery.attempt = delivery.attempt
        event.delivery.status = delivery.status
        event.delivery.error = delivery.error
        await self._publisher.publish(_target(alert), [event])


def _target(alert: AlertRecord) -> Target:
    return Target(alert.entity, alert.project, alert.run_id)
