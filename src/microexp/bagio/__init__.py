"""microexp.bagio."""
