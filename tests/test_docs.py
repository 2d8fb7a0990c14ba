"""The docs say what the code does: README's test command is CI's, parameters.md is current."""

from pathlib import Path

from sim.config import parameters_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in readme.splitlines() if line.startswith(".venv/bin/python -m pytest")]
    assert len(commands) == 1, "README must show one test command"
    assert ci.strip().splitlines()[-1] == commands[0], \
        ".ci/run must end by running README's test command, as written"
    setup = [line for line in readme.splitlines() if line.startswith("bash scripts/setup.sh")]
    assert len(setup) == 1 and setup[0] in ci.splitlines(), \
        ".ci/run must run README's setup command, as written"


def test_parameter_reference_is_current():
    current = (ROOT / "docs" / "parameters.md").read_text()
    assert current == parameters_markdown(), (
        "docs/parameters.md is stale: run `python scripts/gen_docs.py`")
