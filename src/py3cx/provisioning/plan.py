"""What a provisioning run will do (a :class:`Plan` of :class:`Change` s) and what it did
(an :class:`ApplyResult`). Plain data, no I/O.

A plan holds one change per row of the file (create, update, unchanged, or a row that is skipped
because it is invalid or conflicts with the PBX), plus one ``delete`` per entity the file no
longer lists when ``delete_missing`` was asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["Action", "ApplyResult", "Change", "Outcome", "Plan"]


class Action(str, Enum):
    """What a change does to the PBX. ``conflict`` and ``invalid`` rows are skipped."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    INVALID = "invalid"
    DELETE = "delete"


# the order in which a plan is shown: what fails first, then what will change
_ORDER = (Action.INVALID, Action.CONFLICT, Action.CREATE, Action.UPDATE, Action.DELETE, Action.UNCHANGED)


@dataclass(frozen=True)
class Change:
    """One planned change to one entity (a user, a department, a queue).

    ``body`` is the POST body (create) or only the fields to PATCH (update); ``before`` holds the
    current values of those fields, and ``shown`` how a body value reads for a person where the
    wire form does not (a department's name for ``Groups``). ``allocate_number`` asks the PBX for
    the first free number just before the create. ``reason`` says why a row is skipped.
    Example: ``Change(Action.UPDATE, "Users", "ann@example.com", line=3, id=7, body={"LastName": "Lee"})``.
    """

    action: Action
    entity_set: str
    label: str
    line: int | None = None
    id: int | None = None
    body: Mapping[str, Any] = field(default_factory=dict)
    before: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    allocate_number: bool = False
    shown: Mapping[str, Any] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        """True for a row that will not be applied (invalid or in conflict)."""
        return self.action in (Action.INVALID, Action.CONFLICT)

    def describe(self) -> str:
        """A one-line summary for a person: the reason, the fields that change, or what is created."""
        if self.reason:
            return self.reason
        if self.action is Action.UPDATE:
            return "; ".join(
                f"{name}: {_show(self.before.get(name))} -> {_show(self.shown.get(name, value))}"
                for name, value in self.body.items()
            )
        if self.action is Action.CREATE:
            shown = ", ".join(
                f"{name}={_show(self.shown.get(name, value))}" for name, value in self.body.items()
            )
            return shown + (", Number=<first free>" if self.allocate_number else "")
        return ""

    def as_dict(self) -> dict[str, Any]:
        """The change as JSON-ready data (what ``3cx ... sync --json`` prints)."""
        out: dict[str, Any] = {"action": self.action.value, "line": self.line, "label": self.label}
        if self.id is not None:
            out["id"] = self.id
        if self.body:
            out["body"] = dict(self.body)
        if self.before:
            out["before"] = dict(self.before)
        if self.reason:
            out["reason"] = self.reason
        if self.allocate_number:
            out["allocate_number"] = True
        return out


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, list):
        return (
            "[" + " ".join(str(v.get("Number", v)) if isinstance(v, Mapping) else str(v) for v in value) + "]"
        )
    return str(value)


@dataclass(frozen=True)
class Plan:
    """Every change a provisioning run would make to one entity set, in file order.

    Example: ``plan.counts() == {"create": 2, "update": 1, "unchanged": 5, ...}``.
    """

    entity_set: str
    changes: tuple[Change, ...]

    def of(self, action: Action) -> list[Change]:
        """The changes with one action, in file order."""
        return [c for c in self.changes if c.action is action]

    @property
    def skipped(self) -> list[Change]:
        """Rows that will not be applied (invalid or in conflict), by line."""
        return sorted((c for c in self.changes if c.skipped), key=lambda c: (c.line is None, c.line or 0))

    @property
    def pending(self) -> list[Change]:
        """Changes that would modify the PBX (create, update, delete)."""
        return [c for c in self.changes if c.action in (Action.CREATE, Action.UPDATE, Action.DELETE)]

    @property
    def problems(self) -> list[tuple[Change, str]]:
        """Each skipped row with the reason, by line: what a person must fix in the file."""
        return [(c, c.reason or c.action.value) for c in self.skipped]

    def counts(self) -> dict[str, int]:
        """How many changes of each action (every action is listed, zeros included)."""
        return {a.value: sum(1 for c in self.changes if c.action is a) for a in _ORDER}

    def ordered(self) -> list[Change]:
        """The changes in display order: skipped rows, creates, updates, deletes, unchanged."""
        rank = {a: i for i, a in enumerate(_ORDER)}
        return sorted(self.changes, key=lambda c: rank[c.action])

    def as_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data."""
        return {
            "entity_set": self.entity_set,
            "counts": self.counts(),
            "changes": [c.as_dict() for c in self.ordered()],
        }


@dataclass(frozen=True)
class Outcome:
    """What applying one change did: ``error`` is the PBX's refusal (None when it worked).

    ``id`` and ``number`` are those of a created entity (``number`` when the PBX chose it).
    """

    change: Change
    error: str | None = None
    id: int | None = None
    number: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        out = self.change.as_dict()
        out["ok"] = self.ok
        if self.error:
            out["error"] = self.error
        if self.id is not None:
            out["id"] = self.id
        if self.number is not None:
            out["number"] = self.number
        return out


@dataclass(frozen=True)
class ApplyResult:
    """The outcome of applying a plan: one :class:`Outcome` per change that was attempted.

    ``failed`` lists every row that did not make it: those skipped by the plan and those the PBX
    refused. Example: ``if not result.ok: print(result.failed)``.
    """

    plan: Plan
    outcomes: tuple[Outcome, ...]

    @property
    def applied(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def refused(self) -> list[Outcome]:
        """Changes the PBX refused while applying."""
        return [o for o in self.outcomes if not o.ok]

    @property
    def failed(self) -> list[Change]:
        """Every change that did not happen (skipped by the plan or refused by the PBX), by line."""
        changes = [*self.plan.skipped, *(o.change for o in self.refused)]
        return sorted(changes, key=lambda c: (c.line is None, c.line or 0))

    @property
    def problems(self) -> list[tuple[Change, str]]:
        """Each failed row with why: the plan's reason, or the PBX's refusal. By line."""
        refusals = [(o.change, o.error or "refused") for o in self.refused]
        both = [*self.plan.problems, *refusals]
        return sorted(both, key=lambda item: (item[0].line is None, item[0].line or 0))

    @property
    def ok(self) -> bool:
        """True when every row of the file was applied or already up to date."""
        return not self.failed

    def counts(self) -> dict[str, int]:
        """Applied changes per action, plus ``failed`` (rows skipped or refused)."""
        counts = {a.value: 0 for a in (Action.CREATE, Action.UPDATE, Action.DELETE)}
        for outcome in self.applied:
            counts[outcome.change.action.value] += 1
        counts["unchanged"] = len(self.plan.of(Action.UNCHANGED))
        counts["failed"] = len(self.failed)
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity_set": self.plan.entity_set,
            "counts": self.counts(),
            "outcomes": [o.as_dict() for o in self.outcomes],
            "skipped": [c.as_dict() for c in self.plan.skipped],
        }
