"""The package's shape: no import circles, nothing heavy or global at import, a fast --help."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "complaintkit"
HEAVY = ("torch", "sentence_transformers", "transformers", "skops", "matplotlib", "pyspark", "sklearn", "scipy")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(name: str) -> bool:
    return (SRC / name.replace(".", "/") / "__init__.py").exists()


def _exists(name: str) -> bool:
    path = SRC / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _lazy_target(package: str, name: str) -> str | None:
    """The module a lazy package ``__init__`` takes ``name`` from, if it is one."""
    exports = getattr(getattr(importlib.import_module(package), "__getattr__", None), "exports", {})
    if name not in exports:
        return None
    return importlib.util.resolve_name(exports[name], package)


def _imports(path: Path) -> set[str]:
    """The complaintkit modules ``path`` imports (at any level, except under ``if TYPE_CHECKING:``)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checking = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                and getattr(node.test, "id", None) == "TYPE_CHECKING" for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in checking:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("complaintkit")}
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level \
                else node.module or ""
            if not base.startswith("complaintkit"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if _exists(candidate):
                    found.add(candidate)
                elif _is_package(base) and (target := _lazy_target(base, alias.name)):
                    found.add(target)
                else:
                    found.add(base)
    return found - {module}


def import_graph() -> dict[str, set[str]]:
    return {_module_name(path): {m for m in _imports(path) if _exists(m)} for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_internal_import_names_a_module() -> None:
    """Also the imports inside functions, which only run when called."""
    broken = {_module_name(path): sorted(m for m in _imports(path) if not _exists(m))
              for path in sorted(PACKAGE.rglob("*.py"))}
    assert not {k: v for k, v in broken.items() if v}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a list of modules, or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for child in sorted(graph.get(node, ())):
            if state.get(child) == 1:
                return stack[stack.index(child):] + [child]
            if child not in state and (cycle := visit(child)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_sees_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circles() -> None:
    graph = import_graph()
    assert "complaintkit.engines.spark" in graph["complaintkit.scoring.run"] | {"complaintkit.engines.spark"}
    assert "complaintkit.scoring.job" in graph["complaintkit.engines.spark"]  # the graph sees real edges
    assert find_cycle(graph) is None, f"import circle: {' -> '.join(find_cycle(graph))}"


def test_lower_floors_do_not_import_higher_ones() -> None:
    graph = import_graph()
    assert not any(m.startswith("complaintkit.report") for m in graph["complaintkit.training"])
    assert not any(m.startswith("complaintkit.scoring") for m in graph["complaintkit.scoring.parts"]
                   if m != "complaintkit.scoring.parts")
    for engine in ("complaintkit.engines.local", "complaintkit.engines.spark"):
        assert "complaintkit.scoring.run" not in graph[engine]


def _run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_loads_no_heavy_library_and_changes_no_setting() -> None:
    out = _run_python(
        "import os, sys; import complaintkit; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})); "
        "print(os.environ.get('HF_HUB_OFFLINE'), os.environ.get('TRANSFORMERS_OFFLINE')); "
        "print(callable(complaintkit.load), complaintkit.score_file.__module__, "
        "complaintkit.scoring.ChunkJob.__module__)"
    )
    heavy, env, names = out.splitlines()
    assert heavy == "[]"
    assert env == "None None"
    assert names == "True complaintkit.scoring.run complaintkit.scoring.job"


def test_help_imports_no_heavy_library() -> None:
    out = _run_python(
        "import sys; from click.testing import CliRunner; from complaintkit.cli import main; "
        "result = CliRunner().invoke(main, ['--help']); assert result.exit_code == 0, result.output; "
        "assert 'score' in result.output; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'sentence_transformers', 'transformers', "
        "'skops', 'matplotlib', 'pyspark', 'numpy', 'pandas', 'tqdm', 'asyncio'}))"
    )
    assert out.strip() == "[]"  # click alone: help shows in well under a second on an idle machine


def test_group_help_imports_no_command_module() -> None:
    out = _run_python(
        "import sys; from click.testing import CliRunner; from complaintkit.cli import main; "
        "result = CliRunner().invoke(main, ['--help']); assert result.exit_code == 0, result.output; "
        "print(sorted(m for m in sys.modules if m.startswith('complaintkit.cli.') "
        "and m != 'complaintkit.cli._options'))"
    )
    assert out.strip() == "[]"  # commands are loaded lazily, from complaintkit.cli.COMMANDS


def test_the_lazy_summaries_are_the_commands_own() -> None:
    import click

    from complaintkit.cli import COMMANDS, main

    for name, (_, _, summary) in COMMANDS.items():
        command = main.get_command(None, name)
        assert command.name == name
        assert click.Command(name, help=summary).get_short_help_str(200) == command.get_short_help_str(200), name


@pytest.mark.parametrize("command", ["train", "evaluate", "score", "report", "embed", "suggest", "serve", "predict"])
def test_command_help_imports_no_heavy_library(command: str) -> None:
    out = _run_python(
        "import sys; from click.testing import CliRunner; from complaintkit.cli import main; "
        f"result = CliRunner().invoke(main, [{command!r}, '--help']); assert result.exit_code == 0, result.output; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'numpy', 'pandas', 'sklearn', 'scipy', "
        "'pyarrow', 'matplotlib', 'fastapi', 'mlflow'}))"
    )
    assert out.strip() == "[]"


def test_charts_leave_matplotlib_settings_alone() -> None:
    out = _run_python(
        "import matplotlib; backend = matplotlib.get_backend(); fonttype = matplotlib.rcParams['svg.fonttype']; "
        "from complaintkit.report.charts import bar_chart; svg = bar_chart(['a', 'b'], [1.0, 2.0], 'n'); "
        "print(svg.startswith('<svg'), matplotlib.get_backend() == backend, "
        "matplotlib.rcParams['svg.fonttype'] == fonttype, '<text' in svg)"
    )
    assert out.strip() == "True True True True"
