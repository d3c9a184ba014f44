"""Hyperparameter sweeps with nested leave-one-subject-out on Ray Tune (``microexp sweep``)."""
