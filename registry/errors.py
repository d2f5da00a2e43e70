"""Domain errors. Messages are user-facing (Chinese, through `_`); fields are machine paths."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # e.g. "trips_reason", "materials[2].condition"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class DomainError(Exception):
    """Base for errors the user can act on."""


class ValidationError(DomainError):
    def __init__(self, errors: list[FieldError], where: str = "") -> None:
        self.errors = errors
        self.where = where
        prefix = f"{where}: " if where else ""
        super().__init__(prefix + "; ".join(str(e) for e in errors))


class NotFound(DomainError):
    pass
