"""The ganeti package: a Python 3 implementation of the Ganeti cluster manager."""
