"""Array arithmetic the vectorised steps share."""
from __future__ import annotations

from functools import lru_cache

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


@lru_cache(maxsize=1)
def python_whitespace() -> str:
    """Every character ``str.isspace()`` holds for (what ``str.strip()`` removes): the characters Python's
    ``\\s`` matches, found among all code points at once."""
    import re
    import sys

    points = np.arange(sys.maxunicode + 1, dtype="<u4")
    points = points[(points < 0xD800) | (points > 0xDFFF)]          # surrogates are not characters
    return "".join(re.findall(r"\s", points.tobytes().decode("utf-32-le")))


def stripped(texts):
    """Each text of an Arrow string array with ``str.strip()``'s whitespace removed from both ends, in Arrow
    (``pc.utf8_trim_whitespace`` has its own, smaller idea of whitespace)."""
    import pyarrow.compute as pc

    return pc.utf8_trim(texts, characters=python_whitespace())
