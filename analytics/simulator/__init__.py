"""The synthetic Loopin platform with ground truth (docs/simulator.md).

`python manage.py simulate` is its face; `simulation_run` the service it calls.
"""

from analytics.simulator.config import SimulationArgumentError, SimulationConfig, config_build
from analytics.simulator.runner import SimulationReport, simulation_run

__all__ = [
    "SimulationArgumentError",
    "SimulationConfig",
    "SimulationReport",
    "config_build",
    "simulation_run",
]
