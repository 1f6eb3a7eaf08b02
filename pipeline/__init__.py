"""dreamzoom: DeepDream zoom videos from YAML scene files."""
