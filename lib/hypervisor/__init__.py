"""Hypervisor drivers, registered by name.

``get_hypervisor(name)`` returns a new driver object (cheap: drivers keep
no state in memory that outlives a call; what they must remember lives in
files under ``/var/run/ganeti``). ``get_hypervisor_class(name)`` gives the
class, for class-level facts (``PARAMETERS``, ``CAN_MIGRATE``,
``check_parameter_syntax``, ``get_instance_console``) without touching the
node.

Adding a hypervisor: one module with a ``BaseHypervisor`` subclass and one
row in ``_DRIVERS``. Names known to Ganeti but without a driver here
(``xen-pvm``, ``xen-hvm``, ``lxc``) raise HypervisorError on use.
"""

import importlib

from ganeti import constants
from ganeti import errors

# name -> (module, class)
_DRIVERS = {
    constants.HT_FAKE: ("ganeti.hypervisor.hv_fake", "FakeHypervisor"),
    constants.HT_KVM: ("ganeti.hypervisor.hv_kvm", "KVMHypervisor"),
    constants.HT_CHROOT: ("ganeti.hypervisor.hv_chroot", "ChrootManager"),
}


def available():
    """Names of the hypervisors that have a driver."""
    return sorted(_DRIVERS)


def get_hypervisor_class(name):
    """The driver class of hypervisor ``name``."""
    entry = _DRIVERS.get(name)
    if entry is None:
        if name in constants.HYPER_TYPES:
            raise errors.HypervisorError("Hypervisor '%s' is not supported"
                                         " on this node" % name)
        raise errors.HypervisorError("Unknown hypervisor type '%s'" % name)
    module = importlib.import_module(entry[0])
    return getattr(module, entry[1])


def get_hypervisor(name):
    """A new driver object for hypervisor ``name``."""
    return get_hypervisor_class(name)()
