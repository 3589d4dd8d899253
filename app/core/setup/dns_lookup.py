"""DNS questions autodetection asks: MX hosts and SRV submission records (RFC 6186, RFC 8314).

``Resolver`` is the interface; ``DnsResolver`` answers it with the system's DNS through
dnspython. Tests pass a table instead, so nothing here is needed offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SrvRecord:
    """One SRV answer; ``target`` "." means the domain offers no such service (RFC 2782)."""

    priority: int
    weight: int
    port: int
    target: str

    @property
    def no_service(self) -> bool:
        return self.target in ("", ".")


class Resolver(Protocol):
    """Answers the DNS questions autodetection asks."""

    def mx(self, domain: str, timeout: float) -> list[str]:
        """Hosts that receive mail for ``domain``, best first."""
        ...

    def srv(self, name: str, timeout: float) -> list[SrvRecord]:
        """SRV records for ``name`` (e.g. ``_submissions._tcp.example.org``), unordered."""
        ...


class DnsResolver:
    """The system's DNS, through dnspython."""

    def mx(self, domain: str, timeout: float) -> list[str]:
        import dns.exception  # ~50 ms to import: only when DNS is really asked
        import dns.resolver

        try:
            answer = dns.resolver.resolve(domain, "MX", lifetime=timeout, search=False)
        except dns.exception.DNSException:
            return []
        records = sorted(answer, key=lambda record: record.preference)
        hosts = [record.exchange.to_text(omit_final_dot=True).lower() for record in records]
        return [host for host in hosts if host not in ("", ".")]  # "." is a null MX

    def srv(self, name: str, timeout: float) -> list[SrvRecord]:
        import dns.exception
        import dns.resolver

        try:
            answer = dns.resolver.resolve(name, "SRV", lifetime=timeout, search=False)
        except dns.exception.DNSException:
            return []
        return [
            SrvRecord(r.priority, r.weight, r.port, r.target.to_text(omit_final_dot=True).lower())
            for r in answer
        ]


def ordered(records: list[SrvRecord]) -> list[SrvRecord]:
    """Usable records, lowest priority first and heavier weight first within one."""
    usable = [r for r in records if not r.no_service and 0 < r.port < 65536]
    return sorted(usable, key=lambda r: (r.priority, -r.weight))
