"""Temporary reservations of unique resources for running jobs.

A job that will add a MAC, an IP or a UUID to the configuration must make
sure no concurrent job picks the same value before either of them commits.
Reservations are owned by an *execution context id* (``ec_id``, the job)
and dropped in one call when the job ends, whatever the outcome.
"""

import threading

from ganeti import errors

_MAX_ATTEMPTS = 64


class TemporaryReservationManager:
    """Set of reserved values, each owned by one ``ec_id``."""

    def __init__(self):
        self._lock = threading.Lock()
        self._owned = {}  # ec_id -> set of resources

    def reserved(self, resource):
        """True if anybody holds ``resource``."""
        with self._lock:
            return any(resource in res for res in self._owned.values())

    def reserve(self, ec_id, resource):
        """Reserve ``resource`` for ``ec_id``; a second reservation of the
        same value (by anyone) is an error."""
        if ec_id is None:
            raise errors.ProgrammerError("A reservation needs an ec_id")
        with self._lock:
            if any(resource in res for res in self._owned.values()):
                raise errors.ReservationError(
                    "Duplicate reservation for resource '%s'" % (resource,))
            self._owned.setdefault(ec_id, set()).add(resource)

    def release(self, ec_id, resource):
        """Give back one resource (no error if it was not held)."""
        with self._lock:
            owned = self._owned.get(ec_id)
            if owned is not None:
                owned.discard(resource)
                if not owned:
                    del self._owned[ec_id]

    def release_all(self, ec_id):
        """Drop everything ``ec_id`` holds (the job has ended)."""
        with self._lock:
            self._owned.pop(ec_id, None)

    def get_reserved(self):
        """Every reserved value, whoever owns it."""
        with self._lock:
            result = set()
            for owned in self._owned.values():
                result.update(owned)
            return result

    def get_ec_reserved(self, ec_id):
        with self._lock:
            return set(self._owned.get(ec_id, ()))

    def generate(self, existing, generate_one_fn, ec_id):
        """Make a new value with ``generate_one_fn`` that is neither in
        ``existing`` (any container) nor reserved, and reserve it for
        ``ec_id`` (when given).
        """
        candidate = None
        for _ in range(_MAX_ATTEMPTS):
            candidate = generate_one_fn()
            if candidate in existing:
                continue
            with self._lock:
                if any(candidate in res for res in self._owned.values()):
                    continue
                if ec_id is not None:
                    self._owned.setdefault(ec_id, set()).add(candidate)
            return candidate
        raise errors.ReservationError("Unable to generate new resource"
                                      " (last tried: %s)" % (candidate,))
