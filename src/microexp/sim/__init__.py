"""microexp.sim."""
