"""python -m pipeline.bench: kept as a door to the benchmark, which lives in tools/bench.py."""

from .tools.bench import main

if __name__ == "__main__":
    raise SystemExit(main())
