"""Shared by the classifiers: label checks, indices into ``classes_``, and the
prediction methods of the linear readouts, which also take dask arrays."""

import numpy as np
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from . import _dask


class DaskLinearClassifierMixin(LinearClassifierMixin):
    """scikit-learn's linear classifier methods, blockwise and lazy on dask arrays."""

    def decision_function(self, X):
        """Confidence scores: ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Samples; a dask array gives a lazy dask array.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            1-D for two classes (positive for ``classes_[1]``).
        """
        lazy = _dask.lazy_method(self, "decision_function", X)
        return super().decision_function(X) if lazy is None else lazy

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Samples; a dask array gives a lazy dask array.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        lazy = _dask.lazy_method(self, "predict", X)
        return super().predict(X) if lazy is None else lazy


def check_targets(estimator, y):
    """Raise unless ``y`` holds binary or multiclass labels."""
    check_classification_targets(y)
    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        raise ValueError(
            f"{type(estimator).__name__} supports binary and multiclass targets, "
            f"got {kind!r}."
        )


def check_classes(estimator, classes):
    """Raise unless there are at least two ``classes``."""
    if len(classes) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes, but "
            f"the data contains only one class: {classes[0]!r}."
        )


def class_indices(classes, y):
    """Indices of the labels ``y`` in the sorted ``classes``; labels that are
    not among them raise a ValueError naming them."""
    indices = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    unknown = classes[indices] != y
    if np.any(unknown):
        raise ValueError(
            f"y contains labels {np.unique(y[unknown])!r} that are not in "
            f"classes {classes!r}."
        )
    return indices
