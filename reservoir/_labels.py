"""Class labels as indices into ``classes_``, shared by the ridge classifiers."""

import numpy as np


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
