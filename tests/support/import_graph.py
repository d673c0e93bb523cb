"""The project's import graph, read from the source (ast), and its layering rule.

docs/architecture.md draws the layers; `tests/test_import_layers.py` holds the code to them.
Dependencies point one way, from the top of LAYERS down: a module may import modules of its own
layer or of a layer below it, never above. `tests/` may import anything and is not checked.

Run `python -m tests.support.import_graph [ROOT]` for the figures the closing notes quote.
"""

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

# Top to bottom. A module belongs to the layer with the longest prefix of its dotted name:
# `tra.settings.environment` (environment parsing, which settings and the rate limiter share)
# is platform, the rest of `tra.settings` is the shell.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("development tools", ("devtools",)),
    ("project shell", ("manage", "tra.settings", "tra.urls", "tra.asgi", "tra.api")),
    ("chat", ("chat",)),
    ("assessments", ("assessments",)),
    ("documents", ("documents",)),
    ("llm", ("llm",)),
    ("platform", ("tra", "tra.settings.environment")),
)
APPS = ("devtools", "chat", "assessments", "documents", "llm", "tra")
WATCHED = (*APPS, "tests")  # imports of these are read; tests are never a source
SKIPPED_DIRS = {"tests", "migrations", ".venv", "node_modules", ".git", ".local"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted
    path: Path
    line: int
    nested: bool  # inside a function or method
    commented: bool  # a comment on the line or the line above says why


def layer_of(module: str) -> int | None:
    matches = [
        (len(prefix), position)
        for position, (_name, prefixes) in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    return max(matches)[1] if matches else None


def app_of(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in APPS else None


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(root: Path, path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    module = _module_name(root, path)
    tree = ast.parse(source, filename=str(path))
    found: list[Import] = []

    def commented(line: int) -> bool:
        here = lines[line - 1]
        above = lines[line - 2].strip() if line >= 2 else ""
        return "#" in here or above.startswith("#")

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, path, child.lineno, nested, commented(child.lineno)))
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, path.name == "__init__.py", child)
                names = [f"{target}.{alias.name}" for alias in child.names] if target else []
                # `from pkg import module` names a module; `from pkg.module import name` names a value.
                found.append(Import(module, target, path, child.lineno, nested, commented(child.lineno)))
                found.extend(
                    Import(module, name, path, child.lineno, nested, commented(child.lineno))
                    for name in names
                    if (root / Path(*name.split("."))).with_suffix(".py").exists()
                    or (root / Path(*name.split("."))).is_dir()
                )
            visit(child, inner)

    visit(tree, False)
    return [item for item in found if item.target.split(".")[0] in WATCHED]


def source_files(root: Path) -> list[Path]:
    files = [root / "manage.py"] if (root / "manage.py").exists() else []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if not SKIPPED_DIRS.intersection(path.relative_to(root).parts):
                files.append(path)
    return files


def project_imports(root: Path) -> list[Import]:
    return [item for path in source_files(root) for item in imports_of(root, path)]


def violations(root: Path) -> list[str]:
    """Every import that breaks the layering, or crosses apps inside a function without a why."""
    problems = []
    seen = set()  # `from app import module` yields the package and the module: one report a line
    for item in project_imports(root):
        if (item.path, item.line) in seen:
            continue
        where = f"{item.path.relative_to(root)}:{item.line} {item.module} -> {item.target}"
        source_layer, target_layer = layer_of(item.module), layer_of(item.target)
        if item.target.split(".")[0] in ("tests", "devtools") and app_of(item.module) != "devtools":
            problems.append(f"{where}: runtime code imports development or test code")
        elif source_layer is not None and target_layer is not None and target_layer < source_layer:
            problems.append(f"{where}: {LAYERS[source_layer][0]} may not import {LAYERS[target_layer][0]}")
        elif item.nested and app_of(item.module) != app_of(item.target) and not item.commented:
            problems.append(f"{where}: a function-level import across apps needs a comment saying why")
        else:
            continue
        seen.add((item.path, item.line))
    return problems


def figures(root: Path) -> dict[str, int]:
    """Import statements (a `from x import a, b` line counts once) between the project's packages."""
    imports = project_imports(root)
    lines: dict[str, set] = {}
    for item in imports:
        source, target = app_of(item.module), item.target.split(".")[0]
        if source != target:
            lines.setdefault(f"{source} -> {target}", set()).add((item.path, item.line))
    counts = {pair: len(found) for pair, found in sorted(lines.items())}
    counts["function-level imports of project modules"] = len({(i.path, i.line) for i in imports if i.nested})
    counts["layer violations"] = len(violations(root))
    return counts


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    for name, value in figures(root).items():
        print(f"{name}: {value}")
    for problem in violations(root):
        print(problem)
