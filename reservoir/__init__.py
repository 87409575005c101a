"""SNLNN: spiking neurogenic leaky-tanh reservoirs for scikit-learn.

- :class:`SNLNNTransformer`: the reservoir as a feature map (spikes, growth).
- :class:`RidgeReadout`, :class:`RidgeReadoutClassifier`: closed-form ridge
  readouts that accumulate the Gram matrix in chunks.
- :class:`LogisticReadoutClassifier`: multinomial logistic regression by
  L-BFGS over blockwise, threaded passes on float32 features (no copy of X).
- :class:`SNLNNClassifier`, :class:`SNLNNRegressor`: reservoir + readout.
- :class:`AutoSizeClassifier`, :class:`AutoSizeRegressor`: reservoirs that grow
  in independent blocks while a held-out score improves (task-driven growth).
- :mod:`reservoir.datasets`: MNIST and digits loaders.
- :func:`blockwise`: any fitted estimator over the row blocks of a dask array
  (the estimators above take dask arrays themselves).
- :mod:`reservoir.preprocessing`: :func:`~reservoir.preprocessing.deskew` for images.
"""

from ._dask import blockwise
from ._transformer import SNLNNTransformer
from ._forecast import SNLNNForecaster, SNLNNSeriesTransformer
from ._autosize import AutoSizeClassifier, AutoSizeRegressor

__version__ = "0.1.0"

# The readouts import sklearn.linear_model (about 0.3 s): load them on first
# use, so that a process that only needs the transformer starts faster.
_READOUTS = {
    "RidgeReadout": "_readout",
    "RidgeReadoutClassifier": "_readout",
    "SNLNNClassifier": "_readout",
    "SNLNNRegressor": "_readout",
    "LogisticReadoutClassifier": "_logistic",
}


def __getattr__(name):
    if name in _READOUTS:
        from importlib import import_module

        return getattr(import_module(f".{_READOUTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_READOUTS))

__all__ = [
    "AutoSizeClassifier",
    "AutoSizeRegressor",
    "SNLNNForecaster",
    "SNLNNSeriesTransformer",
    "LogisticReadoutClassifier",
    "RidgeReadout",
    "RidgeReadoutClassifier",
    "SNLNNClassifier",
    "SNLNNRegressor",
    "SNLNNTransformer",
    "blockwise",
    "__version__",
]
