"""Turning results into text for people and machines (the CLI prints what these return)."""
