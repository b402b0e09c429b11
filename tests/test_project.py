"""Project rules: install files agree, notebooks are committed clean, the README gives the two commands."""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {s for s in pip_section if not s.startswith("-e")}
    assert {requirement_name(s): s for s in listed} == {requirement_name(s): s for s in wanted}, \
        "environment.yml and pyproject.toml must list the same dependencies with the same ranges"
    assert "-e .[test]" in pip_section, "environment.yml must hand the package itself to pip"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make report" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^report:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", []), "first code cell must be tagged `parameters`"
    for cell in code:
        # output policy: no outputs and no execution counts in git (no customer data, nbval-safe)
        assert cell["outputs"] == [] and cell["execution_count"] is None, "clear outputs before committing"
        source = "".join(cell["source"])
        assert not re.search(r"^\s*(def|class)\s", source, re.M), "logic belongs in cs_analytics/"


def test_notebooks_are_numbered_and_found_by_the_runner():
    from cs_analytics.outputs.report import notebook_paths

    assert [p.name for p in notebook_paths()] == [p.name for p in NOTEBOOKS if re.match(r"\d\d_", p.name)]
    assert NOTEBOOKS and NOTEBOOKS[0].name == "01_data_overview.ipynb"


def test_no_customer_exports_tracked():
    import subprocess

    tracked = subprocess.run(["git", "ls-files", "data/raw"], cwd=ROOT, capture_output=True, text=True).stdout
    assert set(tracked.split()) <= {"data/raw/.gitkeep", "data/raw/README.md"}


def test_import_is_quiet(capfd):
    import importlib
    import sys

    loaded = {name: module for name, module in sys.modules.items() if name.startswith("cs_analytics")}
    for name in loaded:
        del sys.modules[name]
    try:
        importlib.import_module("cs_analytics")
        out, err = capfd.readouterr()
    finally:        # later tests keep the modules (and classes) they imported: a lazy import must not get fresh ones
        for name in [m for m in sys.modules if m.startswith("cs_analytics")]:
            del sys.modules[name]
        sys.modules.update(loaded)
    assert out == "" and err == ""
