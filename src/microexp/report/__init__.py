"""Reports: HTML pages and plots built from the outputs on disk."""
