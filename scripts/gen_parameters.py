"""Regenerate docs/parameters.md from the typed config (sim/config/)."""

from pathlib import Path

from sim.config import parameters_markdown

out = Path(__file__).resolve().parent.parent / "docs" / "parameters.md"
out.write_text(parameters_markdown())
print(f"wrote {out}")
