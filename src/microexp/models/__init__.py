"""microexp.models."""
