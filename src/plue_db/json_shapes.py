"""The shapes of Plue's json columns whose shape is fixed, as sqlc.yaml's json_types
gives them to the generated code (plue_queries reads them checked: a stored value that
doesn't fit raises JsonShapeError naming the function, the column and the path).

TypedDicts, so a value is the dict psycopg decodes, checked, and callers write dict
literals; no library is needed.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class PlanStep(TypedDict):
    """One node of a workflow's step DAG."""

    name: str
    run: str  # the command the runner executes
    needs: NotRequired[list[str]]  # names of the steps that must finish first


class WorkflowPlan(TypedDict):
    """workflow_definitions.plan: the step DAG, ``{"steps": [...]}``."""

    steps: list[PlanStep]
