"""SNLNN: spiking neurogenic leaky-tanh reservoirs for scikit-learn."""

from ._transformer import SNLNNTransformer

__version__ = "0.1.0"

__all__ = ["SNLNNTransformer", "__version__"]
