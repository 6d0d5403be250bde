"""Block device drivers, registered by disk template (``dev_type``).

``get_device_class(dev_type)`` gives the driver class; ``find_device``,
``assemble`` and ``create`` act on an ``objects.Disk`` (children are
handled by the caller, which passes their BlockDev objects). Drivers that
only build commands and parse outputs (``lvm``, ``drbd``: the tools do not
run on these machines) are not registered as devices.

Adding a storage type: one module with a ``base.BlockDev`` subclass and
one row in ``_DRIVERS``.
"""

import importlib

from ganeti import constants
from ganeti import errors

_DRIVERS = {
    constants.DT_FILE: ("ganeti.storage.filestorage", "FileStorage"),
    constants.DT_SHARED_FILE: ("ganeti.storage.filestorage", "FileStorage"),
}


def supported_templates():
    return sorted(_DRIVERS)


def get_device_class(dev_type):
    entry = _DRIVERS.get(dev_type)
    if entry is None:
        raise errors.BlockDeviceError("Disk template '%s' is not supported"
                                      " on this node" % dev_type)
    return getattr(importlib.import_module(entry[0]), entry[1])


def _params(disk):
    return disk.params or {}


def _dyn_params(disk):
    return getattr(disk, "dynamic_params", None) or {}


def find_device(disk, children):
    """The attached BlockDev of ``disk``, or None if it does not exist."""
    cls = get_device_class(disk.dev_type)
    device = cls(disk.logical_id, children, disk.size, _params(disk),
                 _dyn_params(disk))
    return device if device.attached else None


def assemble(disk, children):
    """Activate ``disk``; its BlockDev."""
    cls = get_device_class(disk.dev_type)
    device = cls(disk.logical_id, children, disk.size, _params(disk),
                 _dyn_params(disk))
    device.assemble()
    return device


def create(disk, children, excl_stor):
    """Create ``disk``; its BlockDev."""
    cls = get_device_class(disk.dev_type)
    return cls.create(disk.logical_id, children, disk.size, disk.spindles,
                      _params(disk), excl_stor, _dyn_params(disk))
