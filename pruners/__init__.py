"""pruners: masks, exact selection, and the seven pruners of No Free Prune, behind one API.

    masks = pruners.get("snip").prune(model, density=0.05, batch=(x, y), seed=0)
    masks.density, masks.nnz, masks.per_layer(), masks.collapsed()
    pruners.connected(model, masks, input_shape).nnz    # kept weights on an input-output path
    masks.save("masks.safetensors"); MaskSet.load("masks.safetensors")

Depends on torch only; never imports noprune.
"""

from pruners.ablations import ABLATIONS, invert, reinit, shuffle
from pruners.base import FAMILIES, Pruner, ScoringPruner, Trainer
from pruners.connectivity import connected
from pruners.masks import LayerStats, MaskSet
from pruners.network import ModuleNetwork, Network
from pruners.params import prunable_parameters
from pruners.registry import BUILTIN, PRUNERS, available, display_rank, get, load_plugins, register
from pruners.schedules import exponential, iterative, one_shot
from pruners.selection import check_density, keep_count, select

__all__ = [
    "ABLATIONS",
    "BUILTIN",
    "FAMILIES",
    "PRUNERS",
    "LayerStats",
    "MaskSet",
    "ModuleNetwork",
    "Network",
    "Pruner",
    "ScoringPruner",
    "Trainer",
    "available",
    "check_density",
    "connected",
    "display_rank",
    "exponential",
    "get",
    "invert",
    "iterative",
    "keep_count",
    "load_plugins",
    "one_shot",
    "prunable_parameters",
    "register",
    "reinit",
    "select",
    "shuffle",
]

load_plugins()  # last: a plugin may import anything above
