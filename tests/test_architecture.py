"""The import rules of docs/ARCHITECTURE.md, checked on the source: imports flow one way
(noprune -> pruners, infotheory), storage never imports presentation, config never imports
training, presentation never imports the experiments, experiments never import each other, and
no private name is imported across modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("noprune", "pruners", "infotheory")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import statement in the file, relative ones resolved; names
    empty for ``import x``."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            out.append((module, [alias.name for alias in node.names]))
    return out


SOURCES = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def imported_modules(module: str) -> set[str]:
    """Modules ``module`` imports, ``from a import b`` counting ``a.b`` where that is a module."""
    found = set()
    for name, names in imports(SOURCES[module]):
        found.add(name)
        found |= {f"{name}.{n}" for n in names if f"{name}.{n}" in SOURCES}
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("pruners", "noprune"),
        ("pruners", "infotheory"),
        ("infotheory", "noprune"),
        ("infotheory", "pruners"),
        ("infotheory", "torch"),
        ("noprune.sweep", "noprune.report"),  # storage and sweeps never import presentation
        ("noprune.report", "noprune.experiments"),  # presentation is handed the registry
        ("noprune.config", "noprune.training"),
    ],
)
def test_imports_flow_one_way(importer: str, forbidden: str) -> None:
    offending = [
        f"{module} imports {name}"
        for module in SOURCES
        if within(module, importer)
        for name in imported_modules(module)
        if within(name, forbidden)
    ]
    assert offending == []


def test_experiments_never_import_each_other() -> None:
    from noprune.experiments import EXPERIMENTS

    def home(e) -> str:  # the module that defines the experiment (run may be a shared wrapper)
        return (e.run_batch or e.run).__module__

    registered = {home(e) for e in EXPERIMENTS.values()}
    offending = [
        f"{module} imports {name}"
        for module in registered
        for name in imported_modules(module)
        if name in registered and name != module
    ]
    assert len(registered) == len(EXPERIMENTS) and offending == []


def test_no_private_name_is_imported_across_modules() -> None:
    offending = [
        f"{module} imports {name}.{n}"
        for module in SOURCES
        for name, names in imports(SOURCES[module])
        for n in names
        if n.startswith("_")
        and not (n.startswith("__") and n.endswith("__"))  # __version__ is public
        and name.split(".")[0] in PACKAGES
        and name != module
    ]
    assert offending == []


def test_the_docs_stand_alone() -> None:
    """Every file the README, the docs, the suites and the code cite under docs/ exists, and
    none points outside the repository."""
    import re

    texts = [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "noprune" / "suites").glob("*.toml"),
    ]
    texts += [p for pkg in (*PACKAGES, "tests") for p in (ROOT / pkg).rglob("*.py")]
    cited = {m for p in texts for m in re.findall(r"docs/[A-Za-z_]+\.md", p.read_text())}
    assert cited and all((ROOT / c).is_file() for c in cited), cited
    outside = [str(p) for p in texts if "../shared" in p.read_text() and p.name != "test_architecture.py"]
    assert outside == []
