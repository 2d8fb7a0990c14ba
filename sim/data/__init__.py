"""Data in and out: atomic file writes, transaction exports, repeat-purchase models, validation."""
