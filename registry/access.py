"""Who may do what: the acting person and the permission predicates every channel asks.

Pages, the API, imports and the command line all pass an `Actor` to the domain, and the domain
asks these predicates (and registry.editions.workflow for edition actions), so a rule is
enforced the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.errors import DomainError
from registry.vocab import Role


class PermissionDenied(DomainError):
    pass


@dataclass(frozen=True, slots=True)
class Actor:
    id: int | None
    username: str
    role: str
    departments: frozenset[str] = frozenset()

    def can_edit(self, department_code: str) -> bool:
        """Editors keep their own departments' items; admins any."""
        return self.role == Role.admin or (self.role == Role.editor and department_code in self.departments)

    @property
    def can_review(self) -> bool:
        return self.role in (Role.reviewer, Role.admin)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


SYSTEM = Actor(None, "system", Role.admin)
