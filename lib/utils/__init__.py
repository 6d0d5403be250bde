"""Small helpers shared by every layer (files, text, processes)."""
