"""microexp.train."""
