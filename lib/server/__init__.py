"""Daemons: each module has a main() called by its launcher in daemons/."""
