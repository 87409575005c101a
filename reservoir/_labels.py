"""Class labels: the checks and the indices into ``classes_``, shared by the classifiers."""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets, type_of_target


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
