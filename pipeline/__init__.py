"""dreamzoom: DeepDream zoom videos from YAML scene files.

For programs and notebooks: `Scene.from_data(dict, base_dir=...)` or `load_scene(path)`,
then `render(scene, out=..., device=..., progress=...)` (see api.py). Importing this
package does not import torch; a render does.
"""

from .api import render
from .scene import Scene, SceneError, load_scene

__all__ = ["Scene", "SceneError", "load_scene", "render"]
