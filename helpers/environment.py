"""Compare the installed packages with the course's pins in requirements.txt."""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path

from helpers import config

REQUIREMENTS = config.REPO_ROOT / "requirements.txt"
_PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)")


@dataclass
class PackageCheck:
    """One package: the pinned version, the installed one (None if missing), and status."""

    name: str
    pinned: str
    installed: str | None

    @property
    def ok(self) -> bool:
        return self.installed == self.pinned


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """Return ``{package: version}`` for every ``name==version`` line of a requirements file.

    Raises ``FileNotFoundError`` if the file is missing.
    """
    pins = {}
    for line in Path(path).read_text().splitlines():
        match = _PIN.match(line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def check_versions(pins: dict[str, str] | None = None) -> list[PackageCheck]:
    """Return one ``PackageCheck`` per pinned package, comparing it with what is installed."""
    pins = read_pins() if pins is None else pins
    checks = []
    for name, pinned in pins.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        checks.append(PackageCheck(name, pinned, installed))
    return checks


def version_warnings(checks: list[PackageCheck]) -> list[str]:
    """Return a warning with the fix for each package that differs from its pin."""
    messages = []
    for check in checks:
        if check.ok:
            continue
        found = "not installed" if check.installed is None else f"{check.installed} installed"
        messages.append(
            f"{check.name}: {found}, the course is tested with {check.pinned}. "
            f"Fix: pip install {check.name}=={check.pinned} (or `make test` to rebuild .venv)"
        )
    return messages
