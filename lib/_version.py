"""The release this tree implements; kept apart so configure need not run first."""

RELEASE_VERSION = "3.0.2"
VERSION_TUPLE = (3, 0, 2)
