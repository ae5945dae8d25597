"""Shared SNMP protocol code for the ``snmp``, ``line`` and ``ups`` collectors.

- ``ber``: a minimal BER codec for SNMPv1/v2c messages (and the SNMPv3 discovery probe);
- ``engine``: one asyncio UDP socket multiplexing every v1/v2c request by request-id;
- ``v3``: SNMPv3 (USM) sessions through pysnmp 7's asyncio API;
- ``session``: the common ``get``/``walk`` surface both engines offer, and the errors;
- ``counters``: counter deltas (64-bit wrap, reset, missed rounds) and reboot detection;
- ``options``: the credential options every SNMP-based collector shares;
- ``poll``: system group, IF-MIB interfaces and user-defined OIDs for one device.
"""
