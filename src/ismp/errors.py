"""The one exception hierarchy of ISMP.

    IsmpError                      anything ISMP reports to a person
     ├── ConfigError               a bad ISMP_* setting (names the variable)
     ├── InputError                one bad value in a file or form (file, line, field)
     ├── InputErrors               many InputError from one file; nothing was applied
     ├── NotFound                  a named object does not exist (or is not visible to the actor)
     ├── Forbidden                 the actor's role does not allow the action
     ├── Conflict                  the object changed since the actor read it (optimistic locking)
     └── FeedUnavailable           a feed's server could not be reached or kept refusing (after retries)

Each is mapped once: to an exit code in ``ismp.cli.main`` and to an RFC 9457 problem response in
``ismp.apps.web.api_errors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class IsmpError(Exception):
    """An error a person will read: what happened, and (optionally) what to do."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(IsmpError):
    code = "config"
    exit_code = 78

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}", hint=f"fix {variable} in the environment")
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Location:
    """Where a bad value is: file, 1-based line (or record number) and field."""

    file: str = ""
    line: int | None = None
    field: str = ""

    def __str__(self) -> str:
        parts = [self.file] if self.file else []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts)


class InputError(IsmpError):
    code = "invalid-input"
    exit_code = 65

    def __init__(self, message: str, *, file: str = "", line: int | None = None, field: str = "") -> None:
        self.location = Location(file, line, field)
        where = str(self.location)
        super().__init__(f"{where}: {message}" if where else message)
        self.reason = message

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "field": self.location.field,
            "message": self.reason,
        }


class InputErrors(IsmpError):
    """Several bad values found in one input; the input was not applied at all."""

    code = "invalid-input"
    exit_code = 65

    def __init__(self, errors: Sequence[InputError], *, file: str = "", total: int | None = None) -> None:
        self.errors = list(errors)
        self.total = total if total is not None else len(self.errors)
        head = "\n".join(f"  {e.message}" for e in self.errors[:20])
        more = f"\n  … and {self.total - 20} more" if self.total > 20 else ""
        name = file or (self.errors[0].location.file if self.errors else "input")
        super().__init__(
            f"{name}: {self.total} error(s); nothing was imported\n{head}{more}",
            hint="correct the lines named above and import the file again",
        )


class NotFound(IsmpError):
    code = "not-found"
    exit_code = 66


class Forbidden(IsmpError):
    code = "forbidden"
    exit_code = 77


class Conflict(IsmpError):
    """Someone else changed the object since the actor read it (optimistic locking): reload and retry."""

    code = "conflict"
    exit_code = 75


class FeedUnavailable(IsmpError):
    code = "feed-unavailable"
    exit_code = 69
