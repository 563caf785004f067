"""The package's layers are a checked fact: import-linter's contract in pyproject.toml holds, and an
import that climbs a layer breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


def test_the_layers_contract_holds() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_that_climbs_a_layer_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(REPO / "media_pipeline", tmp_path / "media_pipeline",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    storage = tmp_path / "media_pipeline" / "storage" / "base.py"
    storage.write_text(storage.read_text() + "\nfrom media_pipeline.publishing import manifest  # climbs\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "media_pipeline.storage.base -> media_pipeline.publishing.manifest" in result.stdout


def test_no_module_of_the_library_is_over_450_lines() -> None:
    """A module that grows past this is doing more than one job: split it along them."""
    long = {str(p.relative_to(REPO)): n for p in (REPO / "media_pipeline").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert long == {}
