"""Dataset loaders in scikit-learn's style.

``load_digits_sequences`` ships with scikit-learn and works offline;
``load_mnist`` reads the standard IDX files from a local directory or a
verified download (see its docstring for the lookup order and environment
variables).
``mackey_glass``, ``narma`` and ``lorenz`` generate benchmark time series
locally, channels-last ``(n_timesteps, n_channels)``.
"""

from ._digits import load_digits_sequences
from ._mnist import DatasetIntegrityError, get_data_home, load_mnist
from ._timeseries import lorenz, mackey_glass, narma

__all__ = [
    "DatasetIntegrityError",
    "get_data_home",
    "load_digits_sequences",
    "load_mnist",
    "lorenz",
    "mackey_glass",
    "narma",
]
