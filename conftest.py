"""Settings for every test of the repository (core and plugins)."""

import os

from hypothesis import HealthCheck, settings

# No test may depend on speed: no deadlines (a loaded machine is slow, not wrong), no
# health check that times data generation; under CI the examples are derandomized so a
# run is repeatable.
settings.register_profile(
    "backorder",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("backorder")
