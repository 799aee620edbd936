"""The SDK's dataclasses beside the API's contract: GET /v1/openapi.json of the stack under test.

Each dataclass that mirrors an answer has exactly the fields of its schema in
the document, in snake_case. A field the Worker adds, renames or drops fails
here, naming the class and the field, before a user meets it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unittest
import urllib.request
from typing import Any, Dict, List, Set

from edgeswarm import (
    AgentSummary,
    ErrorInfo,
    EventPage,
    ExecutionResult,
    FileSize,
    PlanStep,
    RunCreated,
    RunError,
    RunLinks,
    RunList,
    RunResult,
    RunSummary,
    RunUsage,
    RunView,
    TeamInfo,
    TokenUsage,
    Truncated,
    WebhookStatus,
    WorkspaceFile,
)
from edgeswarm.agent_types import AgentHealth, AgentSandbox

from .support import stack

#: Where each dataclass's schema is: a component, then properties; `[]` is an array's items.
MIRRORS = [
    ("RunCreated", RunCreated),
    ("RunView", RunView),
    ("RunView.plan[]", PlanStep),
    ("RunView.result", RunResult),
    ("RunView.result.files[]", WorkspaceFile),
    ("RunView.result.manifest[]", FileSize),
    ("RunView.usage", RunUsage),
    ("RunView.usage.coder", TokenUsage),
    ("RunView.team", TeamInfo),
    ("RunView.error", RunError),
    ("RunView.webhook", WebhookStatus),
    ("RunView.links", RunLinks),
    ("RunList", RunList),
    ("RunList.runs[]", RunSummary),
    ("EventPage", EventPage),
    ("ExecutionResult", ExecutionResult),
    ("ExecutionResult.truncated", Truncated),
    ("ExecutionResult.error", ErrorInfo),
    ("ExecutionResult.files[]", WorkspaceFile),
    ("AgentList.agents[]", AgentSummary),
    ("AgentList.agents[].health", AgentHealth),
    ("AgentList.agents[].sandboxes[]", AgentSandbox),
]


#: Fields the SDK names otherwise, each for a reason: (class, the API's name in snake_case) → the SDK's.
RENAMED = {
    # `self` would shadow the method's first argument in every reader's mind.
    ("RunLinks", "self"): "run",
}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


class Contract:
    def __init__(self, doc: Dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, node: Dict[str, Any]) -> Dict[str, Any]:
        """`node` without its $ref and without the null of a nullable union."""
        while True:
            ref = node.get("$ref")
            if isinstance(ref, str):
                at: Any = self.doc
                for part in ref.lstrip("#/").split("/"):
                    at = at[part]
                node = at
                continue
            branches = node.get("anyOf") or node.get("oneOf")
            if branches:
                kept = [b for b in branches if b.get("type") != "null"]
                if len(kept) == 1:
                    node = kept[0]
                    continue
            return node

    def at(self, path: str) -> Dict[str, Any]:
        first, *rest = path.split(".")
        node = self.resolve(self.doc["components"]["schemas"][first])
        for part in rest:
            name = part[:-2] if part.endswith("[]") else part
            node = self.resolve(node["properties"][name])
            if part.endswith("[]"):
                node = self.resolve(node["items"])
        return node

    def fields(self, path: str) -> Set[str]:
        return {snake(name) for name in self.at(path).get("properties", {})}


def fetch_document() -> Dict[str, Any]:
    url, _ = stack()
    with urllib.request.urlopen(f"{url}/v1/openapi.json", timeout=30) as res:
        return json.loads(res.read().decode("utf-8"))


class DataclassesMatchTheDocument(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.contract = Contract(fetch_document())

    def test_each_dataclass_has_its_schemas_fields(self) -> None:
        problems: List[str] = []
        for path, cls in MIRRORS:
            documented = {RENAMED.get((cls.__name__, name), name) for name in self.contract.fields(path)}
            declared = {f.name for f in dataclasses.fields(cls)}
            for name in sorted(documented - declared):
                problems.append(f"{cls.__name__} lacks {name} ({path} has it)")
            for name in sorted(declared - documented):
                problems.append(f"{cls.__name__} has {name}, which {path} does not")
        self.assertEqual(problems, [])

    def test_the_check_sees_a_field_the_document_adds(self) -> None:
        # The check above can fail: a copy of the document with one more field fails it.
        doc = fetch_document()
        view = Contract(doc).at("RunView")
        view["properties"]["newField"] = {"type": "string"}
        self.assertIn("new_field", Contract(doc).fields("RunView") - {f.name for f in dataclasses.fields(RunView)})


if __name__ == "__main__":
    unittest.main()
