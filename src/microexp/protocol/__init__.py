"""microexp.protocol."""
