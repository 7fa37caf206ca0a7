"""The environment of a run: interpreter, platform, package versions."""

from __future__ import annotations

import platform

from codomyrmex_jupyter.engine.environment import environment, package_version


def test_versions_of_packages_not_of_the_standard_library() -> None:
    import yaml

    assert package_version("yaml") == yaml.__version__  # a module whose distribution has another name
    assert package_version("numpy") is not None
    assert package_version("json") is None and package_version("__main__") is None
    assert package_version("no_such_package_here") is None


def test_environment_always_names_this_package() -> None:
    env = environment(["numpy", "__main__", "os"])
    assert env["python"] == platform.python_version()
    assert set(env["packages"]) == {"numpy", "codomyrmex_jupyter"}
