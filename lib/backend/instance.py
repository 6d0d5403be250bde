"""Node-side instance procedures: start, stop, reboot, inventory, migration.

The wire form of an instance (what the master sends as ``instance``,
``instance_hvp_bep``, ``inst``) is ``objects.Instance.to_dict()`` with:

* ``hvparams`` and ``beparams`` complete (cluster, OS and instance
  values merged by the master; missing keys get the defaults of
  ``constants.HVC_DEFAULTS``/``BEC_DEFAULTS`` here);
* ``nics``: NIC dicts whose ``nicparams`` are filled (``mode``, ``link``);
* ``disks_info``: the instance's disks as ``objects.Disk.to_dict()``
  dicts, in index order (``disks`` itself holds only UUIDs in 3.0).

``instance_info`` takes the instance *name*, as in Ganeti. Hypervisor
drivers are in ``ganeti.hypervisor``; failures keep Ganeti's messages.
"""

import logging
import os
import time

from ganeti import constants
from ganeti import errors
from ganeti import hypervisor
from ganeti import objects
from ganeti import pathutils
from ganeti import serializer
from ganeti.backend import blockdev
from ganeti.backend.common import fail
from ganeti.utils import io

REBOOT_SOFT = "soft"
REBOOT_HARD = "hard"
REBOOT_FULL = "full"
# How often a soft shutdown request is repeated while waiting.
SHUTDOWN_RETRY_INTERVAL = 5.0
SHUTDOWN_POLL = 0.1
DEFAULT_SHUTDOWN_TIMEOUT = 120


def reason_dir():
    return pathutils.DATA_DIR + "/instance-reason"


def instance_from_wire(data):
    """(objects.Instance with filled parameters, [objects.Disk])."""
    if isinstance(data, objects.Instance):
        return data, []
    if not isinstance(data, dict) or not data.get("name"):
        fail("Invalid instance description %r", str(data)[:200])
    inst = objects.Instance.from_dict(data)
    hvp = dict(constants.HVC_DEFAULTS.get(inst.hypervisor, {}))
    hvp.update(inst.hvparams or {})
    inst.hvparams = hvp
    bep = dict(constants.BEC_DEFAULTS)
    bep.update(objects.upgrade_be_params(inst.beparams))
    inst.beparams = bep
    for nic in inst.nics:
        params = dict(constants.NICC_DEFAULTS)
        params.update(nic.nicparams or {})
        nic.nicparams = params
    disks = [blockdev.disk_from_wire(d) for d in data.get("disks_info") or []]
    return inst, disks


def _driver(name):
    try:
        return hypervisor.get_hypervisor(name)
    except errors.HypervisorError as err:
        fail("%s", err)


def _is_running(hv, inst):
    return hv.get_instance_info(inst.name, hvparams=inst.hvparams) \
        is not None


def store_reason(instance_name, reason):
    """Keep the reason trail of the last start/stop (Ganeti's file)."""
    if reason is None:
        return
    try:
        os.makedirs(reason_dir(), mode=0o750, exist_ok=True)
        io.write_file(os.path.join(reason_dir(), instance_name),
                      serializer.dump_json(reason), mode=0o640)
    except OSError as err:
        logging.warning("Can't store the reason trail of %s: %s",
                        instance_name, err)


# --- start / stop / reboot ---

def _start(inst, disks, startup_paused):
    hv = _driver(inst.hypervisor)
    if _is_running(hv, inst):
        logging.info("Instance %s already running, not starting", inst.name)
        return
    try:
        block_devices = blockdev.gather_and_link(inst.name, disks,
                                                 inst.hypervisor)
        hv.start_instance(inst, block_devices, startup_paused)
    except errors.BlockDeviceError as err:
        fail("Block device error: %s", err)
    except errors.HypervisorError as err:
        blockdev.remove_block_dev_links(inst.name, disks)
        fail("Hypervisor error: %s", err)


def instance_start(instance_hvp_bep, startup_paused, reason):
    """Start an instance (nothing to do if it already runs)."""
    inst, disks = instance_from_wire(instance_hvp_bep)
    _start(inst, disks, bool(startup_paused))
    store_reason(inst.name, reason)
    return None


def _shutdown(inst, disks, timeout):
    hv = _driver(inst.hypervisor)
    name = inst.name
    if not _is_running(hv, inst):
        logging.info("Instance '%s' not running, doing nothing", name)
    else:
        if timeout is None:
            timeout = DEFAULT_SHUTDOWN_TIMEOUT
        deadline = time.time() + max(0, timeout)
        last_request = None
        while _is_running(hv, inst):
            now = time.time()
            if now >= deadline and last_request is not None:
                break
            if last_request is None or \
                    now - last_request >= SHUTDOWN_RETRY_INTERVAL:
                try:
                    hv.stop_instance(inst, force=False,
                                     timeout=max(1, deadline - now))
                except errors.HypervisorError as err:
                    if not _is_running(hv, inst):
                        break
                    if last_request is None and timeout > 0:
                        fail("Failed to stop instance '%s': %s", name, err)
                    logging.warning("Soft stop of %s failed: %s", name, err)
                last_request = now
            time.sleep(SHUTDOWN_POLL)
        if _is_running(hv, inst):
            logging.error("Shutdown of '%s' unsuccessful, forcing", name)
            try:
                hv.stop_instance(inst, force=True)
            except errors.HypervisorError as err:
                if _is_running(hv, inst):
                    fail("Failed to force stop instance %s: %s", name, err)
            if _is_running(hv, inst):
                fail("Could not shutdown instance %s even by destroy", name)
    try:
        hv.cleanup_instance(name)
    except errors.HypervisorError as err:
        logging.warning("Failed to execute post-shutdown cleanup step: %s",
                        err)
    blockdev.remove_block_dev_links(name, disks)


def instance_shutdown(instance, timeout, reason):
    """Stop an instance: soft first, forced after ``timeout`` seconds."""
    inst, disks = instance_from_wire(instance)
    _shutdown(inst, disks, timeout)
    store_reason(inst.name, reason)
    return None


def instance_reboot(inst, reboot_type, shutdown_timeout, reason):
    """Reboot a running instance: ``soft`` (by the hypervisor) or
    ``hard`` (shutdown and start again)."""
    instance, disks = instance_from_wire(inst)
    hv = _driver(instance.hypervisor)
    if not _is_running(hv, instance):
        fail("Cannot reboot instance %s that is not running", instance.name)
    if reboot_type == REBOOT_SOFT:
        try:
            hv.reboot_instance(instance, timeout=shutdown_timeout)
        except errors.HypervisorError as err:
            fail("Failed to soft reboot instance %s: %s", instance.name, err)
    elif reboot_type == REBOOT_HARD:
        try:
            _shutdown(instance, disks, shutdown_timeout)
            _start(instance, disks, False)
        except Exception as err:  # pylint: disable=broad-except
            fail("Failed to hard reboot instance %s: %s", instance.name, err)
    else:
        fail("Invalid reboot_type received: '%s'", reboot_type)
    store_reason(instance.name, reason)
    return None


# --- inventory ---

def _info_dict(info):
    return {"memory": info[2], "vcpus": info[3], "state": info[4],
            "time": info[5]}


def instance_info(instance, hname, hvparams):
    """``{"memory", "vcpus", "state", "time"}`` of a running instance
    (by name), or ``{}``."""
    if isinstance(instance, dict):
        instance = instance.get("name")
    hv = _driver(hname)
    try:
        info = hv.get_instance_info(instance, hvparams=hvparams)
    except errors.HypervisorError as err:
        fail("Failed to get instance info: %s", err)
    return _info_dict(info) if info is not None else {}


def all_instances_info(hypervisor_list, all_hvparams):
    """``{name: {"memory", "vcpus", "state", "time"}}`` of every instance
    running here under the given hypervisors."""
    result = {}
    for hname in hypervisor_list or []:
        hv = _driver(hname)
        try:
            infos = hv.get_all_instances_info(
                hvparams=(all_hvparams or {}).get(hname))
        except errors.HypervisorError as err:
            fail("Error enumerating instances (hypervisor %s): %s", hname,
                 err)
        for info in infos:
            value = _info_dict(info)
            if info[0] in result and result[info[0]] != value:
                fail("Instance %s is running twice with different"
                     " parameters", info[0])
            result[info[0]] = value
    return result


def instance_list(hypervisor_list, hvparams):
    """Names of the instances running here."""
    names = set()
    for hname in hypervisor_list or []:
        hv = _driver(hname)
        try:
            names.update(hv.list_instances(
                hvparams=(hvparams or {}).get(hname)))
        except errors.HypervisorError as err:
            fail("Error enumerating instances (hypervisor %s): %s", hname,
                 err)
    return sorted(names)


# --- migration ---

def instance_migratable(instance):
    """Fail unless the instance runs here; warn about missing disk links.
    """
    inst, disks = instance_from_wire(instance)
    hv = _driver(inst.hypervisor)
    if inst.name not in hv.list_instances(hvparams=inst.hvparams):
        fail("Instance %s is not running", inst.name)
    for idx in range(len(disks)):
        link = blockdev.link_path(inst.name, idx)
        if not os.path.islink(link):
            logging.warning("Instance %s is missing symlink %s for disk %d",
                            inst.name, link, idx)
    return None


def migration_info(instance):
    """Source-side data for the target (KVM: the runtime file)."""
    inst, _ = instance_from_wire(instance)
    try:
        return _driver(inst.hypervisor).migration_info(inst)
    except errors.HypervisorError as err:
        fail("Failed to fetch migration information: %s", err)


def accept_instance(instance, info, target):
    """On the target: link the disks and start the receiving side."""
    inst, disks = instance_from_wire(instance)
    hv = _driver(inst.hypervisor)
    try:
        blockdev.gather_and_link(inst.name, disks, inst.hypervisor)
    except errors.BlockDeviceError as err:
        fail("Block device error: %s", err)
    try:
        hv.accept_instance(inst, info, target)
    except errors.HypervisorError as err:
        blockdev.remove_block_dev_links(inst.name, disks)
        fail("Failed to accept instance: %s", err)
    return None


def instance_finalize_migration_dst(instance, info, success):
    inst, disks = instance_from_wire(instance)
    try:
        _driver(inst.hypervisor).finalize_migration_dst(inst, info, success)
    except errors.HypervisorError as err:
        fail("Failed to finalize migration on the target node: %s", err)
    if not success:
        blockdev.remove_block_dev_links(inst.name, disks)
    return None


def instance_migrate(cluster_name, instance, target, live):
    """Start the migration of a running instance to ``target`` (an IP)."""
    inst, _ = instance_from_wire(instance)
    try:
        _driver(inst.hypervisor).migrate_instance(cluster_name, inst, target,
                                                  live)
    except errors.HypervisorError as err:
        fail("Failed to migrate instance: %s", err)
    return None


def instance_finalize_migration_src(instance, success, live):
    inst, disks = instance_from_wire(instance)
    try:
        _driver(inst.hypervisor).finalize_migration_src(inst, success, live)
    except errors.HypervisorError as err:
        fail("Failed to finalize the migration on the source node: %s", err)
    if success:
        blockdev.remove_block_dev_links(inst.name, disks)
    return None


def instance_get_migration_status(instance):
    """``{"status", "transferred_ram", "total_ram"}`` (RAM in KiB)."""
    inst, _ = instance_from_wire(instance)
    try:
        return _driver(inst.hypervisor).get_migration_status(inst)
    except errors.HypervisorError as err:
        fail("Failed to get migration status: %s", err)


def hypervisor_validate_params(hvname, hvfull):
    """Node-side validation of complete hvparams."""
    hv = _driver(hvname)
    try:
        hv.validate_parameters(hvfull)
    except errors.HypervisorError as err:
        fail("%s", err)
    return None


RPC_FUNCTIONS = {
    "instance_start": instance_start,
    "instance_shutdown": instance_shutdown,
    "instance_reboot": instance_reboot,
    "instance_info": instance_info,
    "all_instances_info": all_instances_info,
    "instance_list": instance_list,
    "instance_migratable": instance_migratable,
    "migration_info": migration_info,
    "accept_instance": accept_instance,
    "instance_finalize_migration_dst": instance_finalize_migration_dst,
    "instance_migrate": instance_migrate,
    "instance_finalize_migration_src": instance_finalize_migration_src,
    "instance_get_migration_status": instance_get_migration_status,
    "hypervisor_validate_params": hypervisor_validate_params,
}
