"""The SNMP engines of one collector instance, and a session for a device's endpoint."""

from __future__ import annotations

from collectors._snmp.engine import CommunitySession, UdpEngine
from collectors._snmp.options import SnmpEndpoint
from collectors._snmp.session import Session
from collectors._snmp.usm import NATIVE_PRIV, EngineState, UsmSession
from collectors._snmp.v3 import V3Engine, V3Session


class SnmpClient:
    """One UDP socket for every device (v1, v2c and v3 through the native USM codec); a pysnmp
    engine for the v3 devices that ask for it (or use 3DES)."""

    def __init__(self, max_in_flight: int = 512) -> None:
        self.udp = UdpEngine(max_in_flight=max_in_flight)
        self.v3 = V3Engine()
        self.engines: dict[tuple[str, int], EngineState] = {}  # SNMPv3 engine id/boots/time per agent

    def session(self, host: str, endpoint: SnmpEndpoint, device: str = "") -> Session:
        if endpoint.version == "3":
            self.v3.warn_weak(device or host, endpoint)
            if endpoint.v3_engine == "native" and (endpoint.priv_protocol is None or endpoint.priv_protocol in NATIVE_PRIV):
                return UsmSession(self.udp, host, endpoint, self.engines)
            return V3Session(self.v3, host, endpoint, self.udp)
        return CommunitySession(
            self.udp,
            host,
            endpoint.port,
            endpoint.community.get_secret_value(),
            version=0 if endpoint.version == "1" else 1,
            timeout=endpoint.timeout,
            retries=endpoint.retries,
        )

    async def close(self) -> None:
        await self.udp.close()
        self.v3.close()
