"""The import graph keeps the layers honest (docs/architecture.md, "Layers").

Every module's imports are read with ``ast`` (nothing is imported), each module is mapped to
its layer, and every import between layers must be one the table below allows.  The engine
boundary is checked too: nothing engine-neutral in the controller (the account, the port, the
facts, the controller itself) imports an engine adapter, and no module imports a bare
top-level name (``ivr``, ``web``, ...) instead of the ``clinicall`` namespace.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "clinicall"

#: Layer → the layers it may import (besides itself).  The same table is in
#: docs/architecture.md; change both together.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "commands": frozenset({"controller", "agi_scripts", "ivr", "routing", "recordings",
                           "reports", "web", "sandbox", "db", "settings", "calltypes",
                           "privacy", "logbudget"}),
    "controller": frozenset({"agi_scripts", "ivr", "routing", "db", "settings", "calltypes",
                             "privacy", "logbudget"}),
    "agi_scripts": frozenset({"ivr", "settings", "calltypes", "privacy", "logbudget"}),
    "ivr": frozenset({"routing", "settings", "calltypes"}),
    "routing": frozenset({"settings", "calltypes"}),
    "web": frozenset({"reports", "recordings", "db", "settings", "calltypes", "privacy",
                      "logbudget"}),
    "reports": frozenset({"db", "settings", "calltypes"}),
    "recordings": frozenset({"db", "settings"}),
    "sandbox": frozenset({"settings"}),
    "db": frozenset({"settings"}),
    "settings": frozenset(),
    "calltypes": frozenset(),
    "privacy": frozenset(),
    "logbudget": frozenset(),
}  # fmt: skip
#: Modules directly in ``clinicall/`` that are commands and wiring (everything else there is
#: a leaf of its own name).
COMMANDS = {"cli", "cli_args", "cli_store", "cli_recordings", "cli_callbacks", "cli_appointments",
            "crashlog", "app",
            "demo", "serve", "asterisk_config", "freeswitch_config", "prompt_build", "simclinic",
            "__main__", "__init__", "migrations", "generated_files", "doctor",
            "sdnotify", "heap", "event_loop"}  # fmt: skip
ENGINE_ADAPTERS = ("clinicall.controller.asterisk", "clinicall.controller.freeswitch")
TOP_LEVEL_FOLDERS = {"ivr", "routing", "agi_scripts", "recordings", "controller", "reports",
                     "web", "sandbox"}  # fmt: skip


def layer_of(module: str) -> str:
    part = module.split(".")[1] if module.count(".") else "__init__"
    return "commands" if part in COMMANDS else part


def package_files() -> list[Path]:
    """Every module of the installed package, the linked top-level folders included."""
    found = []
    for folder, _, names in os.walk(PACKAGE, followlinks=True):
        found += [Path(folder) / name for name in names if name.endswith(".py")]
    return sorted(found)


def modules() -> Iterator[tuple[str, Path]]:
    for path in package_files():
        relative = path.relative_to(PACKAGE).with_suffix("")
        parts = ["clinicall", *relative.parts]
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Absolute names imported by ``module`` (relative imports resolved), with line numbers."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield name, node.lineno
            for alias in node.names:  # ``from clinicall import x`` imports clinicall.x
                if not node.level and name == "clinicall":
                    yield f"clinicall.{alias.name}", node.lineno


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_layers_import_only_what_the_table_allows() -> None:
    wrong = []
    for module, path in modules():
        mine = layer_of(module)
        for name, line in imports(module, path):
            if not name.startswith("clinicall.") or name == "clinicall":
                continue
            theirs = layer_of(name)
            if theirs != mine and theirs not in MAY_IMPORT[mine]:
                wrong.append(f"{where(path, line)}: {mine} imports {name} ({theirs})")
    assert wrong == []


def test_nothing_engine_neutral_imports_an_engine_adapter() -> None:
    wrong = []
    for module, path in modules():
        if layer_of(module) != "controller" or module.startswith(ENGINE_ADAPTERS):
            continue
        for name, line in imports(module, path):
            if name.startswith(ENGINE_ADAPTERS):
                wrong.append(f"{where(path, line)}: {module} imports {name}")
    assert wrong == []


def test_an_engine_adapter_imports_no_other_adapter() -> None:
    """Engine specifics stay in their own package: FreeSWITCH's never borrows Asterisk's."""
    wrong = []
    for module, path in modules():
        own = next((a for a in ENGINE_ADAPTERS if module.startswith(a)), None)
        if own is None:
            continue
        for name, line in imports(module, path):
            if name.startswith(ENGINE_ADAPTERS) and not name.startswith(own):
                wrong.append(f"{where(path, line)}: {module} imports {name}")
    assert wrong == []


def test_only_the_clinicall_namespace_is_imported() -> None:
    files = [*package_files(), *(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").glob("*.py")]
    wrong = []
    for path in files:
        for name, line in imports("x.y", path):
            if name.split(".")[0] in TOP_LEVEL_FOLDERS:
                wrong.append(f"{where(path, line)}: imports {name}; use clinicall.{name}")
    assert wrong == []


def test_every_layer_of_the_package_is_in_the_table() -> None:
    assert {layer_of(module) for module, _ in modules()} == set(MAY_IMPORT)
