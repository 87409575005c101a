"""Neurogenesis: when and by how much the active reservoir grows."""

GROWTH_CRITERIA = ("mean_abs_state", "spike_rate")


def growth_signal(criterion, mean_abs_state, spike_rate):
    """The batch statistic that the growth rule compares with its threshold.

    ``"mean_abs_state"`` is the original model's rule (grow while the mean
    absolute state exceeds the threshold, i.e. while the reservoir is
    saturated); ``"spike_rate"`` grows while the active neurons spike more
    often than the threshold (fraction of neuron-steps with a spike).
    """
    if criterion == "mean_abs_state":
        return mean_abs_state
    return spike_rate


def grown_size(n_active, growth_step, max_units):
    """Active size after one growth event, capped at ``max_units``."""
    return min(n_active + growth_step, max_units)
