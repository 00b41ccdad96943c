"""The import graph of the package, read from the source (ast), against docs/architecture.md.

Every ``import`` counts, also the ones inside functions: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "edgedeblur"

# docs/architecture.md, "Packages": a module may import its own layer and the layers below.
LAYERS: dict[str, int] = {
    "errors": 0, "io": 0, "_arrays": 0, "_progress": 0, "_machine": 0,
    "degrade": 1, "metrics": 1, "runtime": 1,
    "classical": 2, "methods": 2, "models": 2, "evaluate": 2, "_eval_result": 2,
    "train": 3, "calibration": 3,
    "export": 4, "bench": 4,
    "nas": 5,
    "cli": 6,
}
# Known upward edges still to remove: (importing module, imported module). Keep it empty.
KNOWN_UPWARD: set[tuple[str, str]] = set()
RUNTIME_NEVER = ("torch", "tensorflow", "edgedeblur.models", "edgedeblur.export", "edgedeblur.train",
                 "edgedeblur.nas", "edgedeblur.cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """``(imported module, imported names, line)`` for every import statement of ``path``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [alias.name for alias in node.names]
            if node.module is None:  # from . import x: x is a module, or a name of the package
                found += [(f"{target}.{name}", [], node.lineno) if _is_module(f"{target}.{name}")
                          else (target, [name], node.lineno) for name in names]
            else:
                found.append((target, names, node.lineno))
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, list[tuple[str, list[str], int]]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _part(module: str) -> str | None:
    """The top-level part of the package a module belongs to (``None`` for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {_part(m) for m in _graph()} - {None}
    assert parts <= set(LAYERS), f"add {sorted(parts - set(LAYERS))} to LAYERS and docs/architecture.md"


def test_the_architecture_page_states_the_same_layers() -> None:
    """docs/architecture.md's Packages table names each part of the package with its layer."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    documented = {}
    for row in re.findall(r"^\| (\d) \| ([^|]+) \|", text, flags=re.MULTILINE):
        for name in re.findall(r"`([\w]+)/?`", row[1]):
            documented[name] = int(row[0])
    assert documented == LAYERS


def test_no_import_points_up() -> None:
    upward = []
    for module, imports in _graph().items():
        here = _part(module)
        for target, _names, line in imports:
            there = _part(target) if target.startswith("edgedeblur.") else None
            if here is None or there is None or here == there:
                continue  # the package's __init__ / __version__, third-party, or one part
            if LAYERS[there] > LAYERS[here] and (module, target) not in KNOWN_UPWARD:
                upward.append(f"{module}:{line} imports {target}")
    assert not upward, "imports against the layering of docs/architecture.md:\n" + "\n".join(upward)


@pytest.mark.parametrize(("importer", "forbidden"), [
    ("edgedeblur.models", "edgedeblur.nas"),   # the zoo does not depend on the search
    ("edgedeblur", "edgedeblur.cli"),          # no library module imports a command module
])
def test_named_rules(importer: str, forbidden: str) -> None:
    bad = [f"{module}:{line} imports {target}"
           for module, imports in _graph().items()
           if module.startswith(importer) and not module.startswith(forbidden)
           for target, _names, line in imports if target == forbidden or target.startswith(forbidden + ".")]
    assert not bad, "\n".join(bad)


def test_runtime_never_imports_torch_or_the_layers_above() -> None:
    bad = [f"{module}:{line} imports {target}"
           for module, imports in _graph().items() if module.startswith("edgedeblur.runtime")
           for target, _names, line in imports
           if any(target == n or target.startswith(n + ".") for n in RUNTIME_NEVER)]
    assert not bad, "\n".join(bad)


def test_no_module_getattr() -> None:
    """A module ``__getattr__`` hides an import cycle; import what you offer instead."""
    bad = [_module_name(p) for p in PACKAGE.rglob("*.py")
           for node in ast.parse(p.read_text(encoding="utf-8")).body
           if isinstance(node, ast.FunctionDef) and node.name == "__getattr__"]
    assert not bad, bad


def test_no_private_names_from_public_modules() -> None:
    """``_name`` is private to its module: share it through a private module both import."""
    bad = [f"{module}:{line} takes {[n for n in names if n.startswith('_')]} from {target}"
           for module, imports in _graph().items()
           for target, names, line in imports
           if target.startswith("edgedeblur") and not target.rsplit(".", 1)[-1].startswith("_")
           and any(n.startswith("_") and not n.startswith("__") for n in names)]
    assert not bad, "\n".join(bad)


def test_the_rules_see_a_violation(tmp_path: Path) -> None:
    """The parser resolves relative imports, also inside functions (a lazy import counts)."""
    pkg = tmp_path / "edgedeblur" / "models"
    pkg.mkdir(parents=True)
    src = pkg / "x.py"
    (pkg / "y.py").write_text("")
    src.write_text("def f():\n    from ..nas.space import genome_key\n    from . import y\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "edgedeblur"
    try:
        assert [t for t, _n, _l in _imports(src)] == ["edgedeblur.nas.space", "edgedeblur.models.y"]
    finally:
        PACKAGE = saved
