"""Parsers for what the container's /proc says: listening sockets, process states, argv."""

from __future__ import annotations

import ipaddress

_LISTEN = "0A"


def _address(hex_address: str) -> str:
    """`0100007F` (IPv4, little-endian) or a 32-digit IPv6 address in 4-byte little-endian words."""
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.IPv6Address(words))


def listening_tcp(text: str) -> tuple[tuple[str, int], ...]:
    """(address, port) of every socket in LISTEN state in /proc/net/tcp and tcp6 text."""
    found: set[tuple[str, int]] = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or ":" not in fields[1] or fields[3] != _LISTEN:
            continue
        address, _, port = fields[1].partition(":")
        try:
            found.add((_address(address), int(port, 16)))
        except ValueError:
            continue  # the header line, or a line cut short
    return tuple(sorted(found, key=lambda item: (item[1], item[0])))


def zombie_count(stat_text: str) -> int:
    """Processes in state Z among /proc/<pid>/stat lines (`pid (comm) S ...`)."""
    zombies = 0
    for line in stat_text.splitlines():
        # comm may hold spaces and parentheses: the state follows the last ')'.
        _, _, rest = line.rpartition(")")
        fields = rest.split()
        if fields and fields[0] == "Z":
            zombies += 1
    return zombies


def argv(cmdline: bytes) -> tuple[str, ...]:
    """/proc/<pid>/cmdline: NUL-separated arguments."""
    return tuple(part.decode("utf-8", "replace") for part in cmdline.split(b"\0") if part)


def loopback(address: str) -> bool:
    return ipaddress.ip_address(address).is_loopback
