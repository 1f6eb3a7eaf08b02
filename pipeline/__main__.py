"""python -m pipeline SCENE.yaml [options]: the same command as render.py and dreamzoom."""

import sys

from .cli import main

sys.exit(main())
