"""The package declares what it imports (setup.cfg install_requires)."""

import ast
import configparser
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Import names that differ from their distribution names.
DISTRIBUTION = {"sklearn": "scikit-learn"}


def imported_top_level_modules():
    names = set()
    for path in (ROOT / "reservoir").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"reservoir"}


def test_every_imported_third_party_package_is_declared():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    declared = {
        re.split(r"[<>=!~ \[]", line.strip())[0].lower()
        for line in config["options"]["install_requires"].strip().splitlines()
    }
    needed = {DISTRIBUTION.get(name, name).lower() for name in imported_top_level_modules()}
    missing = needed - declared
    assert not missing, f"imported but not in install_requires: {sorted(missing)}"
    assert {"numpy", "numba", "scikit-learn", "scipy", "threadpoolctl"} <= declared
