"""``microexp demo``: the whole stack on simulated subjects, from bags to an HTML report."""
