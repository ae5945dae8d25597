"""SNMPv3 (USM) sessions through pysnmp 7's asyncio API, behind the same surface as v1/v2c.

pysnmp does USM properly (engine discovery, time windows, key localisation, SHA-2, AES) but
costs about a millisecond of CPU per request, so it carries only the v3 devices; v1/v2c go
through ``engine.UdpEngine``. The agent's USM reports become ``SnmpAuthError`` sentences:
a wrong auth key says so instead of looking like a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from collectors._snmp import ber
from collectors._snmp.ber import Oid, VarBind
from collectors._snmp.engine import UdpEngine, resolve
from collectors._snmp.options import SnmpEndpoint
from collectors._snmp.session import SnmpAuthError, SnmpError, SnmpErrorStatus, SnmpProtocolError, SnmpTimeout

log = logging.getLogger("yunwei.snmp")

_AUTH_ERRORS = {
    "WrongDigest": "SNMPv3 authentication failed: wrong auth key or auth protocol (agent reports usmStatsWrongDigests)",
    "UnknownUserName": "SNMPv3 user {user!r} is unknown to the agent (usmStatsUnknownUserNames)",
    "DecryptionError": "SNMPv3 decryption failed: wrong privacy key or protocol (usmStatsDecryptionErrors)",
    "UnsupportedSecurityLevel": "SNMPv3 security level {level} is not allowed for user {user!r} (usmStatsUnsupportedSecLevels)",
    "AuthenticationFailure": "SNMPv3 authentication failed: the agent's reply did not verify with our auth key",
    "AuthenticationError": "SNMPv3 authentication failed: wrong auth key or auth protocol",
    "UnknownSecurityName": "SNMPv3 user {user!r} is not known",
    "NotInTimeWindow": "SNMPv3 not in time window (agent clock or engine boots changed); retry",
}


def _tag_of(value: Any) -> int:
    """The BER tag byte of a pysnmp value (Counter64 → 0x46 ...)."""
    tag = value.tagSet[0] if value.tagSet else None
    if tag is None:
        return ber.NULL
    return int(tag.tagClass) | int(tag.tagFormat) | int(tag.tagId)


def _convert(name: Any, value: Any) -> VarBind:
    oid = tuple(int(arc) for arc in name)
    tag = _tag_of(value)
    if tag in ber.EXCEPTION_TAGS or tag == ber.NULL:
        return VarBind(oid, tag, None)
    if tag in ber.INTEGER_TAGS:
        return VarBind(oid, tag, int(value))
    if tag in (ber.OCTET_STRING, ber.OPAQUE):
        return VarBind(oid, tag, bytes(value.asOctets()))
    if tag == ber.OBJECT_IDENTIFIER:
        return VarBind(oid, tag, tuple(int(arc) for arc in value))
    if tag == ber.IP_ADDRESS:
        return VarBind(oid, tag, ".".join(str(b) for b in value.asOctets()))
    return VarBind(oid, tag, None)


class V3Engine:
    """One pysnmp SnmpEngine shared by the v3 sessions of a collector."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._warned: set[str] = set()

    def engine(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._engine is None or self._loop is not loop:
            from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

            self._engine = SnmpEngine()
            self._loop = loop
        return self._engine

    def warn_weak(self, device: str, endpoint: SnmpEndpoint) -> None:
        weak = endpoint.weak_protocols
        if weak and device not in self._warned:
            self._warned.add(device)
            log.warning(
                "%s uses weak SNMPv3 protocol(s) %s: accepted for old gear, switch to SHA/AES when possible",
                device,
                "/".join(weak),
            )

    def close(self) -> None:
        if self._engine is not None:
            with contextlib.suppress(Exception):  # a half-started engine has nothing to close
                self._engine.close_dispatcher()
            self._engine = None


def _usm(endpoint: SnmpEndpoint) -> Any:
    from pysnmp.hlapi.v3arch import asyncio as hl

    auth = {
        None: hl.usmNoAuthProtocol,
        "MD5": hl.usmHMACMD5AuthProtocol,
        "SHA": hl.usmHMACSHAAuthProtocol,
        "SHA224": hl.usmHMAC128SHA224AuthProtocol,
        "SHA256": hl.usmHMAC192SHA256AuthProtocol,
        "SHA384": hl.usmHMAC256SHA384AuthProtocol,
        "SHA512": hl.usmHMAC384SHA512AuthProtocol,
    }[endpoint.auth_protocol]
    priv = {
        None: hl.usmNoPrivProtocol,
        "DES": hl.usmDESPrivProtocol,
        "3DES": hl.usm3DESEDEPrivProtocol,
        "AES": hl.usmAesCfb128Protocol,
        "AES192": hl.usmAesBlumenthalCfb192Protocol,
        "AES256": hl.usmAesBlumenthalCfb256Protocol,
        "AES192C": hl.usmAesCfb192Protocol,
        "AES256C": hl.usmAesCfb256Protocol,
    }[endpoint.priv_protocol]
    return hl.UsmUserData(
        endpoint.user,
        authKey=endpoint.auth_key.get_secret_value() if endpoint.auth_key else None,
        privKey=endpoint.priv_key.get_secret_value() if endpoint.priv_key else None,
        authProtocol=auth,
        privProtocol=priv,
    )


class V3Session:
    """One device's SNMPv3 endpoint."""

    version = 3

    def __init__(self, engine: V3Engine, host: str, endpoint: SnmpEndpoint, udp: UdpEngine | None = None) -> None:
        self.v3, self.host, self.port, self.endpoint = engine, host, endpoint.port, endpoint
        self.udp = udp
        self._auth: Any = None
        self._target: Any = None
        self._alive: asyncio.Task[bool] | None = None

    async def _prepare(self) -> tuple[Any, Any, Any, Any]:
        from pysnmp.hlapi.v3arch import asyncio as hl

        if self._auth is None:
            self._auth = _usm(self.endpoint)
        if self._target is None:
            self._target = await hl.UdpTransportTarget.create(
                (self.host, self.port), timeout=self.endpoint.timeout, retries=self.endpoint.retries
            )
        return self.v3.engine(), self._auth, self._target, hl.ContextData(contextName=self.endpoint.context)

    def _check(self, result: tuple[Any, Any, Any, Any], oids: Sequence[Oid]) -> list[VarBind]:
        indication, status, index, varbinds = result
        if indication:
            raise self._indication_error(indication)
        if status and int(status):
            raise SnmpErrorStatus(int(status), int(index or 0), oids)
        return [_convert(name, value) for name, value in varbinds]

    def _indication_error(self, indication: Any) -> SnmpError:
        kind = type(indication).__name__
        if kind == "RequestTimedOut":
            tries = self.endpoint.retries + 1
            return SnmpTimeout(
                f"no answer after {tries} tr{'y' if tries == 1 else 'ies'} of {self.endpoint.timeout:g} s: "
                "device down or SNMP not enabled"
            )
        if kind in _AUTH_ERRORS:
            return SnmpAuthError(_AUTH_ERRORS[kind].format(user=self.endpoint.user, level=self.endpoint.security_level))
        return SnmpProtocolError(f"SNMPv3: {indication}")

    async def _run(self, function: Any, *args: Any, oids: Sequence[Oid]) -> list[VarBind]:
        from pysnmp.hlapi.v3arch import asyncio as hl

        engine, auth, target, context = await self._prepare()
        objects = [hl.ObjectType(hl.ObjectIdentity(ber.format_oid(oid))) for oid in oids]
        call = asyncio.ensure_future(function(engine, auth, target, context, *args, *objects, lookupMib=False))
        try:
            if self.udp is not None and self.endpoint.retries > 0 and self._alive is None:
                # Still silent after one try: ask, once and beside the retries, whether an SNMP
                # engine answers at all, so that silence can be told apart from a dead device.
                done, _ = await asyncio.wait({call}, timeout=self.endpoint.timeout)
                if not done:
                    address = (await resolve(self.host), self.port)
                    self._alive = asyncio.ensure_future(self.udp.discover_v3(address, self.endpoint.timeout))
            result = await call
        except SnmpError:
            raise
        except asyncio.CancelledError:
            call.cancel()
            raise
        except Exception as exc:  # pysnmp raises its own errors for garbled replies
            raise SnmpProtocolError(f"SNMPv3: {type(exc).__name__}: {exc}") from None
        if result[0] and type(result[0]).__name__ == "RequestTimedOut" and self._alive is not None:
            alive = await self._alive
            self._alive = None
            if alive and self.endpoint.priv_protocol:
                raise SnmpAuthError(
                    "SNMPv3 agent is alive (answers discovery) but drops our encrypted requests: "
                    "wrong privacy key or privacy protocol (or the agent dropped them under load)"
                )
            if alive:
                raise SnmpAuthError("SNMPv3 agent is alive (answers discovery) but ignores our requests: check user and keys")
        return self._check(result, oids)

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        from pysnmp.hlapi.v3arch.asyncio import get_cmd

        return await self._run(get_cmd, oids=oids)

    async def get_next(self, oids: Sequence[Oid]) -> list[VarBind]:
        from pysnmp.hlapi.v3arch.asyncio import next_cmd

        return await self._run(next_cmd, oids=oids)

    async def get_bulk(self, oids: Sequence[Oid], max_repetitions: int) -> list[VarBind]:
        from pysnmp.hlapi.v3arch.asyncio import bulk_cmd

        return await self._run(bulk_cmd, 0, max_repetitions, oids=oids)
