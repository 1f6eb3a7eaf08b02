"""dreamzoom: DeepDream zoom videos from YAML scene files.

For programs and notebooks: `Scene.from_data(dict, base_dir=...)` or `load_scene(path)`,
then `render(scene, out=..., device=..., progress=...)` (see api.py). Importing this
package does not import torch, and neither importing nor rendering changes anything
process-wide: `configure_runtime()` applies the speed settings when asked.
"""

from .api import render
from .dream.runtime import configure_runtime
from .scene import Scene, SceneError, load_scene

__all__ = ["Scene", "SceneError", "configure_runtime", "load_scene", "render"]
