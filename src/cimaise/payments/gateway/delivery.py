"""Sending notifications as the real gateways do: at once, then again at growing intervals until
the shop acknowledges (Alipay: it answers the text ``success``; WeChat Pay: a 2xx), giving up
after the last interval. Once acknowledged, the same notification is deliberately sent one more
time, since both gateways may and do send duplicates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

from cimaise.payments.gateway.store import Delivery, Store
from cimaise.payments.protocols import HttpAnswer, TransportError, http_send

logger = logging.getLogger("cimaise.payments.gateway")

#: Alipay open platform: 8 notifications in 25 hours, "4m,10m,10m,1h,2h,6h,15h" after the first.
ALIPAY_SCHEDULE = (240.0, 600.0, 600.0, 3600.0, 7200.0, 21600.0, 54000.0)
#: WeChat Pay API v3: "15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h", 24h4m in all.
WECHATPAY_SCHEDULE = (
    15.0,
    15.0,
    30.0,
    180.0,
    600.0,
    1200.0,
    1800.0,
    1800.0,
    1800.0,
    3600.0,
    10800.0,
    10800.0,
    10800.0,
    21600.0,
    21600.0,
)


@dataclass(frozen=True)
class Policy:
    """When to try again (seconds after each failed attempt, per provider), and whether to send
    one duplicate after the first acknowledgement, that many seconds later."""

    schedules: Mapping[str, Sequence[float]]
    duplicate: bool = True
    duplicate_delay: float = 1.0


@dataclass(frozen=True)
class Channel:
    """How one provider's notifications go out: the headers of an attempt (WeChat Pay signs each
    attempt afresh), and what answer counts as an acknowledgement."""

    headers: Callable[[Delivery], dict[str, str]]
    acknowledged: Callable[[HttpAnswer], bool]


def loopback(url: str) -> bool:
    """The sandbox only ever talks to this machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class Deliverer(threading.Thread):
    """The notification queue's worker (one thread; attempts one at a time, oldest due first)."""

    def __init__(
        self, store: Store, policy: Policy, channels: Mapping[str, Channel], stop: threading.Event
    ) -> None:
        super().__init__(name="sandbox-notifications", daemon=True)
        self.store, self.policy, self.channels, self.stop = store, policy, channels, stop

    def run(self) -> None:
        while not self.stop.wait(0.05):
            for delivery in self.store.deliveries_due(time.time()):
                if self.stop.is_set():
                    return
                self.attempt(delivery)

    def attempt(self, delivery: Delivery) -> None:
        channel = self.channels[delivery.provider]
        answer, acknowledged = self._send(delivery, channel)
        schedule = self.policy.schedules.get(delivery.provider, ())
        next_at = time.time() + schedule[delivery.attempts] if delivery.attempts < len(schedule) else None
        self.store.delivery_attempted(delivery, answer=answer, acknowledged=acknowledged, next_at=next_at)
        if acknowledged and not delivery.duplicate and self.policy.duplicate:
            self.store.delivery_add(
                delivery.provider,
                delivery.out_trade_no,
                delivery.url,
                delivery.body,
                duplicate=True,
                at=time.time() + self.policy.duplicate_delay,
            )

    def _send(self, delivery: Delivery, channel: Channel) -> tuple[list[object], bool]:
        if not loopback(delivery.url):
            return ["refused", "the sandbox only notifies this machine"], False
        try:
            answer = http_send(
                "POST", delivery.url, body=delivery.body, headers=channel.headers(delivery), timeout=10.0
            )
        except TransportError as exc:
            logger.info("sandbox: notification %s not delivered: %s", delivery.id, exc)
            return ["unreachable", str(exc)[:200]], False
        text = answer.body[:200].decode("utf-8", errors="replace")
        return [answer.status, text], channel.acknowledged(answer)
