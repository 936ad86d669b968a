"""The package's shape: no import circles (imports inside functions count too), short top-level listings,
and every documented entry point resolvable.

Why: a module that imports one that imports it back can only be read, tested and moved together with it;
hiding the import inside a function keeps the circle and hides it. Checked on the source with `ast`, so a
circle fails here before it becomes an import-order bug. Not seen: the implicit import of a parent package
(the `__init__`s of pear_verl's parts hold docstrings only) and imports by name in strings (importlib, the
sandbox's worker targets, entry points, hydra `pkg://` paths), which other tests load.
"""

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pear_verl", "reward_fns")


def module_files() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports anywhere in its body (`from a import b`: a.b if it is a module)."""
    files = module_files()
    graph = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's package
                    package = name.split(".") if is_package else name.split(".")[:-1]
                    base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
                targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names}
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_circle_finder_finds_a_planted_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_the_parts_are_layered():
    """Between pear_verl's parts too (training, behaviour, evaluation, ...): no part imports one that imports it."""
    part = lambda module: ".".join(module.split(".")[:2])  # noqa: E731
    parts: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        parts.setdefault(part(module), set()).update(part(t) for t in targets if part(t) != part(module))
    for targets in list(parts.values()):
        for t in targets:
            parts.setdefault(t, set())
    assert circles(parts) == []


@pytest.mark.parametrize("folder", ["pear_verl", "reward_fns", "reward_fns/games"])
def test_top_level_listings_stay_short(folder):
    """About ten modules per folder: more is a sign the folder holds several parts. A game is one file by
    design (docs/rewards.md), so the built-in games do not count."""
    from reward_fns.games import BUILTIN_GAMES

    modules = [p for p in (ROOT / folder).glob("*.py") if p.name != "__init__.py" and p.stem not in BUILTIN_GAMES]
    assert len(modules) <= 10, sorted(p.name for p in modules)


def entry_points() -> list[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    targets = list(project["scripts"].values())
    for group in project["entry-points"].values():
        targets += group.values()
    return targets


@pytest.mark.parametrize("target", entry_points())
def test_entry_points_resolve(target):
    module, _, attr = target.partition(":")
    loaded = importlib.import_module(module)
    assert not attr or callable(getattr(loaded, attr))


def documented_modules() -> list[str]:
    """Every `python -m pear_verl...` / `reward_fns...` target that README, docs/, recipes/ and scripts/ name."""
    pages = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "recipes").glob("*.sh"), *(ROOT / "scripts").glob("*")]
    found = set()
    for page in pages:
        if page.is_file():
            found |= set(re.findall(r"python3? -m ((?:pear_verl|reward_fns)(?:\.\w+)*)", page.read_text(errors="replace")))
    return sorted(found)


def test_documented_modules_are_found():
    assert {"pear_verl.sft", "pear_verl.demo", "pear_verl.demo.tiny"} <= set(documented_modules())


@pytest.mark.parametrize("module", documented_modules())
def test_python_dash_m_targets_exist(module):
    spec = importlib.util.find_spec(module)
    assert spec is not None
    if spec.submodule_search_locations is not None:  # a package runs its __main__
        spec = importlib.util.find_spec(module + ".__main__")
        assert spec is not None
    else:  # a module that only defines things would run as a silent no-op
        assert re.search(r"^if __name__ == .__main__.:", Path(spec.origin).read_text(), flags=re.M), spec.origin
