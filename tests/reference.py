"""Deliberately simple numpy twins of the kernels (one sequence at a time)."""

import numpy as np


def leaky_spike_update(activation, state, leak_rate, spike_threshold):
    """Twin of ``_kernels.leaky_spike_update``: returns (new state, spikes).

    Computed in the dtype of ``state``: every scalar is rounded to it first.
    """
    dtype = np.asarray(state).dtype.type
    leak, threshold = dtype(leak_rate), dtype(spike_threshold)
    state = (dtype(1) - leak) * state + leak * activation
    spikes = state > threshold
    return np.where(spikes, state - threshold, state), spikes


def csr_matmul_add(matrix, dense, out):
    """Twin of ``_kernels.csr_matmul_add`` for a dense ``matrix``."""
    return out + matrix @ dense


def trajectory(sequence, w_in, bias, w_rec, leak_rate, spike_threshold):
    """States and spikes of one sequence of shape (n_steps, n_inputs).

    pre_t = W_in x_t + W s_{t-1} + b;  s_t = (1 - a) s_{t-1} + a tanh(pre_t);
    spike where s_t > threshold, then s_t -= threshold.
    """
    state = np.zeros(w_in.shape[0])
    states, spikes = [], []
    for x_t in sequence:
        pre = w_in @ x_t + w_rec @ state + bias
        state, spiked = leaky_spike_update(np.tanh(pre), state, leak_rate, spike_threshold)
        states.append(state)
        spikes.append(spiked)
    return np.array(states), np.array(spikes, dtype=float)


def collect_states(sequences, w_in, bias, w_rec, leak_rate, spike_threshold,
                   summaries, n_units_out):
    """Twin of ``_collect.collect_states``: summaries of every sequence."""
    n_active = w_in.shape[0]
    rows = []
    for sequence in sequences:
        states, spikes = trajectory(
            sequence, w_in, bias, w_rec, leak_rate, spike_threshold
        )
        blocks = {
            "final": states[-1],
            "mean": states.mean(axis=0),
            "spike_rate": spikes.mean(axis=0),
        }
        row = np.zeros((len(summaries), n_units_out))
        for k, name in enumerate(summaries):
            row[k, :n_active] = blocks[name]
        rows.append(row.ravel())
    return np.array(rows)
