"""The scene file format: typed models, YAML loading with line numbers, validation. No torch."""

from .checks import output_issues
from .errors import SceneError
from .load import load_scene
from .schema import Scene

__all__ = ["Scene", "SceneError", "load_scene", "output_issues"]
