"""Regenerate the generated docs: docs/parameters.md (from the typed config, sim/config/) and
docs/mechanisms.md (from the mechanism declarations, sim/core/). Tests fail when either is
stale."""

from pathlib import Path

from sim.config import parameters_markdown
from sim.core.describe import mechanisms_markdown

docs = Path(__file__).resolve().parent.parent / "docs"
for name, text in (("parameters.md", parameters_markdown()),
                   ("mechanisms.md", mechanisms_markdown())):
    (docs / name).write_text(text)
    print(f"wrote {docs / name}")
