"""Reading TOML tables with typed getters that collect problems under their key paths."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from camwall.errors import ConfigError
from camwall.redact import redact

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_PASSWORD_HINT = (
    "passwords do not go into the config file; put the password in an environment "
    'variable and set password_env = "VARIABLE_NAME"'
)
_KEY_HINTS = {"password": _PASSWORD_HINT, "pass": _PASSWORD_HINT, "passwd": _PASSWORD_HINT}


def key_path(parent: str, key: str | int) -> str:
    """Join a key onto a dotted key path (``camera[0]`` + ``url`` → ``camera[0].url``)."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    part = key if _BARE_KEY.match(key) else '"' + key.replace('"', '\\"') + '"'
    return f"{parent}.{part}" if parent else part


def type_name(value: object) -> str:
    """How a TOML value's type is called in messages ("a string")."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date/time"


class Problems:
    """Collects (key path, message) pairs while a whole file is checked."""

    def __init__(self, file: str | None) -> None:
        self.file = file
        self.items: list[tuple[str, str]] = []
        self.warnings: list[str] = []

    def add(self, key: str, message: str) -> None:
        """Record a problem at ``key`` (the message is redacted)."""
        self.items.append((key, redact(message)))

    def warn(self, key: str, message: str) -> None:
        """Record a warning: valid, but worth the user's attention."""
        where = ": ".join(p for p in (self.file, key) if p)
        self.warnings.append(f"{where}: {redact(message)}")

    def raise_if_any(self) -> None:
        """Raise one ConfigError holding every problem, if there are any."""
        if not self.items:
            return
        if len(self.items) == 1:
            key, message = self.items[0]
            raise ConfigError(message, path=self.file, key=key)
        lines = "\n".join(f"  {key}: {message}" for key, message in self.items)
        raise ConfigError(f"{len(self.items)} problems:\n{lines}", path=self.file)


class _Missing:
    pass


MISSING = _Missing()


class Table:
    """One TOML table being read: typed getters that report problems and fall back to defaults."""

    def __init__(
        self,
        data: Mapping[str, Any],
        path: str,
        problems: Problems,
        allowed: Sequence[str] | None,
    ) -> None:
        """Wrap ``data`` found at ``path``; report keys not in ``allowed`` (None: any key)."""
        self.data = data
        self.path = path
        self.problems = problems
        for key in data:
            if allowed is not None and key not in allowed:
                problems.add(key_path(path, key), _unknown_key_message(key, allowed))

    def key(self, key: str) -> str:
        """The full key path of ``key`` in this table."""
        return key_path(self.path, key)

    def raw(self, key: str) -> Any:
        """The value at ``key`` as parsed, or MISSING."""
        return self.data.get(key, MISSING)

    def _typed(self, key: str, check: Callable[[Any], bool], expected: str, required: bool) -> Any:
        """The value at ``key`` if present and of the right type, else MISSING (reported)."""
        value = self.raw(key)
        if value is MISSING:
            if required:
                self.problems.add(self.key(key), "missing required key")
            return MISSING
        if not check(value):
            self.problems.add(self.key(key), f"expected {expected}, got {type_name(value)}")
            return MISSING
        return value

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        """A string value, else ``default`` (a wrong type is reported)."""
        value = self._typed(key, lambda v: isinstance(v, str), "a string", required)
        return default if value is MISSING else value

    def boolean(self, key: str, default: bool) -> bool:
        """A boolean value, else ``default``."""
        value = self._typed(key, lambda v: isinstance(v, bool), "true or false", False)
        return default if value is MISSING else bool(value)

    def number(
        self,
        key: str,
        default: float | None,
        *,
        above: float | None = None,
        at_least: float | None = None,
        at_most: float | None = None,
    ) -> Any:
        """A finite number within the given bounds, else ``default``."""
        raw = self._typed(key, is_number, "a number", False)
        if raw is MISSING:
            return default
        value = float(raw)
        problem = None
        if not math.isfinite(value):
            problem = f"must be a finite number, got {value}"
        elif above is not None and value <= above:
            problem = f"must be greater than {number_text(above)}, got {number_text(value)}"
        elif at_least is not None and value < at_least:
            problem = f"must be at least {number_text(at_least)}, got {number_text(value)}"
        elif at_most is not None and value > at_most:
            problem = f"must be at most {number_text(at_most)}, got {number_text(value)}"
        if problem:
            self.problems.add(self.key(key), problem)
            return default
        return value

    def choice(self, key: str, default: str, options: Sequence[str], *, fold: bool = False) -> Any:
        """One of ``options`` (case-folded if ``fold``), else ``default``."""
        value = self._typed(key, lambda v: isinstance(v, str), "a string", False)
        if value is MISSING:
            return default
        probe = value.lower() if fold else value
        folded = {o.lower() if fold else o: o for o in options}
        if probe in folded:
            return folded[probe]
        listed = ", ".join(f'"{o}"' for o in options)
        self.problems.add(
            self.key(key), f"{value!r} is not one of {listed}{did_you_mean(probe, folded)}"
        )
        return default

    def table(self, key: str, allowed: Sequence[str] | None) -> Table | None:
        """The sub-table at ``key`` (checked against ``allowed``), or None."""
        value = self.raw(key)
        if value is MISSING:
            return None
        if not isinstance(value, dict):
            self.problems.add(
                self.key(key), f"expected a table ([{self.key(key)}]), got {type_name(value)}"
            )
            return None
        return Table(value, self.key(key), self.problems, allowed)


def is_number(value: object) -> bool:
    """True for TOML integers and floats (booleans are not numbers)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_text(value: float) -> str:
    """A number as the user would write it (60, not 60.0)."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for the closest option, or ""."""
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _unknown_key_message(key: str, allowed: Sequence[str]) -> str:
    if key.lower() in _KEY_HINTS:
        return f"unknown key; {_KEY_HINTS[key.lower()]}"
    hint = did_you_mean(key, allowed)
    if hint:
        return "unknown key" + hint
    return "unknown key; valid keys here: " + ", ".join(allowed)
