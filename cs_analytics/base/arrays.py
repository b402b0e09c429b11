"""Array arithmetic the vectorised steps share."""
from __future__ import annotations

import numpy as np
import pandas as pd


def ranges(lengths) -> np.ndarray:
    """0..n-1 for each n in ``lengths``, concatenated ([2, 3] → [0, 1, 0, 1, 2]): the position within its
    piece of every element of pieces laid end to end."""
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def arrow_strings(values: pd.Series):
    """A text column as one Arrow large_string array (its chunks combined; ``pa.array()`` of a pandas
    column would convert it value by value)."""
    import pyarrow as pa

    chunked = values.astype(pd.StringDtype("pyarrow")).array.__arrow_array__()
    array = chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked
    return array.cast(pa.large_string())
