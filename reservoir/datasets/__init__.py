"""Dataset loaders in scikit-learn's style.

``load_digits_sequences`` ships with scikit-learn and works offline;
``load_mnist`` reads the standard IDX files from a local directory or a
verified download (see its docstring for the lookup order and environment
variables).
"""

from ._digits import load_digits_sequences
from ._mnist import DatasetIntegrityError, get_data_home, load_mnist

__all__ = [
    "DatasetIntegrityError",
    "get_data_home",
    "load_digits_sequences",
    "load_mnist",
]
