"""README.md and docs/: every relative link resolves inside the repository (anchors too), nothing links
outside it, and every repository path the pages name in backticks exists — so a moved file cannot leave a
page pointing at nothing."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
PATH = re.compile(r"`((?:pear_verl|reward_fns|tests|scripts|bench|recipes|docs)/[\w./-]*\.(?:py|sh|md|yaml|json|png))`")


def prose(page: Path) -> str:
    return re.sub(r"```.*?```", "", page.read_text(), flags=re.S)


def anchors(page: Path) -> set[str]:
    """GitHub's heading slugs: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""
    found, seen = set(), {}
    for heading in re.findall(r"^#+\s+(.*)$", prose(page), flags=re.M):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.replace("`", ""))
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve_inside_the_repository(page):
    bad = []
    for target in LINK.findall(prose(page)):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if re.match(r"[a-z]+:", target) or not dest.is_relative_to(ROOT) or not dest.exists():
            bad.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(target)
    assert not bad


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_paths_exist(page):
    assert [p for p in PATH.findall(page.read_text()) if not (ROOT / p).exists() and "*" not in p] == []


def test_the_checks_can_fail(tmp_path):
    page = tmp_path / "x.md"
    page.write_text("# Title\n[a](missing.md) [b](#title) [c](#nope) `pear_verl/nowhere.py`\n")
    targets = LINK.findall(prose(page))
    assert targets == ["missing.md", "#title", "#nope"] and "title" in anchors(page)
    assert PATH.findall(page.read_text()) == ["pear_verl/nowhere.py"]


def module_prefix_exists(dotted: str) -> bool:
    """`pear_verl.a.b.name`: after the longest prefix that is a module or package comes a name it defines."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        source = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        if source.exists():
            rest = parts[cut:]
            return not rest or re.search(rf"^\s*(def|class)\s+{rest[0]}\b|^\s*{rest[0]}\s*[:=]", source.read_text(), flags=re.M) is not None
    return False


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_modules_exist(page):
    names = set(re.findall(r"\b((?:pear_verl|reward_fns)(?:\.\w+)+)", page.read_text())) - {"pear_verl.games"}  # an entry-point group
    assert sorted(n for n in names if not module_prefix_exists(n.rstrip("."))) == []


def test_the_module_check_can_fail():
    assert module_prefix_exists("pear_verl.behaviour.score") and module_prefix_exists("pear_verl.training.weights.pear_log_weights")
    assert not module_prefix_exists("pear_verl.scoring") and not module_prefix_exists("pear_verl.training.weights.nothing_here")


def test_nothing_points_outside_the_repository():
    """The project's own notes live outside the repository; what users need is in docs/."""
    files = [p for folder in ("pear_verl", "reward_fns", "tests", "scripts", "bench", "recipes", "docs") for p in (ROOT / folder).rglob("*")
             if p.suffix in (".py", ".md", ".sh", ".yaml")] + [ROOT / "README.md"]
    outside = "../" + "shared"  # spelled apart, or this file would name it
    assert [str(p.relative_to(ROOT)) for p in files if outside in p.read_text(errors="replace")] == []
