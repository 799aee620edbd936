"""What ``GET /v1/agents`` answers: the sandbox agents connected to the tenant's pools."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

from ._json import Obj

__all__ = ["AgentHealth", "AgentSandbox", "AgentSummary"]


@dataclass(frozen=True)
class AgentHealth:
    """The agent process over its last heartbeat's window: memory, event-loop delay, warm containers."""

    rss_bytes: int
    heap_used_bytes: int
    loop_delay_p50_ms: float
    loop_delay_p99_ms: float
    loop_delay_max_ms: float
    window_ms: float
    warm: int

    @staticmethod
    def from_json(o: Obj) -> "AgentHealth":
        return AgentHealth(
            o.integer("rssBytes"),
            o.integer("heapUsedBytes"),
            o.number("loopDelayP50Ms"),
            o.number("loopDelayP99Ms"),
            o.number("loopDelayMaxMs"),
            o.number("windowMs"),
            o.integer("warm"),
        )


@dataclass(frozen=True)
class AgentSandbox:
    """One language's image on an agent: its interpreter (name, version) and packages (name → version)."""

    language: str
    image: str
    interpreter: Optional[Dict[str, str]]
    packages: Dict[str, str]

    @staticmethod
    def from_json(o: Obj) -> "AgentSandbox":
        return AgentSandbox(o.string("language"), o.string("image"), o.opt_string_map("interpreter"), o.string_map("packages"))


@dataclass(frozen=True)
class AgentSummary:
    """One connected agent. ``in_flight`` of ``capacity`` slots are busy."""

    id: str
    pool: str
    version: str
    capacity: int
    in_flight: int
    labels: Dict[str, str]
    languages: List[str]
    connected_at: str
    last_heartbeat_at: str
    health: Optional[AgentHealth]
    sandboxes: Optional[List[AgentSandbox]]

    @staticmethod
    def from_json(o: Obj) -> "AgentSummary":
        health = o.opt_obj("health")
        return AgentSummary(
            id=o.string("id"),
            pool=o.string("pool"),
            version=o.string("version"),
            capacity=o.integer("capacity"),
            in_flight=o.integer("inFlight"),
            labels=o.string_map("labels"),
            languages=o.strings("languages"),
            connected_at=o.string("connectedAt"),
            last_heartbeat_at=o.string("lastHeartbeatAt"),
            health=AgentHealth.from_json(health) if health else None,
            sandboxes=o.opt_objects("sandboxes", AgentSandbox.from_json),
        )
