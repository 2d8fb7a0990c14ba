"""The docs say what the code does: README's test command is CI's, parameters.md is current."""

from pathlib import Path

from sim.config import parameters_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = ".venv/bin/python -m pytest -q"
    assert command in readme, "README must show the test command"
    assert command in ci.splitlines()[-1], ".ci/run must end by running README's test command"
    assert "bash scripts/setup.sh" in readme and "bash scripts/setup.sh" in ci


def test_parameter_reference_is_current():
    current = (ROOT / "docs" / "parameters.md").read_text()
    assert current == parameters_markdown(), (
        "docs/parameters.md is stale: run `python scripts/gen_docs.py`")
