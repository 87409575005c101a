"""Check a built site: an API page for every public name, every gallery example run.

    python docs/check_build.py [docs/_build/html]

Exits non-zero naming what is missing. Public names are ``__all__`` of
``reservoir``, ``reservoir.datasets`` and ``reservoir.preprocessing``. Examples
that the gallery does not run are listed in ``NOT_RUN`` with the reason.
"""

import importlib
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
MODULES = ("reservoir", "reservoir.datasets", "reservoir.preprocessing")
NOT_RUN = {"mnist_pipeline.py": "needs the MNIST files", "_plotting.py": "a helper module"}


def main(html=DOCS / "_build" / "html"):
    html = Path(html)
    problems = []
    sys.path.insert(0, str(ROOT))
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if name.startswith("__"):
                continue
            page = html / "generated" / f"{module_name}.{name}.html"
            if not page.is_file():
                problems.append(f"no API page for {module_name}.{name} ({page})")
    gallery = html / "auto_examples"
    for script in sorted((ROOT / "examples").glob("*.py")):
        if script.name in NOT_RUN:
            continue
        page = gallery / f"{script.stem}.html"
        if not page.is_file():
            problems.append(f"no gallery page for examples/{script.name}")
            continue
        text = page.read_text(encoding="utf-8")
        # sphinx-gallery writes the run time of every executed example.
        if not re.search(r"Total running time of the script", text):
            problems.append(f"examples/{script.name} was not run by the gallery")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"site OK: API pages for {', '.join(MODULES)}; every example run "
          f"(not run: {', '.join(f'{k} ({v})' for k, v in NOT_RUN.items())})")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
