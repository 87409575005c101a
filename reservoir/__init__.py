"""SNLNN: spiking neurogenic leaky-tanh reservoirs for scikit-learn.

- :class:`SNLNNTransformer`: the reservoir as a feature map (spikes, growth).
- :class:`RidgeReadout`, :class:`RidgeReadoutClassifier`: closed-form ridge
  readouts that accumulate the Gram matrix in chunks.
- :class:`SNLNNClassifier`, :class:`SNLNNRegressor`: reservoir + readout.
- :mod:`reservoir.datasets`: MNIST and digits loaders.
"""

from ._readout import (
    RidgeReadout,
    RidgeReadoutClassifier,
    SNLNNClassifier,
    SNLNNRegressor,
)
from ._transformer import SNLNNTransformer

__version__ = "0.1.0"

__all__ = [
    "RidgeReadout",
    "RidgeReadoutClassifier",
    "SNLNNClassifier",
    "SNLNNRegressor",
    "SNLNNTransformer",
    "__version__",
]
