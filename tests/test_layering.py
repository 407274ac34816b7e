"""The package's layers: imports run from the top of the list down, never up, and the
simulator is something only the CLI's demo commands use (issue 21).

A unit is a top-level module or subpackage of ``pingan_transforms``. An import inside a
function counts as much as one at the top of a file: both are a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import PROJECT

PACKAGE = PROJECT / "pingan_transforms"

# top to bottom; a unit may import its own modules and any unit in a lower layer
LAYERS: list[set[str]] = [
    {"cli"},
    {"tasks", "airflow_local", "alerts", "assets", "compare", "bi", "console"},
    {"orchestrate", "hitl"},
    {"dbt_airflow"},
    {"publish", "quality", "scheme", "transform", "extract", "load", "sources"},
    {"connections", "cutoff"},
    {"contracts", "months", "warehouse"},
    {"settings", "fileio", "textwidth", "chromium"},
]
# within the domain layer, only in the direction of the data: a source's entry names its
# extract spec, the extract writes through load
SIDEWAYS = {
    ("orchestrate", "hitl"),
    ("extract", "load"),
    ("extract", "sources"),
    ("sources", "extract"),
    ("load", "sources"),
}
SIMULATOR = "pingan_simulate"  # a package of its own, beside pingan_transforms
SIMULATOR_USERS = {"cli"}


def _unit(path: Path, package: Path) -> str:
    return path.relative_to(package).with_suffix("").parts[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, unit) of every pingan_transforms unit the file imports, and of the simulator."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == SIMULATOR:
                found.append((node.lineno, SIMULATOR))
            elif parts[0] == "pingan_transforms" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def _layer(unit: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if unit in layer), None)


def violations(package: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "__init__.py" and path.parent == package:
            continue
        unit = _unit(path, package)
        where = path.relative_to(package.parent)
        for line, target in _imports(path):
            if target == unit:
                continue
            if target == SIMULATOR:
                if unit not in SIMULATOR_USERS:
                    problems.append(f"{where}:{line}: production code imports the simulator")
                continue
            mine, theirs = _layer(unit), _layer(target)
            if mine is None or theirs is None:
                missing = unit if mine is None else target
                problems.append(f"{where}:{line}: {missing} is in no layer here")
            elif theirs < mine or (theirs == mine and (unit, target) not in SIDEWAYS):
                problems.append(f"{where}:{line}: {unit} imports {target}, above or beside it")
    return problems


def test_imports_run_down_the_layers_and_only_the_cli_uses_the_simulator() -> None:
    problems = violations()
    assert not problems, "\n".join(problems)


def test_the_check_finds_an_upward_import_and_a_use_of_the_simulator(tmp_path: Path) -> None:
    package = tmp_path / "pingan_transforms"
    (package / "load").mkdir(parents=True)
    (package / "load" / "bad.py").write_text(
        "from pingan_transforms.publish import mail\n"
        "def f():\n    from pingan_simulate.regions import generate_master\n"
    )
    (package / "publish").mkdir()
    (package / "publish" / "ok.py").write_text("import pingan_transforms.warehouse\n")
    assert violations(package) == [
        "pingan_transforms/load/bad.py:1: load imports publish, above or beside it",
        "pingan_transforms/load/bad.py:3: production code imports the simulator",
    ]


INDEX_READER = Path("pingan_transforms/publish/index_reader.py")
_QUERIES_INDEX = re.compile(r"\b(from|join)\s+marts\.region_index_monthly\b", re.IGNORECASE)


def index_queries(package: Path = PACKAGE) -> list[str]:
    """Modules that query ``marts.region_index_monthly`` themselves, not through
    :mod:`pingan_transforms.publish.index_reader`."""
    found = []
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package.parent)
        if where == INDEX_READER:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _QUERIES_INDEX.search(line):
                found.append(f"{where}:{number}")
    return found


def test_one_module_reads_the_published_index() -> None:
    # ranking, exports, bulletin, publications and the DAG summary share one reader
    assert (PACKAGE.parent / INDEX_READER).exists()
    assert index_queries() == []


def test_the_check_finds_a_second_reader_of_the_index(tmp_path: Path) -> None:
    package = tmp_path / "pingan_transforms"
    (package / "publish").mkdir(parents=True)
    reader = 'Q = "select * from marts.region_index_monthly"\n'
    (package / "publish" / "index_reader.py").write_text(reader)
    (package / "publish" / "other.py").write_text(
        'MESSAGE = "no row in marts.region_index_monthly"\n'
        'Q = """select score\n    FROM marts.region_index_monthly where true"""\n'
    )
    assert index_queries(package) == ["pingan_transforms/publish/other.py:3"]
