"""Shared SNMP protocol code for the ``snmp``, ``line`` and ``ups`` collectors.

- ``ber``: a minimal BER codec for SNMPv1/v2c messages (and the SNMPv3 discovery probe);
- ``engine``: one asyncio UDP socket multiplexing every request by request-id / msgID;
- ``usm``: SNMPv3 (USM: auth, privacy, discovery) on that socket, the default for v3;
- ``v3``: SNMPv3 sessions through pysnmp 7's asyncio API (3DES, or ``v3_engine: pysnmp``);
- ``client``: the engines of one collector and the choice between them;
- ``session``: the common ``get``/``walk`` surface both engines offer, and the errors;
- ``counters``: counter deltas (64-bit wrap, reset, missed rounds) and reboot detection;
- ``options``: the credential options every SNMP-based collector shares;
- ``poll``: system group, IF-MIB interfaces and user-defined OIDs for one device.
"""
