"""microexp.dataset."""
