"""Tests for ``environment_setup.check_environment``."""

from __future__ import annotations

import json
import platform
import sys

import pytest

from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.builtin import environment_setup
from codomyrmex_jupyter.engine.builtin.environment_setup import (
    DEFAULT_PACKAGES,
    REQUIRED_PACKAGES,
    check_environment,
)

ABSENT = "codomyrmex-no-such-distribution"


def test_default_report_describes_interpreter_and_platform() -> None:
    report = check_environment()
    assert report["python"] == {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }
    assert report["platform"] == {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
    }
    assert isinstance(report["cpu_count"], int)
    assert report["cpu_count"] >= 1


def test_default_report_lists_every_default_package_in_order() -> None:
    report = check_environment()
    assert list(report["packages"]) == list(DEFAULT_PACKAGES)
    assert report["required"] == list(REQUIRED_PACKAGES)


def test_installed_packages_have_versions() -> None:
    report = check_environment(["pytest", "matplotlib"], required=["pytest"])
    assert report["packages"]["pytest"] == pytest.__version__
    assert report["packages"]["matplotlib"]
    assert report["ok"] is True
    assert report["missing"] == []


def test_missing_package_is_none_and_listed() -> None:
    report = check_environment([ABSENT, "pytest"], required=[])
    assert report["packages"][ABSENT] is None
    assert report["missing"] == [ABSENT]
    assert report["ok"] is True  # only required packages decide ok


def test_missing_required_package_makes_ok_false() -> None:
    report = check_environment(["pytest"], required=[ABSENT])
    assert list(report["packages"]) == ["pytest", ABSENT]
    assert report["ok"] is False
    assert report["missing"] == [ABSENT]


def test_required_packages_are_checked_even_when_not_requested() -> None:
    report = check_environment(["pytest"])
    assert set(report["packages"]) == {"pytest", *REQUIRED_PACKAGES}


@pytest.mark.parametrize(
    ("packages", "expected"),
    [
        ("pytest", ["pytest"]),
        (["pytest", "pytest", " pytest "], ["pytest"]),
        (("pytest",), ["pytest"]),
    ],
)
def test_package_lists_are_normalised(packages: object, expected: list[str]) -> None:
    report = check_environment(packages, required=[])  # type: ignore[arg-type]
    assert list(report["packages"]) == expected


@pytest.mark.parametrize("bad", [[""], [3], ["ok", None]])
def test_bad_package_names_are_rejected(bad: list[object]) -> None:
    with pytest.raises(ValueError, match="packages must be a list of package names"):
        check_environment(bad)  # type: ignore[arg-type]


def test_report_is_json_serialisable() -> None:
    report = check_environment()
    assert json.loads(json.dumps(report)) == report


def test_register_adds_the_action() -> None:
    registry = ActionRegistry(load_builtins=False, load_entry_points=False)
    environment_setup.register(registry)
    spec = registry.find("environment_setup", "check_environment")
    assert spec is not None
    assert spec.fn is check_environment
    assert spec.required == frozenset()


def test_builtin_lookup_finds_the_action() -> None:
    registry = ActionRegistry(load_entry_points=False)
    assert registry.resolve("environment_setup", "check_environment").fn is check_environment
