"""One module per mechanism; the order they run in is written in sim.core.loop."""
