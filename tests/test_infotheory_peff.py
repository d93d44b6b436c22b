"""p_eff = nnz * b + I (No Free Prune §1), as an interval from the bounds on I."""

from __future__ import annotations

import math

import pytest

import infotheory as it


def test_informal_p_eff_is_nnz_plus_information():
    p = it.effective_parameters(nnz=1000, information_low=12.5, information_high=40.0)
    assert (p.low, p.high) == (1012.5, 1040.0)
    assert "p_eff in [1012.5, 1040]" in str(p)


def test_theorem_form_uses_the_bits_per_weight_factor():
    b = it.bits_per_weight(diameter=2.0, lipschitz=1.0, eps=0.5)
    assert b == pytest.approx(math.log2(1 + 60 * 2.0 * 1.0 / 0.5))
    p = it.effective_parameters(nnz=10, information_low=0.0, information_high=0.0, bits_per_weight=b)
    assert p.low == p.high == pytest.approx(10 * b)  # a data-blind mask: I = 0 exactly


@pytest.mark.parametrize(
    "args",
    [(-1, 0, 0), (10, 5, 1), (10, -1, 2)],
    ids=["negative-nnz", "low-above-high", "negative-information"],
)
def test_bad_inputs_are_refused(args):
    with pytest.raises(ValueError):
        it.effective_parameters(*args)
    with pytest.raises(ValueError):
        it.bits_per_weight(0.0, 1.0, 1.0)
