"""Model assembly and solving: problem preparation, asset-family builders, HiGHS solving, results."""
