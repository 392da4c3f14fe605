"""What the alerts service can be tuned with, passed to its constructor."""

from __future__ import annotations

from dataclasses import dataclass

from ..common.config import PlatformConfig


@dataclass(frozen=True)
class AlertsSettings:
    """Settings of one alerts service.

    Attributes:
        live_age_s: events logged longer ago than this (a late sync) are
            recorded in the alert log but page nobody.
        stall_check_s: how often the stall rules are checked.
        backoff_base_s: the pause after a first failed attempt; it doubles
            per attempt up to `backoff_max_s`.
        max_attempts: attempts before a delivery is marked failed.
        send_timeout_s: the limit of one HTTP or SMTP exchange.
        default_wait_s: `wait_duration` when an alert gives none.
        fetch_batch: messages fetched from the stream at once.
        durable: the name of the JetStream consumer.
        config_bucket: KV bucket of channels, subscriptions, rules, switches.
        ledger_bucket: KV bucket of alert and delivery records.
        redis_prefix: prefix of every Redis key the service writes.
        smtp_ca_file: CA bundle for SMTP servers' certificates ("" is the
            system's).
        smtp_from: the sender address of alert emails.
        public_url: the platform URL that run links point at.
    """

    live_age_s: float = 600.0
    stall_check_s: float = 15.0
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    max_attempts: int = 10
    send_timeout_s: float = 10.0
    default_wait_s: float = 60.0
    fetch_batch: int = 256
    durable: str = "alerts"
    config_bucket: str = "alerts"
    ledger_bucket: str = "alert_deliveries"
    redis_prefix: str = "lodestar:alerts:"
    smtp_ca_file: str = ""
    smtp_from: str = "lodestar@localhost"
    public_url: str = ""

    @classmethod
    def from_config(cls, config: PlatformConfig) -> AlertsSettings:
        """The settings a platform's configuration gives."""
        return cls(
            live_age_s=config.alerts_live_age_s,
            public_url=config.public_url,
        )
