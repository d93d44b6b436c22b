"""The ``masks:`` data spec of the information_calibration experiment: synthetic masks of known
information (``infotheory.synthetic``), ``masks:case=carrier,n=100,p=1000,q=0.1``."""

from __future__ import annotations

from dataclasses import dataclass

from noprune.errors import UserError
from noprune.lazy import lazy
from noprune.specs import parse_kwargs, split_spec

synthetic = lazy("infotheory.synthetic")


@dataclass(frozen=True)
class Case:
    """One synthetic case: ``n`` labels (labels design) or draws (draws design), ``p`` bits,
    flip probability ``q``, noise density ``density``, ``permutations`` of the detector."""

    case: str = "carrier"
    n: int = 100
    p: int = 1000
    q: float = 0.0
    density: float = 0.05
    permutations: int = 100


def parse_case(spec: str) -> Case:
    name, rest = split_spec(spec)
    if name != "masks":
        raise UserError(f'synthetic masks take data = "masks:case=...,n=...,p=...", got {spec!r}')
    options = {"case": str, "n": int, "p": int, "q": float, "density": float, "permutations": int}
    case = Case(**parse_kwargs(rest, options, what="synthetic masks"))
    if case.case not in synthetic.LABEL_CASES + synthetic.DRAW_CASES:
        cases = ", ".join(synthetic.LABEL_CASES + synthetic.DRAW_CASES)
        raise UserError(f"unknown synthetic case {case.case!r}; cases: {cases}")
    if case.n < 1 or case.p < 1 or not 0.0 <= case.q <= 0.5 or not 0.0 <= case.density < 1.0:
        raise UserError(f"synthetic masks need n, p >= 1, q in [0, 0.5], density in [0, 1): {spec!r}")
    return case
