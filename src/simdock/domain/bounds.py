"""How large a job may be, in one place for the domain's modules to share."""

#: The most variants a sweep may have, and the most replicates one point may be given.
MAX_SWEEP_VARIANTS = 100_000
