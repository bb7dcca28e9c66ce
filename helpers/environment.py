"""Compare the installed packages with the course's pins in requirements.txt (notebook 00).

Also describe the machine (``cpu_info``, ``machine_info``), as notebook 10 prints it and
the benchmark records it beside its timings.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers import config

REQUIREMENTS = config.REPO_ROOT / "requirements.txt"
# The tools that test, run and publish the course: pinned there, installed by make only
REQUIREMENTS_DEV = config.REPO_ROOT / "requirements-dev.txt"
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


def tool_packages(path: Path = REQUIREMENTS_DEV) -> frozenset[str]:
    """Return the names pinned in ``requirements-dev.txt``: tools no notebook imports."""
    return frozenset(read_pins(path))


def learner_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """Return ``{package: version}`` for the packages a learner uses: every pin but the tools.

    The tools are those of ``requirements-dev.txt``; a requirements file that pins both (an
    older clone's) gives the learner's part. Raises ``FileNotFoundError`` if it is missing.
    """
    tools = tool_packages() if REQUIREMENTS_DEV.exists() else frozenset()
    return {name: version for name, version in read_pins(path).items() if name not in tools}


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


@dataclass(frozen=True)
class CpuInfo:
    """The CPU's model name and its feature flags (such as ``avx512_bf16``)."""

    name: str
    flags: frozenset[str]


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuInfo:
    """Return the CPU's name and flags, read from ``cpuinfo`` (Linux: x86 and Arm formats).

    Where the file is missing or unreadable (macOS, Windows) the name is what ``platform``
    reports and the flags are empty.
    """
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        text = ""
    name, flags = "", frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not name:
            name = value.strip()
        elif key in {"flags", "Features"} and not flags:
            flags = frozenset(value.split())
    return CpuInfo(name or platform.processor() or platform.machine(), flags)


def machine_info() -> dict[str, Any]:
    """Return what timings depend on: CPU name, cores, bfloat16 instructions, versions.

    Keys: ``cpu``, ``cores``, ``avx512_bf16`` (a bool), ``python``, ``tensorflow``, ``keras``.
    """
    import keras
    import tensorflow as tf

    cpu = cpu_info()
    return {
        "cpu": cpu.name,
        "cores": os.cpu_count(),
        "avx512_bf16": "avx512_bf16" in cpu.flags,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }
