"""The one place that decides which support function a new case goes to.

For now a chosen category decides; without one ("Vet inte") the case goes to the first-line service
centre. Automatic routing of free text replaces ``decide_route`` and keeps its signature.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.models import SupportFunction
from app.auth.services import get_function
from app.tickets.models import Category

FIRST_LINE = "servicecenter"


@dataclass
class RoutingDecision:
    function: SupportFunction
    confidence: float
    reason: str
    suggested: SupportFunction | None = None


def decide_route(category: Category | None, subject: str, description: str) -> RoutingDecision:
    """Where a new case goes, how sure we are, and why."""
    if category is not None:
        return RoutingDecision(category.function, 1.0, f"category:{category.slug}")
    return RoutingDecision(get_function(FIRST_LINE), 0.0, "no category: first line")
