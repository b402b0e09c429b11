"""Shared array arithmetic (base/arrays.py)."""
import numpy as np

from cs_analytics.base.arrays import ranges


def test_ranges_count_within_each_piece():
    assert ranges([2, 3]).tolist() == [0, 1, 0, 1, 2]
    assert ranges([0, 1, 0, 2]).tolist() == [0, 0, 1]
    assert ranges(np.zeros(0, dtype=np.int64)).tolist() == []
