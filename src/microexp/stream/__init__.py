"""microexp.stream."""
