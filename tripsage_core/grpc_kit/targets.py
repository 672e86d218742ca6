"""A <NAME>_SERVICE_ADDR value as the gRPC channel target that spreads calls over replicas.

- ``host:port`` becomes ``dns:///host:port``: grpc resolves the name itself and,
  with round_robin load balancing (see ``ROUND_ROBIN``), keeps a connection to
  every address it returns, so a headless Kubernetes Service name (one A record
  per ready pod) spreads calls over every replica.
- ``a:port,b:port`` (IP literals of one family, e.g. ``10.0.0.5:50052,10.0.0.6:50052``
  or ``[fd00::5]:50052,[fd00::6]:50052``) becomes grpc's static ``ipv4:`` /
  ``ipv6:`` list, for platforms without DNS per replica. Host names cannot be
  listed (grpc has no such target); use one DNS name that resolves to them all.
- A value with a scheme already (``dns:``, ``ipv4:``, ``ipv6:``, ``unix:``) is kept.
"""

from __future__ import annotations

import ipaddress
import json

_SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:")

# Round robin over every resolved address; picking a subchannel that is READY, so a
# replica that went away gets no calls once its connection drops.
ROUND_ROBIN = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})


def grpc_target(address: str) -> str:
    """The channel target for a service address; ValueError names what is wrong."""
    address = address.strip()
    if not address:
        raise ValueError("a service address is empty")
    if address.startswith(_SCHEMES):
        return address
    if "," not in address:
        _split(address)
        return f"dns:///{address}"
    entries = [_split(part.strip()) for part in address.split(",")]
    families: set[int] = set()
    for host, _ in entries:
        try:
            families.add(ipaddress.ip_address(host).version)
        except ValueError:
            raise ValueError(
                f"{address!r}: a list of addresses takes IP addresses only, not {host!r}"
                " (use one DNS name that resolves to every replica)"
            ) from None
    if len(families) != 1:
        raise ValueError(f"{address!r}: list addresses of one family (all IPv4 or all IPv6)")
    if families == {4}:
        return "ipv4:" + ",".join(f"{host}:{port}" for host, port in entries)
    return "ipv6:" + ",".join(f"[{host}]:{port}" for host, port in entries)


def _split(entry: str) -> tuple[str, int]:
    host, separator, port_text = entry.rpartition(":")
    host = host.strip("[]") if host.startswith("[") else host
    if not separator or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{entry!r} is not host:port")
    return host, int(port_text)
