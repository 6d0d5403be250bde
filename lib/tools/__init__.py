"""Helper programs run on nodes (``python3 -m ganeti.tools.<name>``)."""
