"""Array arithmetic the vectorised steps share."""
from __future__ import annotations

import numpy as np


def ranges(lengths) -> np.ndarray:
    """0..n-1 for each n in ``lengths``, concatenated ([2, 3] → [0, 1, 0, 1, 2]): the position within its
    piece of every element of pieces laid end to end."""
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
