"""Node-side block device procedures and file storage directories.

Disks arrive as ``objects.Disk.to_dict()`` dicts (with ``children`` as
dicts, and optionally ``dynamic_params``: node-specific values the master
computed, e.g. DRBD minors); the drivers are in ``ganeti.storage``.

An instance's disks are reached through symlinks
``/var/run/ganeti/instance-disks/<instance>:<index>`` pointing at the
device (or file), made when a disk is assembled on the primary node and
removed when the instance stops; hypervisors open the link, so a
migration target uses the same path.

Errors keep Ganeti's texts; a file path outside the node's allow-list
fails with ``FileStoragePathError`` (noded answers "Error while executing
backend function: Path '...' is not acceptable for file storage").
"""

import logging
import os
import stat

from ganeti import errors
from ganeti import objects
from ganeti import pathutils
from ganeti import storage
from ganeti.backend.common import fail
from ganeti.storage import filestorage
from ganeti.utils import process

DISK_SEPARATOR = ":"


def disk_links_dir():
    return pathutils.RUN_DIR + "/instance-disks"


def disk_from_wire(data):
    """An objects.Disk from its dict, keeping ``dynamic_params``."""
    if isinstance(data, objects.Disk):
        return data
    if not isinstance(data, dict):
        fail("Invalid disk description %r", data)
    disk = objects.Disk.from_dict(data)
    disk.dynamic_params = data.get("dynamic_params") or {}
    if disk.children:
        disk.children = [disk_from_wire(c) for c in (data.get("children")
                                                      or [])]
    return disk


def _describe(disk):
    return "disk/%s (%s %s)" % (disk.iv_name or disk.uuid, disk.dev_type,
                                disk.logical_id)


def recursive_find(disk):
    """The attached BlockDev of ``disk`` (children first), or None."""
    children = []
    for child in disk.children or []:
        children.append(recursive_find(child))
    return storage.find_device(disk, children)


def recursive_assemble(disk, owner, as_primary):
    """Activate ``disk`` and its children; the BlockDev."""
    children = []
    for child in disk.children or []:
        children.append(recursive_assemble(child, owner, as_primary))
    device = storage.assemble(disk, children)
    if as_primary:
        device.open()
    return device


def link_path(instance_name, idx):
    return os.path.join(disk_links_dir(), "%s%s%d" % (instance_name,
                                                       DISK_SEPARATOR, idx))


def symlink_block_dev(instance_name, dev_path, idx):
    """Point ``<instance>:<idx>`` at ``dev_path``; the link's path."""
    os.makedirs(disk_links_dir(), mode=0o755, exist_ok=True)
    link = link_path(instance_name, idx)
    try:
        os.symlink(dev_path, link)
    except FileExistsError:
        if not os.path.islink(link) or os.readlink(link) != dev_path:
            tmp = link + ".new"
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            os.symlink(dev_path, tmp)
            os.rename(tmp, link)
    return link


def remove_block_dev_links(instance_name, disks):
    for idx in range(len(disks)):
        link = link_path(instance_name, idx)
        if os.path.islink(link):
            try:
                os.unlink(link)
            except OSError as err:
                logging.exception("Can't remove symlink '%s': %s", link, err)


def device_uri(disk, device, hypervisor):
    """The userspace URI of a disk whose access mode asks for one."""
    if (disk.params or {}).get("access") == "userspace":
        return device.get_userspace_access_uri(hypervisor)
    return None


def gather_and_link(instance_name, disks, hypervisor):
    """``[(disk, link_name, uri)]`` of an instance's (assembled) disks,
    for the hypervisor; BlockDeviceError if one is not set up."""
    result = []
    for idx, disk in enumerate(disks):
        device = recursive_find(disk)
        if device is None:
            raise errors.BlockDeviceError("Block device '%s' is not set up."
                                          % _describe(disk))
        device.open()
        link = symlink_block_dev(instance_name, device.dev_path, idx)
        result.append((disk, link, device_uri(disk, device, hypervisor)))
    return result


# --- procedures ---

def blockdev_create(bdev, size, owner, on_primary, info, exclusive_storage):
    """Create a disk (children assembled first); its unique id."""
    disk = disk_from_wire(bdev)
    if size is not None:
        disk.size = size
    children = []
    for child in disk.children or []:
        try:
            children.append(recursive_assemble(child, owner, on_primary))
        except errors.BlockDeviceError as err:
            fail("Can't assemble device %s: %s", _describe(child), err)
    try:
        device = storage.create(disk, children, exclusive_storage)
    except errors.BlockDeviceError as err:
        fail("Can't create block device: %s", err)
    if on_primary:
        try:
            device.assemble()
        except errors.BlockDeviceError as err:
            fail("Can't assemble device after creation, unusual event: %s",
                 err)
        try:
            device.open(force=True)
        except errors.BlockDeviceError as err:
            fail("Can't make device r/w after creation, unusual event: %s",
                 err)
    if info:
        device.set_info(info)
    return device.unique_id


def blockdev_remove(bdev):
    """Remove a disk and its children; missing devices are no error."""
    disk = disk_from_wire(bdev)
    try:
        device = recursive_find(disk)
    except errors.BlockDeviceError as err:
        logging.info("Can't attach to device %s in remove: %s",
                     _describe(disk), err)
        device = None
    _on_device_and_children(disk, device, "remove", blockdev_remove)
    return None


def _on_device_and_children(disk, device, method, recurse):
    """Call ``device.<method>()``, then ``recurse`` on every child disk,
    collecting all errors into one RPC failure (children are handled even
    when the parent failed)."""
    msgs = []
    if device is not None:
        try:
            getattr(device, method)()
        except errors.BlockDeviceError as err:
            msgs.append(str(err))
    for child in disk.children or []:
        try:
            recurse(child)
        except Exception as err:  # pylint: disable=broad-except
            msgs.append(str(err))
    if msgs:
        fail("; ".join(msgs))


def _instance_name(instance):
    if isinstance(instance, dict):
        return instance.get("name"), instance.get("hypervisor")
    return instance, None


def blockdev_assemble(disk, instance, on_primary, idx):
    """Activate a disk; ``[dev_path, link_name, uri]`` (the link and URI
    only on the primary node)."""
    cfdisk = disk_from_wire(disk)
    name, hypervisor = _instance_name(instance)
    try:
        device = recursive_assemble(cfdisk, name, on_primary)
        link = uri = None
        if on_primary:
            link = symlink_block_dev(name, device.dev_path, idx)
            uri = device_uri(cfdisk, device, hypervisor)
    except errors.BlockDeviceError as err:
        fail("Error while assembling disk: %s", err)
    except OSError as err:
        fail("Error while symlinking disk: %s", err)
    return [device.dev_path, link, uri]


def blockdev_shutdown(disk):
    """Deactivate a disk and its children."""
    cfdisk = disk_from_wire(disk)
    _on_device_and_children(cfdisk, recursive_find(cfdisk), "shutdown",
                            blockdev_shutdown)
    return None


def blockdev_grow(cf_bdev, amount, dryrun, backingstore, es_flag):
    """Grow a disk by ``amount`` MiB."""
    disk = disk_from_wire(cf_bdev)
    device = recursive_find(disk)
    if device is None:
        fail("Cannot find block device %s", _describe(disk))
    try:
        device.grow(amount, dryrun, backingstore, es_flag)
    except errors.BlockDeviceError as err:
        fail("Failed to grow block device: %s", err)
    return None


def blockdev_getdimensions(disks):
    """``[[size_bytes, spindles] or None]`` per disk."""
    result = []
    for data in disks:
        try:
            device = recursive_find(disk_from_wire(data))
        except errors.BlockDeviceError:
            result.append(None)
            continue
        if device is None:
            result.append(None)
        else:
            size, spindles = device.get_actual_dimensions()
            result.append([size, spindles])
    return result


def blockdev_find(disk):
    """The sync status dict of a disk, or None if it does not exist."""
    try:
        device = recursive_find(disk_from_wire(disk))
    except errors.BlockDeviceError as err:
        fail("Failed to find device: %s", err)
    if device is None:
        return None
    return device.get_sync_status()


def _existing_devices(disks):
    """``(disk, device)`` of each wire disk; RPCFail for the first whose
    device does not exist."""
    for data in disks:
        disk = disk_from_wire(data)
        device = recursive_find(disk)
        if device is None:
            fail("Can't find device %s", _describe(disk))
        yield disk, device


def blockdev_getmirrorstatus(disks):
    """Combined sync status dicts of ``disks`` (all must exist)."""
    return [device.combined_sync_status()
            for _, device in _existing_devices(disks)]


def blockdev_open(instance_name, disks, exclusive):
    """Make the disks ready for the instance's I/O."""
    for disk, device in _existing_devices(disks):
        try:
            device.open(exclusive=exclusive)
        except errors.BlockDeviceError as err:
            fail("Can't open device %s: %s", _describe(disk), err)
    return None


def blockdev_close(instance_name, disks):
    """The instance no longer uses the disks on this node."""
    msgs = []
    for _, device in _existing_devices(disks):
        try:
            device.close()
        except errors.BlockDeviceError as err:
            msgs.append(str(err))
    if msgs:
        fail("Can't close devices: %s", ",".join(msgs))
    return None


def bdev_sizes(devices):
    """``{path: MiB}`` of those of ``devices`` that are block devices
    under /dev."""
    result = {}
    for path in devices or []:
        if not filestorage.is_below_dir("/dev", path):
            continue
        try:
            st = os.stat(path)
        except OSError as err:
            logging.warning("Error stat()'ing device %s: %s", path, err)
            continue
        if not stat.S_ISBLK(st.st_mode):
            continue
        res = process.run_cmd(["blockdev", "--getsize64", path],
                              reset_env=True, timeout=60)
        if res.failed:
            logging.warning("Cannot get size for block device %s", path)
            continue
        result[path] = int(res.stdout) // (1024 * 1024)
    return result


# --- file storage directories ---

def _transform_dir(path):
    filestorage.check_path_acceptance(path)
    return os.path.normpath(path)


def file_storage_dir_create(file_storage_dir):
    """Create an instance's file storage directory."""
    path = _transform_dir(file_storage_dir)
    if os.path.exists(path):
        if not os.path.isdir(path):
            fail("Specified storage dir '%s' is not a directory", path)
        return None
    try:
        os.makedirs(path, 0o750)
    except OSError as err:
        fail("Cannot create file storage directory '%s': %s", path, err)
    return None


def file_storage_dir_remove(file_storage_dir):
    """Remove an (empty) instance file storage directory."""
    path = _transform_dir(file_storage_dir)
    if os.path.exists(path):
        if not os.path.isdir(path):
            fail("Specified Storage directory '%s' is not a directory",
                 path)
        try:
            os.rmdir(path)
        except OSError as err:
            fail("Cannot remove file storage directory '%s': %s", path, err)
    return None


def file_storage_dir_rename(old_file_storage_dir, new_file_storage_dir):
    """Rename an instance file storage directory."""
    old = _transform_dir(old_file_storage_dir)
    new = _transform_dir(new_file_storage_dir)
    if not os.path.exists(new):
        if os.path.isdir(old):
            try:
                os.rename(old, new)
            except OSError as err:
                fail("Cannot rename '%s' to '%s': %s", old, new, err)
        else:
            fail("Specified storage dir '%s' is not a directory", old)
    elif os.path.exists(old):
        fail("Cannot rename '%s' to '%s': both locations exist", old, new)
    return None


RPC_FUNCTIONS = {
    "blockdev_create": blockdev_create,
    "blockdev_remove": blockdev_remove,
    "blockdev_assemble": blockdev_assemble,
    "blockdev_shutdown": blockdev_shutdown,
    "blockdev_grow": blockdev_grow,
    "blockdev_getdimensions": blockdev_getdimensions,
    "blockdev_find": blockdev_find,
    "blockdev_getmirrorstatus": blockdev_getmirrorstatus,
    "blockdev_open": blockdev_open,
    "blockdev_close": blockdev_close,
    "bdev_sizes": bdev_sizes,
    "file_storage_dir_create": file_storage_dir_create,
    "file_storage_dir_remove": file_storage_dir_remove,
    "file_storage_dir_rename": file_storage_dir_rename,
}
