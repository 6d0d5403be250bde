"""File disks: the storage path allow-list, the FileStorage device and the
node-side block device / file storage directory procedures.

Real files in a relocated tree (GANETI_ROOTDIR); noded's wrapping of
non-RPCFail errors is checked through its real handler.
"""

import importlib
import json
import os
import shutil
import tempfile

import pytest

from ganeti import errors
from ganeti import objects
from ganeti import pathutils
from ganeti import storage
from ganeti.backend import RPCFail
from ganeti.backend import blockdev as bd
from ganeti.server import noded
from ganeti.storage import filestorage as fs

_MIB = 1024 * 1024


@pytest.fixture
def root():
    path = tempfile.mkdtemp(prefix="gfs", dir="/tmp")
    old = os.environ.get("GANETI_ROOTDIR")
    os.environ["GANETI_ROOTDIR"] = path
    importlib.reload(pathutils)
    try:
        os.makedirs(pathutils.CONF_DIR)
        for sub in ("file-storage", "shared-file-storage"):
            os.makedirs(path + "/srv/ganeti/" + sub)
        with open(pathutils.FILE_STORAGE_PATHS_FILE, "w") as fh:
            fh.write("# paths for instance disks\n\n%s/srv/ganeti/file-storage"
                     "\n%s/srv/ganeti/shared-file-storage\nrelative/dir\n" %
                     (path, path))
        yield path
    finally:
        if old is None:
            del os.environ["GANETI_ROOTDIR"]
        else:
            os.environ["GANETI_ROOTDIR"] = old
        importlib.reload(pathutils)
        shutil.rmtree(path, ignore_errors=True)


# --- the allow-list ---

def test_allowed_paths_file_parsing(root):
    assert fs.load_allowed_paths() == [
        root + "/srv/ganeti/file-storage",
        root + "/srv/ganeti/shared-file-storage", "relative/dir"]
    assert fs.load_allowed_paths("/nonexistent") == []


def test_acceptance_messages_are_ganetis(root):
    fs.check_path_acceptance(root + "/srv/ganeti/file-storage/i1/disk0")
    cases = [
        ("/etc/ganeti/disk0", "Path '/etc/ganeti/disk0' uses a forbidden"
         " prefix"),
        ("/usr/lib/x", "Path '/usr/lib/x' uses a forbidden prefix"),
        ("/bin", "Path '/bin' uses a forbidden prefix"),
        ("rel/disk0", "Path 'rel/disk0' uses a forbidden prefix"),
        ("/srv/other/disk0", "Path '/srv/other/disk0' is not acceptable for"
         " file storage"),
        # the allowed directory itself is no file path...
        (root + "/srv/ganeti/file-storage", "Path '%s/srv/ganeti/"
         "file-storage' is not acceptable for file storage" % root),
        # ... and a sibling with a common prefix is outside it
        (root + "/srv/ganeti/file-storage2/d", "Path '%s/srv/ganeti/"
         "file-storage2/d' is not acceptable for file storage" % root),
        (root + "/srv/ganeti/file-storage/../x", "Path '%s/srv/ganeti/"
         "file-storage/../x' is not acceptable for file storage" % root),
    ]
    for path, message in cases:
        with pytest.raises(errors.FileStoragePathError) as err:
            fs.check_path_acceptance(path)
        assert str(err.value) == message
    # the directory itself is fine where an exact match is allowed
    fs.check_path_acceptance(root + "/srv/ganeti/file-storage",
                             exact_match_ok=True)


def test_no_allow_list_allows_nothing(root):
    os.unlink(pathutils.FILE_STORAGE_PATHS_FILE)
    with pytest.raises(errors.FileStoragePathError) as err:
        fs.check_path_acceptance(root + "/srv/ganeti/file-storage/d")
    assert str(err.value) == ("No paths are valid or path file '%s' was not"
                              " accessible." %
                              pathutils.FILE_STORAGE_PATHS_FILE)


def test_check_storage_dir_for_verify(root):
    good = root + "/srv/ganeti/file-storage"
    assert fs.check_storage_dir(good) is None
    os.rmdir(good)
    assert fs.check_storage_dir(good) == (
        "Path '%s' is not existing or not a directory." % good)
    assert "is not acceptable" in fs.check_storage_dir("/srv/elsewhere")
    assert fs.wrong_paths(["/srv/a", "/boot/x", "/usr/local/sbin", "x"]) == \
        ["/boot/x", "/usr/local/sbin", "x"]
    info = fs.space_info(root)
    assert 0 <= info["storage_free"] <= info["storage_size"]


# --- the device ---

def test_file_device_create_grow_remove(root):
    path = root + "/srv/ganeti/shared-file-storage/i1/disk0"
    dev = fs.FileStorage.create(["loop", path], [], 8, None, {}, False, {})
    assert dev.attached and dev.dev_path == path
    st = os.stat(path)
    assert st.st_size == 8 * _MIB
    assert st.st_blocks * 512 < _MIB  # sparse
    dev.assemble()
    assert dev.get_actual_dimensions() == (8 * _MIB, None)
    dev.grow(4, True, True, False)  # dry run
    assert os.path.getsize(path) == 8 * _MIB
    dev.grow(4, False, True, False)
    assert os.path.getsize(path) == 12 * _MIB
    with pytest.raises(errors.BlockDeviceError,
                       match="can't grow by negative amount"):
        dev.grow(-1, False, True, False)
    with pytest.raises(errors.BlockDeviceError, match="File exists"):
        fs.FileStorage.create(["loop", path], [], 8, None, {}, False, {})
    assert dev.get_sync_status()["ldisk_status"] == 1
    assert dev.remove() is True
    assert dev.remove() is False
    again = fs.FileStorage(["loop", path], [], 8, {}, {})
    assert not again.attached
    with pytest.raises(errors.BlockDeviceError,
                       match="%s: No such file" % path):
        again.assemble()


def test_device_registry():
    assert storage.supported_templates() == ["file", "sharedfile"]
    with pytest.raises(errors.BlockDeviceError,
                       match="Disk template 'plain' is not supported"):
        storage.get_device_class("plain")


# --- the procedures ---

def _disk(root, name="disk0", dev_type="file", size=4):
    return objects.Disk(dev_type=dev_type, size=size, mode="rw",
                        iv_name="disk/0", uuid="6b1d0e1c-aaaa",
                        logical_id=["loop", root + "/srv/ganeti/file-storage"
                                    "/i1/" + name]).to_dict()


def test_blockdev_procedures(root):
    disk = _disk(root)
    path = disk["logical_id"][1]
    assert bd.blockdev_create(disk, 4, "i1", True, "", False) == \
        ["loop", path]
    dev_path, link, uri = bd.blockdev_assemble(disk, {"name": "i1"}, True, 0)
    assert (dev_path, uri) == (path, None)
    assert link == pathutils.RUN_DIR + "/instance-disks/i1:0"
    assert os.readlink(link) == path
    # on a secondary node: no link
    assert bd.blockdev_assemble(disk, "i1", False, 0) == [path, None, None]
    assert bd.blockdev_getdimensions([disk, _disk(root, "nope")]) == \
        [[4 * _MIB, None], None]
    status = bd.blockdev_find(disk)
    assert status["dev_path"] == path and status["is_degraded"] is False
    assert bd.blockdev_find(_disk(root, "nope")) is None
    assert bd.blockdev_getmirrorstatus([disk])[0]["ldisk_status"] == 1
    bd.blockdev_open("i1", [disk], True)
    bd.blockdev_close("i1", [disk])
    bd.blockdev_grow(disk, 2, False, True, False)
    assert os.path.getsize(path) == 6 * _MIB
    with pytest.raises(RPCFail, match="Cannot find block device"):
        bd.blockdev_grow(_disk(root, "nope"), 2, False, True, False)
    bd.blockdev_shutdown(disk)
    assert os.path.exists(path)
    bd.remove_block_dev_links("i1", [disk])
    assert not os.path.lexists(link)
    bd.blockdev_remove(disk)
    assert not os.path.exists(path)
    bd.blockdev_remove(disk)  # already gone: not an error


def test_blockdev_create_outside_the_allow_list_through_noded(root):
    handler = noded.make_handler(bd.RPC_FUNCTIONS)
    disk = _disk(root)
    disk["logical_id"][1] = "/etc/passwd.disk"
    status, _, body = handler("POST", "/blockdev_create", {},
                              json.dumps([disk, 4, "i1", True, "", False])
                              .encode(), True)
    assert status == 200
    assert json.loads(body) == [
        False, "Error while executing backend function: Path"
        " '/etc/passwd.disk' uses a forbidden prefix"]
    assert not os.path.exists("/etc/passwd.disk")


def test_bdev_sizes_only_reports_block_devices(root, tmp_path):
    regular = str(tmp_path / "file")
    open(regular, "w").close()
    assert bd.bdev_sizes([regular, "/dev/null", "/dev/nonexistent"]) == {}
    loops = [d for d in ("/dev/loop0", "/dev/loop1") if os.path.exists(d)]
    if loops:
        result = bd.bdev_sizes(loops)
        assert all(isinstance(v, int) for v in result.values())


def test_file_storage_dir_procedures(root):
    base_dir = root + "/srv/ganeti/file-storage"
    bd.file_storage_dir_create(base_dir + "/inst1")
    assert os.path.isdir(base_dir + "/inst1")
    bd.file_storage_dir_create(base_dir + "/inst1")  # exists: fine
    bd.file_storage_dir_rename(base_dir + "/inst1", base_dir + "/inst2")
    assert os.path.isdir(base_dir + "/inst2")
    os.makedirs(base_dir + "/inst1")
    with pytest.raises(RPCFail) as err:
        bd.file_storage_dir_rename(base_dir + "/inst1", base_dir + "/inst2")
    assert str(err.value) == ("Cannot rename '%s/inst1' to '%s/inst2': both"
                              " locations exist" % (base_dir, base_dir))
    open(base_dir + "/inst2/disk0", "w").close()
    with pytest.raises(RPCFail, match="Cannot remove file storage"
                       " directory '%s/inst2'" % base_dir):
        bd.file_storage_dir_remove(base_dir + "/inst2")
    os.unlink(base_dir + "/inst2/disk0")
    bd.file_storage_dir_remove(base_dir + "/inst2")
    bd.file_storage_dir_remove(base_dir + "/inst2")  # gone: fine
    open(base_dir + "/afile", "w").close()
    with pytest.raises(RPCFail, match="Specified storage dir '%s/afile' is"
                       " not a directory" % base_dir):
        bd.file_storage_dir_create(base_dir + "/afile")
    with pytest.raises(errors.FileStoragePathError,
                       match="is not acceptable for file storage"):
        bd.file_storage_dir_create("/srv/somewhere/else")
