"""The gnt-* programs: one module per program, each a ``COMMANDS`` table
run by ``ganeti.cli.generic_main``."""
