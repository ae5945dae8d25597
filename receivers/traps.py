"""The SNMP trap receiver: one asyncio UDP socket; v1 traps, v2c traps and INFORMs (answered),
SNMPv3 with USM (authNoPriv/authPriv; MD5, SHA-1, SHA-2; DES, AES-128/192/256).

For a v3 trap the sender is the authoritative engine: keys are localised with the engine id
in the message (a user may be limited to ``engine_ids``), and each sender engine's
boots/time is remembered so a replayed trap (older than 150 s in the sender's own clock) is
refused. For a v3 INFORM this receiver is authoritative: it answers the sender's discovery
probe with a Report carrying its engine id, boots and time, then checks the time window.

``handle(datagram, address)`` never raises: every bad datagram is counted (malformed,
oversized, rejected by reason, rate-limited) and dropped.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from collectors._snmp import notify, usm
from collectors._snmp.notify import Notification, NotificationError
from core.events import Event
from receivers.config import TrapsConfig, V3User
from receivers.limits import RateLimiter, ReceiverStats
from receivers.trap_meanings import Context, interpret
from receivers.udp import DatagramReader

log = logging.getLogger("yunwei.receivers")

TIME_WINDOW = 150  # seconds, RFC 3414 §3.2 (7)
MAX_REMOTE_ENGINES = 4096
MAX_LOGGED = 1000


def default_engine_id(agent_id: str) -> bytes:
    """An RFC 3411 engine id (enterprise 8072, format 5 = octets) stable for one agent id."""
    return b"\x80\x00\x1f\x88\x05" + hashlib.sha256(agent_id.encode()).digest()[:8]


class TrapReceiver:
    def __init__(
        self,
        config: TrapsConfig,
        on_event: Callable[[Event], None],
        resolve: Callable[[str], str | None] = lambda address: None,
        context: Context | None = None,
        agent_id: str = "yunwei",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.on_event, self.resolve, self.clock = on_event, resolve, clock
        self.context = context or Context()
        self.communities = {c.get_secret_value().encode() for c in config.communities}
        self.users: dict[bytes, V3User] = {u.user.encode(): u for u in config.v3_users}
        self.limiter = RateLimiter(config.rate_per_source, config.burst, config.max_sources)
        self.stats = ReceiverStats()
        self.engine_id = bytes.fromhex(config.engine_id.removeprefix("0x")) if config.engine_id else default_engine_id(agent_id)
        self.boots, self._started = 1, time.monotonic()
        self.remote: OrderedDict[tuple[str, bytes], tuple[int, int]] = OrderedDict()  # (address, engine) → (boots, time)
        self.reader: DatagramReader | None = None
        self._from = ""
        self._logged: set[tuple[str, str]] = set()

    # -- one datagram ---------------------------------------------------------------------

    def handle(self, data: bytes, source: tuple[str, int]) -> bytes | None:
        """Decode one datagram, hand its event on; returns the reply owed (INFORM, discovery) or None."""
        address = self._from = source[0]
        self.stats.received += 1
        if len(data) > self.config.max_datagram:
            self.stats.oversized += 1
            return None
        if not self.limiter.allow(address, "traps"):
            self.stats.rate_limited += 1
            return None
        try:
            if notify.message_version(data) == 3:
                notification, reply = self._v3(data)
            else:
                notification, reply = self._community(data)
        except NotificationError:
            self.stats.malformed += 1
            return None
        if notification is not None:
            self._deliver(notification, address)
        return reply

    def _reject(self, reason: str) -> tuple[None, None]:
        """Count a refused trap; the first of each reason from each address is logged (a device
        being set up with a wrong community shows up in the journal once, not once a second)."""
        self.stats.rejected[reason] += 1
        key = (reason, self._from)
        if key not in self._logged and len(self._logged) < MAX_LOGGED:
            self._logged.add(key)
            log.warning("trap from %s refused: %s (counted; further ones from it are not logged)", self._from, reason)
        return None, None

    def _community(self, data: bytes) -> tuple[Notification | None, bytes | None]:
        notification = notify.decode_community(data)
        if notification.community not in self.communities:
            return self._reject("wrong community")
        reply = notify.community_response(notification) if notification.is_inform else None
        return notification, reply

    def _now(self) -> int:
        return int(time.monotonic() - self._started)

    def _v3(self, data: bytes) -> tuple[Notification | None, bytes | None]:
        message = notify.decode_v3_header(data)
        if not message.engine_id:  # discovery (an INFORM sender learning our engine id)
            if not message.flags & usm.FLAG_REPORTABLE or message.data_tag != 0x30:
                return self._reject("v3 message without engine id")
            _, request_id = notify.request_id_of_scoped(message.data)
            pdu = notify.report_pdu(request_id, notify.UNKNOWN_ENGINE_IDS, self.stats.rejected["v3 discovery"] + 1)
            self.stats.rejected["v3 discovery"] += 1  # counted apart: not an error, nothing to deliver
            return None, notify.v3_reply(message.message_id, self.engine_id, self.boots, self._now(), message.user, notify.scoped(self.engine_id, pdu))
        user = self.users.get(message.user)
        if user is None:
            return self._reject("unknown v3 user")
        if not message.flags & usm.FLAG_AUTH:
            return self._reject("v3 without authentication")
        ours = message.engine_id == self.engine_id
        if not ours and user.engine_ids and message.engine_id not in user.allowed_engines:
            return self._reject("v3 engine id not allowed for user")
        auth_key, priv_key = usm.localized_keys(
            user.auth_protocol,
            user.auth_key.get_secret_value().encode(),
            user.priv_protocol,
            user.priv_key.get_secret_value().encode() if user.priv_key else b"",
            message.engine_id,
        )
        assert user.auth_protocol is not None
        if not usm.verify(data, message, user.auth_protocol, auth_key):
            return self._reject("wrong v3 auth key")
        if ours:
            if message.boots != self.boots or abs(message.engine_time - self._now()) > TIME_WINDOW:
                pdu = notify.report_pdu(0, usm.NOT_IN_TIME_WINDOW, 1)
                reply = notify.v3_reply(
                    message.message_id, self.engine_id, self.boots, self._now(), message.user,
                    notify.scoped(self.engine_id, pdu), user.auth_protocol, auth_key,
                )
                self.stats.rejected["v3 not in time window"] += 1
                return None, reply
        elif not self._fresh(message.engine_id, message.boots, message.engine_time):
            return self._reject("v3 replayed or stale (engine boots/time went back)")
        scoped = message.data
        if message.flags & usm.FLAG_PRIV:
            if user.priv_protocol is None:
                return self._reject("v3 encrypted but no priv_key configured")
            try:
                scoped = usm.decrypt(user.priv_protocol, priv_key, message.boots, message.engine_time, message.priv_params, message.data)
                notification = notify.decode_scoped(scoped)
            except (NotificationError, Exception):  # a wrong privacy key decrypts to garbage
                return self._reject("wrong v3 privacy key")
        elif user.priv_protocol is not None:
            return self._reject("v3 without privacy for a user that requires it")
        else:
            notification = notify.decode_scoped(scoped)
        notification.user = message.user
        reply = None
        if notification.is_inform and ours:
            pdu = notify.response_pdu(notification.request_id, notification.raw_varbinds)
            reply = notify.v3_reply(
                message.message_id, self.engine_id, self.boots, self._now(), message.user,
                notify.scoped(notification.context_engine_id, pdu, notification.context_name),
                user.auth_protocol, auth_key, user.priv_protocol if message.flags & usm.FLAG_PRIV else None, priv_key,
            )
        return notification, reply

    def _fresh(self, engine_id: bytes, boots: int, engine_time: int) -> bool:
        """Not a replay: the sender engine's boots/time did not go back (keyed by address too:
        devices cloned from one configuration sometimes share an engine id)."""
        key = (self._from, engine_id)
        last = self.remote.get(key)
        if last is not None:
            if boots < last[0] or (boots == last[0] and engine_time < last[1] - TIME_WINDOW):
                return False
            if (boots, engine_time) < last:
                return True  # within the window: not newer, keep the latest
        self.remote[key] = (boots, engine_time)
        self.remote.move_to_end(key)
        if len(self.remote) > MAX_REMOTE_ENGINES:
            self.remote.popitem(last=False)
        return True

    def _deliver(self, notification: Notification, address: str) -> None:
        device = self.resolve(address)
        if device is None and notification.agent_address and notification.agent_address != address:
            device = self.resolve(notification.agent_address)  # a v1 trap relayed by a proxy names its agent
        if device is None:
            self.stats.unknown(address, "trap")
        event = interpret(notification, address, device, self.clock(), self.config.rules, self.context)
        self.stats.events += 1
        try:
            self.on_event(event)
        except Exception:  # the consumer's bug must not stop reception
            log.exception("trap event handler failed")

    # -- the socket -----------------------------------------------------------------------

    async def start(self, default_port: int = 162) -> tuple[str, int]:
        """Listen on ``traps.listen``; returns the bound (host, port)."""
        where = self.config.address(default_port)
        assert where is not None, "traps.listen is not set"
        self.reader = DatagramReader(self.handle, self._oversized, self.config.max_datagram)
        return self.reader.open(*where)

    def _oversized(self) -> None:
        self.stats.received += 1
        self.stats.oversized += 1

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
