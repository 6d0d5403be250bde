"""The block device interface every storage driver implements.

A device is identified by its ``unique_id`` (the disk's ``logical_id``:
``[driver, path]`` for files, ``[vg, lv]`` for LVM, ...); its ``dev_path``
(where the data is reached on this node) is known once it is attached.
Life cycle, as in Ganeti::

    (absent) --create--> existing --assemble--> active --open--> in use
    in use --close--> active --shutdown--> existing --remove--> (absent)

Constructing a device object attaches to an existing device if there is
one (``attached``); it never creates anything. Failures raise
``errors.BlockDeviceError`` (use ``throw_error``).

Drivers are registered by disk template in ``ganeti.storage``.
"""

from ganeti import errors

# Local disk status (``ldisk_status`` of a BlockDevStatus), Ganeti's values
LDS_OKAY = 1
LDS_UNKNOWN = 2
LDS_FAULTY = 3
LDS_SYNC = 4


def throw_error(msg, *args):
    """Raise BlockDeviceError(msg % args)."""
    if args:
        msg = msg % args
    raise errors.BlockDeviceError(msg)


def block_dev_status(dev_path, major=None, minor=None, sync_percent=None,
                     estimated_time=None, is_degraded=False,
                     ldisk_status=LDS_OKAY):
    """The dict form of Ganeti's BlockDevStatus (``blockdev_find``)."""
    return {"dev_path": dev_path, "major": major, "minor": minor,
            "sync_percent": sync_percent, "estimated_time": estimated_time,
            "is_degraded": is_degraded, "ldisk_status": ldisk_status}


class BlockDev:
    """Base class of block devices (see the module docstring).

    ``children``: child BlockDev objects (DRBD's data and metadata LVs);
    ``size``: MiB as configured; ``params``: the disk template's
    parameters; ``dyn_params``: node-specific values computed by the
    master (DRBD addresses and minors).
    """

    def __init__(self, unique_id, children, size, params, dyn_params):
        self.unique_id = unique_id
        self.children = children or []
        self.size = size
        self.params = params or {}
        self.dyn_params = dyn_params or {}
        self.dev_path = None
        self.major = None
        self.minor = None
        self.attached = False

    def __repr__(self):
        return "<%s: unique_id=%r, dev_path=%r, attached=%s>" % (
            type(self).__name__, self.unique_id, self.dev_path,
            self.attached)

    @classmethod
    def create(cls, unique_id, children, size, spindles, params, excl_stor,
               dyn_params):
        """Create the device; returns the (attached) device object."""
        raise NotImplementedError

    def attach(self):
        """Find the existing device; sets and returns ``attached``."""
        raise NotImplementedError

    def assemble(self):
        """Activate the device (idempotent)."""

    def shutdown(self):
        """Deactivate the device (the data stays)."""

    def open(self, force=False, exclusive=True):
        """Make the device ready for I/O by the instance."""

    def close(self):
        """The instance no longer does I/O on the device."""

    def remove(self):
        """Destroy the device and its data."""
        raise NotImplementedError

    def rename(self, new_id):
        throw_error("Rename is not supported for %s devices",
                    type(self).__name__)

    def grow(self, amount, dryrun, backingstore, excl_stor):
        """Grow by ``amount`` MiB (only the backing store when asked)."""
        raise NotImplementedError

    def set_info(self, text):
        """Attach metadata (e.g. the owning instance) where supported."""

    def snapshot(self, snap_name, snap_size):
        throw_error("Snapshots are not supported for %s devices",
                    type(self).__name__)

    def get_actual_size(self):
        """The device's real size in bytes."""
        raise NotImplementedError

    def get_actual_spindles(self):
        """Spindles used (exclusive storage only), else None."""
        return None

    def get_actual_dimensions(self):
        """(size in bytes, spindles or None)."""
        return (self.get_actual_size(), self.get_actual_spindles())

    def get_sync_status(self):
        """A block_dev_status() dict; non-mirrored devices are in sync."""
        return block_dev_status(self.dev_path, self.major, self.minor)

    def combined_sync_status(self):
        """Sync status of the device and its children, merged."""
        status = self.get_sync_status()
        for child in self.children:
            cstatus = child.combined_sync_status()
            status["is_degraded"] = status["is_degraded"] or \
                cstatus["is_degraded"]
            status["ldisk_status"] = max(status["ldisk_status"],
                                         cstatus["ldisk_status"])
            if cstatus["sync_percent"] is not None:
                if status["sync_percent"] is None:
                    status["sync_percent"] = cstatus["sync_percent"]
                else:
                    status["sync_percent"] = min(status["sync_percent"],
                                                 cstatus["sync_percent"])
        return status

    def get_userspace_access_uri(self, hypervisor):
        """A URI the hypervisor can open itself (rbd:, gluster:), or
        BlockDeviceError if the device has no userspace access."""
        throw_error("Userspace access is not supported by %s devices",
                    type(self).__name__)
