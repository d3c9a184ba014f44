"""microexp.faces."""
