"""The package declares what it imports (setup.cfg install_requires)."""

import ast
import configparser
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Import names that differ from their distribution names.
DISTRIBUTION = {"sklearn": "scikit-learn"}


def imported_top_level_modules(module_level_only=False):
    """Third-party packages the package imports; with ``module_level_only``,
    only those imported when a module loads (not inside a function)."""
    names = set()
    for path in (ROOT / "reservoir").rglob("*.py"):
        tree = ast.parse(path.read_text())
        nodes = ast.iter_child_nodes(tree) if module_level_only else ast.walk(tree)
        for node in nodes:
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"reservoir"}


def _requirements(lines):
    return {
        re.split(r"[<>=!~ \[]", line.strip())[0].lower()
        for line in lines.strip().splitlines()
    }


def test_every_imported_third_party_package_is_declared():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    declared = _requirements(config["options"]["install_requires"])
    extras = _requirements(config["options.extras_require"]["dask"])
    loaded = {
        DISTRIBUTION.get(name, name).lower()
        for name in imported_top_level_modules(module_level_only=True)
    }
    assert not loaded - declared, (
        f"imported at module level but not in install_requires: {sorted(loaded - declared)}"
    )
    needed = {DISTRIBUTION.get(name, name).lower() for name in imported_top_level_modules()}
    missing = needed - declared - extras
    assert not missing, (
        f"imported but in neither install_requires nor the dask extra: {sorted(missing)}"
    )
    assert {"numpy", "numba", "scikit-learn", "scipy", "threadpoolctl"} <= declared
