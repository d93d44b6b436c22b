"""Which parameters a pruner may prune, in a fixed order.

docs/SCIENCE.md §2: by default the weights of Linear and Conv layers are prunable; their biases only
when asked (``include_biases``), normalisation parameters never. The order is the order of
``model.named_modules()``, which fixes the bit order of packed masks.
"""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn

PRUNABLE_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def prunable_parameters(
    model: nn.Module, exclude: Iterable[str] = (), *, include_biases: bool = False
) -> dict[str, nn.Parameter]:
    """The prunable weights of ``model`` as an ordered {parameter name: parameter} dict.

    ``exclude`` holds module names (for example ``"fc3"``) or parameter names to leave dense.
    With ``include_biases`` each layer's bias follows its weight (the paper's 21-parameter toy
    of E4 prunes every parameter).
    """
    excluded = set(exclude)
    out: dict[str, nn.Parameter] = {}
    for module_name, module in model.named_modules():
        if not isinstance(module, PRUNABLE_TYPES) or module_name in excluded:
            continue
        name = f"{module_name}.weight" if module_name else "weight"
        if name in excluded or module.weight is None:
            continue
        out[name] = module.weight
        bias_name = f"{module_name}.bias" if module_name else "bias"
        if include_biases and module.bias is not None and bias_name not in excluded:
            out[bias_name] = module.bias
    unknown = excluded - {n for n, _ in model.named_modules()} - {n for n, _ in model.named_parameters()}
    if unknown:
        raise ValueError(f"excluded layers not in the model: {', '.join(sorted(unknown))}")
    if not out:
        raise ValueError("the model has no prunable Linear or Conv weights")
    return out
