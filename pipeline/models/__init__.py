"""The model zoo: entries as data (zoo.py, no torch), builders and weights; fast/ holds the raced faster layers.
Importing this package imports no torch, so scene validation can read the zoo."""
