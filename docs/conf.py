"""Sphinx configuration for the SNLNN documentation (built offline)."""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
# The examples import their helper module ``_plotting`` from their own folder.
sys.path.insert(0, str(ROOT / "examples"))
os.environ.setdefault("MPLBACKEND", "Agg")

import reservoir  # noqa: E402

project = "SNLNN"
author = "SNLNN developers"
release = version = reservoir.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# Offline: no intersphinx, no remote images. Equations use Sphinx's default
# MathJax (a script tag the browser loads; nothing is fetched at build time).
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "furo"
html_title = f"SNLNN {release}"
# sphinx_gallery_conf holds a function (reset_argv): Sphinx cannot cache it.
suppress_warnings = ["config.cache"]


def _example_argv(gallery_conf, script_vars):
    # Figures go to the build folder, never over examples/figures/.
    out = DOCS / "_build" / "example-figures"
    return ["--out", str(out)]


sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Every public script is shown and run, except the MNIST pipeline (needs
    # the MNIST files): it is neither shown nor run. _plotting.py is a helper.
    "filename_pattern": r".*\.py$",
    "ignore_pattern": r"(_plotting|mnist_pipeline)\.py$",
    "reset_argv": _example_argv,
    "download_all_examples": False,
    "plot_gallery": "True",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
}


def _skip_metadata_requests(app, what, name, obj, skip, options):
    # scikit-learn attaches set_*_request methods to every estimator; their
    # docstrings point into scikit-learn's own glossary.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)
