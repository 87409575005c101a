"""Deliberately simple numpy twins of the kernels (one sequence at a time)."""

import numpy as np


def leaky_spike_update(activation, state, leak_rate, spike_threshold, reset="subtract"):
    """Twin of ``_kernels.leaky_spike_reset`` (and ``step_update``): returns (new state, spikes).

    Computed in the dtype of ``state``: every scalar is rounded to it first.
    ``reset``: "subtract" (s - threshold), "zero" (0) or "none" (s) after a spike.
    """
    dtype = np.asarray(state).dtype.type
    leak, threshold = dtype(leak_rate), dtype(spike_threshold)
    state = (dtype(1) - leak) * state + leak * activation
    spikes = state > threshold
    after = {"subtract": state - threshold, "zero": np.zeros_like(state), "none": state}
    return np.where(spikes, after[reset], state), spikes


def csr_matmul_add(matrix, dense, out):
    """Twin of ``_kernels.csr_matmul_add`` for a dense ``matrix``."""
    return out + matrix @ dense


def trajectory(sequence, w_in, bias, w_rec, leak_rate, spike_threshold,
               reset="subtract"):
    """States and spikes of one sequence of shape (n_steps, n_inputs).

    pre_t = W_in x_t + W s_{t-1} + b;  s_t = (1 - a) s_{t-1} + a tanh(pre_t);
    spike where s_t > threshold, then the reset (s_t -= threshold by default).
    """
    state = np.zeros(w_in.shape[0])
    states, spikes = [], []
    for x_t in sequence:
        pre = w_in @ x_t + w_rec @ state + bias
        state, spiked = leaky_spike_update(
            np.tanh(pre), state, leak_rate, spike_threshold, reset
        )
        states.append(state)
        spikes.append(spiked)
    return np.array(states), np.array(spikes, dtype=float)


def windows(values, n_windows):
    """Mean of ``values`` (T, n) over K windows: step t is in window floor(K t / T);
    a window without steps (T < K) repeats the one before it."""
    n_steps = len(values)
    which = (n_windows * np.arange(n_steps)) // n_steps
    means = []
    for k in range(n_windows):
        inside = values[which == k]
        means.append(inside.mean(axis=0) if len(inside) else means[-1])
    return means


def collect_states(sequences, w_in, bias, w_rec, leak_rate, spike_threshold,
                   summaries, n_units_out, n_windows=1, reset="subtract"):
    """Twin of ``_collect.collect_states``: summaries of every sequence.

    ``sequences`` may hold sequences of different lengths (a list).
    """
    n_active = w_in.shape[0]
    rows = []
    for sequence in sequences:
        states, spikes = trajectory(
            sequence, w_in, bias, w_rec, leak_rate, spike_threshold, reset
        )
        blocks = {
            "final": [states[-1]],
            "mean": [states.mean(axis=0)],
            "spike_rate": [spikes.mean(axis=0)],
            "window_mean": windows(states, n_windows),
            "window_spike_rate": windows(spikes, n_windows),
        }
        row = []
        for name in summaries:
            for block in blocks[name]:
                padded = np.zeros(n_units_out)
                padded[:n_active] = block
                row.append(padded)
        rows.append(np.concatenate(row))
    return np.array(rows)


def series_states(series, w_in, bias, w_rec, leak_rate, spike_threshold, initial=None):
    """Twin of ``_kernels.series_states``: one series, the state carried over.

    Returns ``(states, spikes, final_state)``; ``initial`` defaults to zero.
    """
    state = np.zeros(w_in.shape[0]) if initial is None else np.array(initial, float)
    states, spikes = [], []
    for x_t in series:
        pre = w_in @ x_t + w_rec @ state + bias
        state, spiked = leaky_spike_update(np.tanh(pre), state, leak_rate, spike_threshold)
        states.append(state)
        spikes.append(spiked)
    shape = (len(series), w_in.shape[0])
    return (np.array(states).reshape(shape), np.array(spikes, float).reshape(shape),
            state)


def generate_series(n_timesteps, features, w_in, bias, w_rec, coef, intercept,
                    leak_rate, spike_threshold, input_col, spike_col):
    """Twin of ``_kernels.generate_series``: readout, feed back, step, repeat."""
    n_units = w_in.shape[0]
    features = np.array(features, float)
    outputs = []
    for k in range(n_timesteps):
        y = coef @ features + intercept
        outputs.append(y)
        if k + 1 == n_timesteps:
            break
        state, spiked = leaky_spike_update(
            np.tanh(w_in @ y + w_rec @ features[:n_units] + bias),
            features[:n_units], leak_rate, spike_threshold,
        )
        features[:n_units] = state
        if input_col >= 0:
            features[input_col : input_col + len(y)] = y
        if spike_col >= 0:
            features[spike_col : spike_col + n_units] = spiked
    return np.array(outputs).reshape(n_timesteps, coef.shape[0]), features


def logistic_block(x, y, weights, intercept):
    """Twin of ``_logistic_kernels.block_loss``, row by row in float64.

    ``weights`` (n_features, n_outputs): one output is the binomial loss on the
    logit of class 1, more the softmax cross-entropy. Returns ``(loss,
    X^T (P - Y), sum of P - Y)``.
    """
    loss, xtg, residual_sum = 0.0, 0.0, 0.0
    for row, label in zip(np.asarray(x, float), y):
        z = row @ np.asarray(weights, float) + intercept
        if len(z) == 1:
            # -log p(y) = log(1 + e^-t), t = +-z: logaddexp stays finite.
            t = z[0] if label == 1 else -z[0]
            loss += np.logaddexp(0.0, -t)
            p = np.exp(-np.logaddexp(0.0, -z))
            target = np.array([float(label == 1)])
        else:
            log_p = z - np.logaddexp.reduce(z)
            p = np.exp(log_p)
            target = np.eye(len(z))[label]
            loss -= log_p[label]
        xtg = xtg + np.outer(row, p - target)
        residual_sum = residual_sum + (p - target)
    return loss, xtg, residual_sum
