"""Who asked: bots and pre-fetchers filtered with maintained lists, podcast apps named by a maintained
parser, and a listener reduced to a keyed hash that cannot be turned back into an IP or user agent.

Bots: the `crawler-user-agents` patterns and Matomo's device detector (`device-detector`), which
also names the app. Listener: IPv4 whole or IPv6 cut to its first 64 bits (IAB PTM 5.5.4), with the
user agent, through HMAC-SHA256 under a key that lives only as long as its measurement day.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress

import crawleruseragents
from device_detector import DeviceDetector

# Apple Watch copies of a download the paired phone already made (IAB PTM 5.5.2, step 1.2.7).
_WATCH_PREFIX = "atc/"


@functools.lru_cache(maxsize=4096)
def classify(user_agent: str) -> tuple[str, str]:
    """("bot" | "watch" | "app", name): what kind of client the user agent names, and the name a
    report shows (the app or browser; no version, no device, nothing that narrows a person down)."""
    agent = user_agent.strip()
    if not agent or agent == "-":
        return "bot", "no user agent"
    if (agent.lower().startswith(_WATCH_PREFIX) and "watchos" in agent.lower()) or "(null)/(null) watchOS" in agent:
        return "watch", "Apple Watch"
    parsed = DeviceDetector(agent).parse()
    if parsed.is_bot():
        return "bot", "bot"
    name = parsed.client_name() or ""
    kind = str(getattr(parsed.client_type(), "value", parsed.client_type()) or "")
    known = bool(name) and name != "UNK"
    # A podcast app the detector knows wins over the crawler patterns, which also match some apps'
    # user agents (Overcast's app and feed poller share one); anything else they match is a bot.
    if known and kind != "browser":
        return "app", name
    if crawleruseragents.is_crawler(agent):
        return "bot", "crawler"
    if not known:
        return "app", "other"
    return "app", f"{name} (web browser)"


def network(ip: str) -> str:
    """The address a listener is known by: IPv4 whole, IPv6 cut to its /64 (a device cycles
    through many addresses of its /64)."""
    try:
        address = ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def listener(day_key: bytes, ip: str, user_agent: str) -> str:
    """A listener's pseudonym for one measurement day: a keyed hash of network and user agent. The
    key is random per day and deleted when the day closes, after which no pseudonym can be linked
    to an address again, not even by whoever holds the summary."""
    message = f"{network(ip)}\n{user_agent}".encode("utf-8", "replace")
    return hmac.new(day_key, message, hashlib.sha256).hexdigest()[:24]
