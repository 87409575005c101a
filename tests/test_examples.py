"""Run every script in examples/ as a user would, so that none of them can rot.

Each example runs in a subprocess with this interpreter, the Agg backend and
a temporary ``--out`` folder; the test checks the exit code, the printed
result (an accuracy above a sane floor) and, when matplotlib is installed,
that the figures were written as real PNG files. Without matplotlib the
examples must still run and say how to get the figures.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
INSTALL_HINT = 'pip install ".[examples]"'
ACCURACY = re.compile(r"accuracy[^:\n]*:\s*([01]\.\d+)")
# A hung example should fail its test, not stall the suite.
TIMEOUT = 300

# script, extra arguments, figures written, floor for every printed accuracy
# (None: the script prints no accuracy), another line that must be printed.
CASES = {
    "quickstart": ("quickstart.py", (), ["quickstart.png"], 0.90, None),
    "grid_search": (
        "grid_search.py",
        ("--n-jobs", "2"),
        ["grid_search.png"],
        0.90,
        "best parameters:",
    ),
    "neurogenesis": (
        "neurogenesis.py",
        (),
        ["neurogenesis.png"],
        0.90,
        "grew from 50 to",
    ),
    "forecasting": (
        "forecasting.py",
        (),
        ["forecasting.png"],
        None,
        "closed loop, first 300 generated steps",
    ),
    "spikes": (
        "spikes.py",
        (),
        ["spikes.png"],
        None,
        "match transform's spike_rate, final and mean blocks",
    ),
    "sequence_classification": (
        "sequence_classification.py",
        (),
        ["sequence_classification.png"],
        0.90,
        "test accuracy, n_windows=8:",
    ),
}


def example_env(**extra):
    env = dict(os.environ, MPLBACKEND="Agg", **extra)
    # Run the package of this checkout, whether or not it is installed.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in [env.get("PYTHONPATH")] if p]
    )
    # The examples use BLAS for small eigen-solves and ridge solves; on a
    # shared or busy machine, threaded BLAS on such small problems is
    # oversubscribed and can be tens of times slower. Results do not change.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


def run(args, cwd, env):
    result = subprocess.run(
        [sys.executable, *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, (
        f"{args} exited with {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
    return result.stdout


def check_accuracies(stdout, floor):
    accuracies = [float(value) for value in ACCURACY.findall(stdout)]
    assert accuracies, f"no accuracy line printed:\n{stdout}"
    assert min(accuracies) > floor, f"accuracy below {floor}:\n{stdout}"


def check_figures(out, names, stdout):
    if not HAS_MATPLOTLIB:
        assert INSTALL_HINT in stdout
        return
    for name in names:
        path = out / name
        assert path.is_file(), f"{name} not written to {out}:\n{stdout}"
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE), f"{path} is not a PNG file"
        # A real figure, not an empty canvas: these are all tens of kB.
        assert len(data) > 5000, f"{path} is only {len(data)} bytes"
        assert str(path) in stdout


# Examples that read data the repository does not ship: (variable, default path).
EXAMPLE_DATA = {
    "sequence_classification": (
        "SNLNN_TSC_DIR", REPO_ROOT.parent / "shared" / "data" / "tsc" / "JapaneseVowels.npz"
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_example(case, tmp_path):
    script, args, figures, floor, line = CASES[case]
    if case in EXAMPLE_DATA:
        variable, default = EXAMPLE_DATA[case]
        directory = os.environ.get(variable)
        path = Path(directory) / default.name if directory else default
        if not path.is_file():
            pytest.skip(f"{path} not found: set ${variable} to run the {case} example")
    out = tmp_path / "figures"
    command = [str(EXAMPLES / script), *args, "--out", str(out)]
    stdout = run(command, tmp_path, example_env())
    if floor is not None:
        check_accuracies(stdout, floor)
    if line is not None:
        assert line in stdout, stdout
    check_figures(out, figures, stdout)


def test_mnist_pipeline(mnist_dir, tmp_path):
    stdout = run(
        [str(EXAMPLES / "mnist_pipeline.py"), "--subset", "2000"],
        tmp_path,
        example_env(SNLNN_MNIST_DIR=str(mnist_dir)),
    )
    assert "trained on 2000 images, tested on 2000" in stdout, stdout
    check_accuracies(stdout, 0.75)


@pytest.mark.parametrize("case", ["quickstart", "spikes"])
def test_example_without_matplotlib(case, tmp_path):
    """Results are still printed, no figure is attempted, and the hint is given."""
    script, args, _, floor, line = CASES[case]
    out = tmp_path / "figures"
    path = str(EXAMPLES / script)
    # `import matplotlib` raises ImportError once its sys.modules entry is None.
    code = (
        "import runpy, sys\n"
        "sys.modules['matplotlib'] = None\n"
        f"sys.path.insert(0, {str(EXAMPLES)!r})\n"
        f"sys.argv = [{path!r}, *{list(args)!r}, '--out', {str(out)!r}]\n"
        f"runpy.run_path({path!r}, run_name='__main__')\n"
    )
    stdout = run(["-c", code], tmp_path, example_env())
    if floor is not None:
        check_accuracies(stdout, floor)
    if line is not None:
        assert line in stdout, stdout
    assert INSTALL_HINT in stdout, stdout
    assert not out.exists() or not any(out.iterdir())
