"""The sandbox agents connected to the tenant's pools."""

from __future__ import annotations

from typing import List

from ._transport import Transport
from .agent_types import AgentSummary

__all__ = ["Agents"]


class Agents:
    """``GET /v1/agents``."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(self) -> List[AgentSummary]:
        """The connected agents: capacity, languages, health, and what their images hold.

        >>> for agent in swarm.agents.list():
        ...     print(agent.id, agent.in_flight, "of", agent.capacity, agent.languages)
        """
        return self._t.json("GET", "/v1/agents", lambda o: o.objects("agents", AgentSummary.from_json))
