"""Changing an existing instance: parameters, OS, name, disk sizes.

``LUInstanceSetParams`` (gnt-instance modify) returns, like Ganeti, the
list of ``(parameter, new value)`` pairs it applied; the client prints
them. NIC and disk changes arrive as ``(action, identifier, params)``
triples (``action`` add/remove/modify, identifier an index, -1 = last,
or a name/UUID); the legacy ``(identifier, params)`` pairs are
converted first, as in Ganeti.
"""

import os
import socket

from ganeti import constants
from ganeti import errors
from ganeti import hypervisor
from ganeti import objects
from ganeti.cmdlib import base
from ganeti.cmdlib import instance_utils as iu

DDM_ADD = "add"
DDM_REMOVE = "remove"
DDM_MODIFY = "modify"
DDMS_VALUES = frozenset([DDM_ADD, DDM_REMOVE, DDM_MODIFY])
VALUE_DEFAULT = "default"
VALUE_NONE = "none"
VALUE_AUTO = "auto"
# Templates whose disks can grow (Ganeti's DTS_GROWABLE).
DTS_GROWABLE = frozenset([constants.DT_FILE, constants.DT_SHARED_FILE,
                          constants.DT_PLAIN, constants.DT_DRBD8,
                          constants.DT_RBD, constants.DT_EXT,
                          constants.DT_GLUSTER])
INSTANCE_DOWN = [constants.ADMINST_DOWN]
INSTANCE_NOT_RUNNING = [constants.ADMINST_DOWN, constants.ADMINST_OFFLINE]
CAN_CHANGE_INSTANCE_OFFLINE = INSTANCE_NOT_RUNNING
MAX_DISKS = 16
MAX_NICS = 8


def _inval(msg):
    return errors.OpPrereqError(msg, errors.ECODE_INVAL)


def format_unit(mib):
    """Ganeti's FormatUnit(value, "h") for MiB values."""
    if mib < 1024:
        return "%dM" % round(mib, 0)
    if mib < 1024 * 1024:
        return "%0.1fG" % round(float(mib) / 1024, 1)
    return "%0.1fT" % round(float(mib) / 1024 / 1024, 1)


def find_disk_index(instance, idx):
    """Ganeti's Instance.FindDisk texts for an index argument."""
    try:
        idx = int(idx)
    except (TypeError, ValueError) as err:
        raise _inval("Invalid disk index: '%s'" % str(err))
    count = len(instance.disks or [])
    if idx < 0 or idx >= count:
        raise _inval("Invalid disk index: %d (instace has disks 0..%d)" %
                     (idx, count - 1))
    return idx


def convert_mods(mods, kind):
    """Legacy ``(identifier, params)`` pairs -> ``(action, ident, params)``
    triples; triples pass unchanged."""
    result = []
    for mod in mods or []:
        if len(mod) == 3:
            action, ident, params = mod
            params = dict(params or {})
        elif len(mod) == 2:
            ident, params = mod
            params = dict(params or {})
            if ident == DDM_ADD:
                action, ident = DDM_ADD, -1
            elif ident == DDM_REMOVE:
                action, ident = DDM_REMOVE, -1
            else:
                flags = [key for key in DDMS_VALUES if key in params]
                for key in flags:
                    params.pop(key)
                if len(flags) > 1:
                    if DDM_MODIFY in flags:
                        raise _inval("Cannot modify and add/remove at the"
                                     " same time")
                    raise _inval("Cannot add and remove at the same time")
                action = flags[0] if flags else DDM_MODIFY
        else:
            raise _inval("Invalid %s modification %r" % (kind, mod))
        if action not in DDMS_VALUES:
            raise _inval("Invalid %s modification action '%s'" %
                         (kind, action))
        if action == DDM_REMOVE and params:
            raise _inval("Not accepting parameters on removal")
        result.append((action, ident, params))
    return result


def _find_item(items, ident, kind):
    """(index, item) for an index (-1 = last), a name or a UUID."""
    try:
        idx = int(ident)
    except (TypeError, ValueError):
        for pos, item in enumerate(items):
            if ident in (item.name, item.uuid):
                return pos, item
        raise errors.OpPrereqError("Cannot find %s with identifier %s" %
                                   (kind, ident), errors.ECODE_NOENT)
    if idx == -1:
        if not items:
            raise errors.OpPrereqError("Cannot find %s with identifier %s" %
                                       (kind, ident), errors.ECODE_NOENT)
        return len(items) - 1, items[-1]
    if idx < 0 or idx >= len(items):
        raise errors.OpPrereqError(
            "Got %s index %s, but there are only %s" % (kind, idx,
                                                        len(items)),
            errors.ECODE_INVAL)
    return idx, items[idx]


def _updated_params(current, changes, use_default=True):
    """Ganeti's GetUpdatedParams: "default" removes an override."""
    result = dict(current or {})
    for key, value in (changes or {}).items():
        if use_default and value == VALUE_DEFAULT:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _ip_or_none(value):
    if value is None or str(value).lower() == VALUE_NONE:
        return None
    return value


class LUInstanceSetParams(iu.InstanceLU):
    """gnt-instance modify."""

    HPATH = "instance-modify"

    def check_arguments(self):
        op = self.op
        if op.disk_template or op.pnode or op.remote_node or \
                op.ext_params or op.instance_communication is not None:
            raise _inval("Changing the disk template, the primary node or"
                         " the instance communication is not supported by"
                         " this cluster")
        op.nics = convert_mods(op.nics, "NIC")
        op.disks = convert_mods(op.disks, "disk")
        if not (op.nics or op.disks or op.hvparams or op.beparams or
                op.os_name or op.osparams or op.osparams_private or
                op.offline is not None or op.runtime_mem):
            raise _inval("No changes submitted")
        if op.hvparams and set(op.hvparams) & constants.HVC_GLOBALS:
            raise _inval("The following hypervisor parameters are global"
                         " and cannot be customized at instance level,"
                         " please modify them at cluster level: %s" %
                         ", ".join(sorted(set(op.hvparams) &
                                          constants.HVC_GLOBALS)))
        for action, _, params in op.disks:
            if action == DDM_ADD:
                if "size" not in params:
                    raise _inval("Required disk parameter 'size' missing")
                try:
                    params["size"] = int(params["size"])
                except (TypeError, ValueError):
                    raise _inval("Invalid disk size parameter: %s" %
                                 params["size"])
                mode = params.setdefault("mode", "rw")
                if mode not in ("rw", "ro"):
                    raise _inval("Invalid disk access mode '%s'" % mode)
            elif action == DDM_MODIFY:
                if "size" in params:
                    raise _inval("Disk size change not possible, use"
                                 " grow-disk")
                unknown = set(params) - set(["mode", "name"])
                if unknown:
                    raise _inval("Disk modification doesn't support"
                                 " additional arbitrary parameters")
                if params.get("mode", "rw") not in ("rw", "ro"):
                    raise _inval("Invalid disk access mode '%s'" %
                                 params["mode"])

    # --- prerequisites ---
    def check_prereq(self):
        op = self.op
        cfg = self.cfg
        self.instance = instance = cfg.get_instance_info(self.instance_uuid)
        cluster = cfg.get_cluster_info()
        self.template = cfg.get_instance_disk_template(instance.uuid)
        pnode = cfg.get_node_info(instance.primary_node)
        if op.offline is not None:
            iu.check_instance_state(
                self, instance, CAN_CHANGE_INSTANCE_OFFLINE,
                "can't change to %s" % ("offline" if op.offline
                                        else "online"))
        # hypervisor parameters
        self.hv_new = None
        if op.hvparams:
            known = constants.HVC_DEFAULTS.get(instance.hypervisor, {})
            for key in op.hvparams:
                if key not in known:
                    raise _inval("Unknown hypervisor parameter '%s' for"
                                 " hypervisor %s" % (key,
                                                     instance.hypervisor))
            self.hv_new = _updated_params(instance.hvparams, op.hvparams)
            hv_full = cluster.fill_hv(instance.hypervisor, self.hv_new,
                                      os_name=op.os_name or instance.os)
            hv_class = hypervisor.get_hypervisor_class(instance.hypervisor)
            hv_class.check_parameter_syntax(hv_full)
            if not pnode.offline:
                result = self.rpc.call_single(
                    "hypervisor_validate_params", pnode.name,
                    [instance.hypervisor, hv_full])
                result.raise_on_failure("Hypervisor parameter validation"
                                        " failed on node %s" % pnode.name,
                                        prereq=True,
                                        ecode=errors.ECODE_INVAL)
        # backend parameters
        self.be_new = None
        if op.beparams:
            from ganeti import cli_opts
            bep = dict(op.beparams)
            try:
                cli_opts.force_dict_type(bep, cli_opts.BES_PARAMETER_COMPAT)
            except errors.TypeEnforcementError as err:
                raise _inval(str(err))
            bep = objects.upgrade_be_params(bep)
            self.be_new = _updated_params(instance.beparams, bep)
            self.be_new.pop(constants.BE_MEMORY, None)
            full = cluster.fill_be(self.be_new)
            if full[constants.BE_MINMEM] > full[constants.BE_MAXMEM]:
                raise _inval("Minimum memory (%s) is bigger than maximum"
                             " memory (%s)" % (full[constants.BE_MINMEM],
                                               full[constants.BE_MAXMEM]))
            self.be_changes = bep
        # OS
        if op.os_name and not op.force_variant:
            self._check_os(pnode, op.os_name.split("+", 1)[0])
        self.os_new = None
        if op.osparams:
            self.os_new = _updated_params(instance.osparams, op.osparams)
        self._prepare_nics(cluster)
        self._prepare_disks(cluster)

    def _check_os(self, pnode, os_name):
        if pnode.offline:
            return
        result = self.rpc.call_single("os_diagnose", pnode.name, [])
        if result.fail_msg:
            raise errors.OpPrereqError(
                "OS '%s' not in supported OS list for node %s: %s" %
                (os_name, pnode.name, result.fail_msg), errors.ECODE_INVAL)
        names = [entry[0] if isinstance(entry, (list, tuple))
                 else entry.get("name") for entry in result.payload or []]
        if os_name not in names:
            raise errors.OpPrereqError(
                "OS '%s' not in supported OS list for node %s" %
                (os_name, pnode.name), errors.ECODE_INVAL)

    def _prepare_nics(self, cluster):
        """Apply the NIC changes to a copy of the NIC list (checked here,
        stored in exec_)."""
        nics = [nic.copy() for nic in self.instance.nics or []]
        self.nic_changes = []   # (kind, index, nic or None, [(key, val)])
        used_macs = set(n.mac for inst in
                        self.cfg.get_all_instances_info().values()
                        if inst.uuid != self.instance.uuid
                        for n in inst.nics or [])
        for action, ident, params in self.op.nics:
            params = dict(params)
            if action == DDM_ADD:
                if len(nics) >= MAX_NICS:
                    raise _inval("Instance has too many network interfaces"
                                 " (%d), cannot add more" % len(nics))
                idx = int(ident)
                idx = len(nics) if idx == -1 else idx
                if idx < 0 or idx > len(nics):
                    raise _inval("Got NIC index %s, but there are only %s" %
                                 (idx, len(nics)))
                nic = iu.new_nic(params.get("mac") or VALUE_AUTO,
                                 ip=_ip_or_none(params.get("ip")),
                                 nicparams=self._nicparams({}, params),
                                 name=params.get("name"))
                self._check_nic(cluster, nic, used_macs)
                nics.insert(idx, nic)
                self.nic_changes.append((DDM_ADD, idx, nic, []))
            elif action == DDM_REMOVE:
                idx, _ = _find_item(nics, ident, "NIC")
                del nics[idx]
                self.nic_changes.append((DDM_REMOVE, idx, None, []))
            else:
                idx, nic = _find_item(nics, ident, "NIC")
                changes = []
                for key in ("mac", "ip", "name"):
                    if key in params:
                        value = params[key]
                        if key == "ip":
                            value = _ip_or_none(value)
                        setattr(nic, key, value)
                        changes.append(("nic.%s/%d" % (key, idx), value))
                newp = self._nicparams(nic.nicparams, params)
                for key in (constants.NIC_MODE, constants.NIC_LINK,
                            constants.NIC_VLAN):
                    if key in params:
                        changes.append(("nic.%s/%d" % (key, idx),
                                        params[key]))
                nic.nicparams = newp
                self._check_nic(cluster, nic, used_macs)
                self.nic_changes.append((DDM_MODIFY, idx, nic, changes))
        self.new_nics = nics

    @staticmethod
    def _nicparams(current, params):
        changes = dict((key, params[key]) for key in
                       (constants.NIC_MODE, constants.NIC_LINK,
                        constants.NIC_VLAN) if key in params)
        return _updated_params(current, changes)

    def _check_nic(self, cluster, nic, used_macs):
        filled = cluster.fill_nic(nic.nicparams)
        if filled[constants.NIC_MODE] not in constants.NIC_VALID_MODES:
            raise _inval("Invalid NIC mode '%s'" % filled[constants.NIC_MODE])
        if filled[constants.NIC_MODE] == constants.NIC_MODE_ROUTED and \
                not nic.ip:
            raise _inval("Cannot set the NIC IP address to None on a routed"
                         " NIC")
        if nic.mac not in (VALUE_AUTO, "generate"):
            nic.mac = nic.mac.lower()
            if nic.mac in used_macs:
                raise errors.OpPrereqError("MAC address '%s' already in use"
                                           " in cluster" % nic.mac,
                                           errors.ECODE_NOTUNIQUE)

    def _prepare_disks(self, cluster):
        self.disk_changes = []  # (action, idx, params)
        disks = self.cfg.get_instance_disks(self.instance.uuid)
        count = len(disks)
        if self.op.disks and self.template not in (
                constants.DT_FILE, constants.DT_SHARED_FILE,
                constants.DT_DISKLESS):
            raise _inval("Disk changes are not supported for disk template"
                         " %s by this cluster" % self.template)
        for action, ident, params in self.op.disks:
            if action == DDM_ADD:
                if self.template == constants.DT_DISKLESS:
                    raise errors.OpPrereqError(
                        "Can't add a disk to an instance with a diskless"
                        " disk template", errors.ECODE_INVAL)
                if count >= MAX_DISKS:
                    raise _inval("Instance has too many disks (%d), cannot"
                                 " add more" % MAX_DISKS)
                idx = int(ident)
                idx = count if idx == -1 else idx
                if idx != count:
                    raise _inval("Disks can only be added at the end (index"
                                 " %d)" % count)
                count += 1
                self.disk_changes.append((DDM_ADD, idx, params))
            elif action == DDM_REMOVE:
                idx, _ = _find_item(disks, ident, "disk")
                if count == 1:
                    raise errors.OpPrereqError("Can't remove the last disk"
                                               " of an instance",
                                               errors.ECODE_INVAL)
                iu.check_instance_state(self, self.instance, INSTANCE_DOWN,
                                        "cannot remove disks")
                count -= 1
                self.disk_changes.append((DDM_REMOVE, idx, params))
            else:
                idx, _ = _find_item(disks, ident, "disk")
                self.disk_changes.append((DDM_MODIFY, idx, params))

    # --- execution ---
    def exec_(self, feedback_fn):
        op = self.op
        result = []
        instance = self.cfg.get_instance_info(self.instance_uuid)
        result.extend(self._exec_disks(instance, feedback_fn))
        instance = self.cfg.get_instance_info(self.instance_uuid)
        if self.nic_changes:
            result.extend(self._apply_nics(instance))
        if self.hv_new is not None:
            instance.hvparams = self.hv_new
            for key, value in op.hvparams.items():
                result.append(("hv/%s" % key, value))
        if self.be_new is not None:
            instance.beparams = self.be_new
            for key, value in self.be_changes.items():
                result.append(("be/%s" % key, value))
        if op.os_name:
            instance.os = op.os_name
            result.append(("os_name", op.os_name))
        if self.os_new is not None:
            instance.osparams = self.os_new
            for key, value in op.osparams.items():
                result.append(("os/%s" % key, value))
        if op.offline is not None:
            instance.admin_state = (constants.ADMINST_OFFLINE if op.offline
                                    else constants.ADMINST_DOWN)
            instance.admin_state_source = constants.ADMIN_SOURCE
            result.append(("admin_state", instance.admin_state))
        self.cfg.update(instance, feedback_fn)
        return result

    def _apply_nics(self, instance):
        result = []
        ec_id = self.job_id if self.job_id is not None else \
            "modify-%s" % instance.name
        try:
            for kind, idx, nic, changes in self.nic_changes:
                if kind == DDM_ADD:
                    if nic.mac in (VALUE_AUTO, "generate"):
                        nic.mac = self.cfg.generate_mac(ec_id=ec_id)
                    if not nic.uuid:
                        nic.uuid = self.cfg.generate_uuid(ec_id)
                    params = self.cfg.get_cluster_info().fill_nic(
                        nic.nicparams)
                    result.append((
                        "nic.%d" % idx,
                        "add:mac=%s,ip=%s,mode=%s,link=%s,network=%s" %
                        (nic.mac, nic.ip, params[constants.NIC_MODE],
                         params[constants.NIC_LINK], nic.network)))
                elif kind == DDM_REMOVE:
                    result.append(("nic.%d" % idx, "remove"))
                else:
                    result.extend(changes)
        finally:
            if hasattr(self.cfg, "drop_ec_reservations"):
                self.cfg.drop_ec_reservations(ec_id)
        instance.nics = self.new_nics
        return result

    def _exec_disks(self, instance, feedback_fn):
        result = []
        for action, idx, params in self.disk_changes:
            disks = self.cfg.get_instance_disks(instance.uuid)
            if action == DDM_ADD:
                disk = self._new_disk(instance, disks, idx, params)
                iu.create_disks(self, instance, disks=[disk])
                self.cfg.add_instance_disk(instance.uuid, disk, idx)
                instance = self.cfg.get_instance_info(instance.uuid)
                if instance.disks_active:
                    iu.assemble_disks(self, instance)
                result.append(("disk/%d" % idx, "add:size=%s,mode=%s" %
                               (disk.size, disk.mode)))
            elif action == DDM_REMOVE:
                disk = disks[idx]
                iu.shutdown_disks(self, instance, disks=[disk])
                for node_uuid in disk.nodes or [instance.primary_node]:
                    node = self.cfg.get_node_info(node_uuid)
                    res = self.rpc.call_single("blockdev_remove", node.name,
                                               [disk.to_dict()])
                    if res.fail_msg:
                        self.log_warning("Could not remove disk/%d on node"
                                         " %s: %s, continuing anyway", idx,
                                         node.name, res.fail_msg)
                self.cfg.remove_instance_disk(instance.uuid, disk.uuid)
                self._renumber_disks(instance)
                result.append(("disk/%d" % idx, "remove"))
            else:
                disk = disks[idx]
                for key in ("mode", "name"):
                    if key in params:
                        value = params[key]
                        if key == "name" and str(value).lower() == \
                                VALUE_NONE:
                            value = None
                        setattr(disk, key, value)
                        result.append(("disk.%s/%d" % (key, idx), value))
                self.cfg.update(disk)
            instance = self.cfg.get_instance_info(instance.uuid)
        return result

    def _renumber_disks(self, instance):
        for idx, disk in enumerate(self.cfg.get_instance_disks(
                instance.uuid)):
            if disk.iv_name != "disk/%d" % idx:
                disk.iv_name = "disk/%d" % idx
                self.cfg.update(disk)

    def _new_disk(self, instance, disks, idx, params):
        """A disk like the existing ones (same template and directory)."""
        uuid = self.cfg.generate_uuid(self.job_id or "modify")
        template = self.template
        ref = disks[0]
        driver, path = ref.logical_id
        logical_id = [driver, "%s/%s.%s.disk%d" % (os.path.dirname(path),
                                                   uuid, template, idx)]
        return objects.Disk(
            uuid=uuid, dev_type=template, logical_id=logical_id,
            children=[], nodes=[instance.primary_node],
            iv_name="disk/%d" % idx, size=params["size"],
            mode=params.get("mode", "rw"), name=params.get("name"),
            params={}, spindles=None, forthcoming=False)


class LUInstanceReinstall(iu.InstanceLU):
    """gnt-instance reinstall: run the OS create scripts again."""

    HPATH = "instance-reinstall"

    def check_prereq(self):
        instance = self.cfg.get_instance_info(self.instance_uuid)
        self.instance = instance
        pnode = self.cfg.get_node_info(instance.primary_node)
        base.check_node_online(self, pnode.uuid, "Instance primary node"
                               " offline, cannot reinstall")
        if not instance.disks:
            raise _inval("Instance '%s' has no disks" % instance.name)
        iu.check_instance_state(self, instance, INSTANCE_DOWN,
                                "cannot reinstall")
        self.os_name = self.op.os_type or instance.os
        if self.op.os_type and not self.op.force_variant:
            LUInstanceSetParams._check_os(self, pnode,
                                          self.op.os_type.split("+", 1)[0])

    def exec_(self, feedback_fn):
        instance = self.cfg.get_instance_info(self.instance_uuid)
        if self.op.os_type is not None or self.op.osparams is not None:
            if self.op.os_type is not None:
                feedback_fn("Changing OS to '%s'..." % self.op.os_type)
                instance.os = self.op.os_type
            if self.op.osparams is not None:
                instance.osparams = _updated_params(instance.osparams,
                                                    self.op.osparams)
            self.cfg.update(instance, feedback_fn)
            instance = self.cfg.get_instance_info(self.instance_uuid)
        pnode = self.cfg.get_node_info(instance.primary_node)
        iu.assemble_disks(self, instance)
        try:
            feedback_fn("Running the instance OS create scripts...")
            result = self.rpc.call_single(
                "instance_os_add", pnode.name,
                [iu.instance_rpc_dict(self.cfg, instance), True,
                 self.op.debug_level or 0])
            result.raise_on_failure("Could not install OS for instance %s"
                                    " on node %s" % (instance.name,
                                                     pnode.name))
        finally:
            iu.shutdown_disks(self, instance)


class LUInstanceRename(iu.InstanceLU):
    """gnt-instance rename."""

    HPATH = "instance-rename"

    def check_arguments(self):
        if self.op.ip_check and not self.op.name_check:
            raise _inval("IP address check requires a name check")

    def expand_names(self):
        iu.InstanceLU.expand_names(self)
        new_name = self.op.new_name
        if self.op.name_check:
            try:
                fqdn, _, addrs = socket.gethostbyname_ex(new_name)
            except OSError as err:
                raise errors.OpPrereqError(
                    "The given name (%s) does not resolve: %s" %
                    (new_name, err), errors.ECODE_RESOLVER)
            if not fqdn.startswith(new_name.split(".")[0]):
                raise errors.OpPrereqError(
                    "Resolved hostname '%s' does not look the same as given"
                    " hostname '%s'" % (fqdn, new_name), errors.ECODE_INVAL)
            self.op.new_name = new_name = fqdn
            self.new_ip = addrs[0] if addrs else None
        if new_name != self.instance.name and \
                self.cfg.get_instance_info_by_name(new_name) is not None:
            raise errors.OpPrereqError("Instance '%s' is already in the"
                                       " cluster" % new_name,
                                       errors.ECODE_EXISTS)

    def build_hooks_env(self):
        env = iu.InstanceLU.build_hooks_env(self)
        env["INSTANCE_NEW_NAME"] = self.op.new_name
        return env

    def check_prereq(self):
        instance = self.cfg.get_instance_info(self.instance_uuid)
        self.instance = instance
        iu.check_instance_state(self, instance, INSTANCE_NOT_RUNNING,
                                "cannot rename")
        if self.op.ip_check and getattr(self, "new_ip", None):
            from ganeti import bootstrap
            if bootstrap.tcp_ping(self.new_ip, constants.DEFAULT_NODED_PORT):
                raise errors.OpPrereqError(
                    "IP %s of instance %s already in use" %
                    (self.new_ip, self.op.new_name), errors.ECODE_NOTUNIQUE)

    def exec_(self, feedback_fn):
        instance = self.cfg.get_instance_info(self.instance_uuid)
        old_name = instance.name
        new_name = self.op.new_name
        disks = self.cfg.get_instance_disks(instance.uuid)
        pnode = self.cfg.get_node_info(instance.primary_node)
        renames = []
        for disk in disks:
            fdir = iu.file_storage_dir_of(disk)
            if fdir and os.path.basename(fdir) == old_name:
                new_dir = os.path.join(os.path.dirname(fdir), new_name)
                if (fdir, new_dir) not in renames:
                    renames.append((fdir, new_dir))
                disk.logical_id = [disk.logical_id[0], os.path.join(
                    new_dir, os.path.basename(disk.logical_id[1]))]
        for old_dir, new_dir in renames:
            result = self.rpc.call_single("file_storage_dir_rename",
                                          pnode.name, [old_dir, new_dir])
            result.raise_on_failure("Could not rename on node %s directory"
                                    " '%s' to '%s' (but the instance has"
                                    " not been renamed in Ganeti)" %
                                    (pnode.name, old_dir, new_dir))
        instance.name = new_name
        self.cfg.update(instance, feedback_fn)
        for disk in disks:
            self.cfg.update(disk)
        instance = self.cfg.get_instance_info(instance.uuid)
        if instance.disks:
            iu.assemble_disks(self, instance)
            try:
                result = self.rpc.call_single(
                    "instance_run_rename", pnode.name,
                    [iu.instance_rpc_dict(self.cfg, instance), old_name,
                     self.op.debug_level or 0])
                if result.fail_msg:
                    self.log_warning(
                        "Could not run OS rename script for instance %s on"
                        " node %s (but the instance has been renamed in"
                        " Ganeti): %s", new_name, pnode.name,
                        result.fail_msg)
            finally:
                iu.shutdown_disks(self, instance)
        return new_name


class LUInstanceGrowDisk(iu.InstanceLU):
    """gnt-instance grow-disk."""

    HPATH = "disk-grow"

    def build_hooks_env(self):
        env = iu.InstanceLU.build_hooks_env(self)
        env.update({"DISK": self.op.disk, "AMOUNT": self.op.amount,
                    "ABSOLUTE": self.op.absolute})
        return env

    def check_prereq(self):
        instance = self.cfg.get_instance_info(self.instance_uuid)
        self.instance = instance
        for node_uuid in self.cfg.get_instance_all_nodes(instance.uuid):
            base.check_node_online(self, node_uuid)
        template = self.cfg.get_instance_disk_template(instance.uuid)
        if template not in DTS_GROWABLE:
            raise _inval("Instance's disk layout does not support growing")
        idx = find_disk_index(instance, self.op.disk)
        self.disk = self.cfg.get_instance_disks(instance.uuid)[idx]
        if self.op.absolute:
            self.target = self.op.amount
            self.delta = self.target - self.disk.size
            if self.delta < 0:
                raise errors.OpPrereqError(
                    "Requested size (%s) is smaller than current disk size"
                    " (%s)" % (format_unit(self.target),
                               format_unit(self.disk.size)),
                    errors.ECODE_STATE)
        else:
            self.delta = self.op.amount
            self.target = self.disk.size + self.delta
            if self.delta < 0:
                raise _inval("Requested increment (%s) is negative" %
                             format_unit(self.delta))

    def exec_(self, feedback_fn):
        instance = self.instance
        disk = self.disk
        was_active = instance.disks_active
        iu.assemble_disks(self, instance, disks=[disk])
        feedback_fn("Growing disk %s of instance '%s' by %s to %s" %
                    (self.op.disk, instance.name, format_unit(self.delta),
                     format_unit(self.target)))
        nodes = [self.cfg.get_node_info(u).name for u in
                 (disk.nodes or [instance.primary_node])]
        try:
            for dryrun in (True, False):
                for name in nodes:
                    result = self.rpc.call_single(
                        "blockdev_grow", name,
                        [disk.to_dict(), self.delta, dryrun, True, False])
                    result.raise_on_failure(
                        "%s request failed to node %s" %
                        ("Dry-run grow" if dryrun else "Grow", name))
            disk.size = self.target
            self.cfg.update(disk)
        finally:
            if not was_active:
                iu.shutdown_disks(self, instance, disks=[disk])


class LUInstanceRecreateDisks(iu.InstanceLU):
    """gnt-instance recreate-disks: create missing disks again (empty),
    optionally on another node."""

    HPATH = "instance-recreate-disks"

    def check_arguments(self):
        disks = []
        for item in self.op.disks or []:
            if isinstance(item, (list, tuple)):
                idx, params = item
            else:
                idx, params = item, {}
            if not isinstance(idx, int) or idx < 0:
                raise _inval("Invalid disk index: %s" % (idx,))
            unknown = set(params or {}) - set(["size", "mode"])
            if unknown:
                raise _inval("Parameters for disk %s try to change"
                             " unmodifyable parameter(s): %s" %
                             (idx, ", ".join(sorted(unknown))))
            disks.append((idx, dict(params or {})))
        seen = [idx for idx, _ in disks]
        if len(seen) != len(set(seen)):
            raise _inval("Some disks have been specified more than once")
        self.disk_specs = disks
        if self.op.iallocator is not None:
            from ganeti import iallocator
            if self.op.nodes:
                raise _inval("Give either the iallocator or the new nodes")
            self.op.iallocator = iallocator.resolve_name(self.cfg,
                                                         self.op.iallocator)
            if not self.op.iallocator:
                raise _inval("No iallocator given and no cluster-wide"
                             " default iallocator found")

    def expand_names(self):
        iu.InstanceLU.expand_names(self)
        self.node_uuids = [base.expand_node_name(self.cfg, name)[0]
                           for name in self.op.nodes or []]

    def declare_locks(self, level):
        iu.InstanceLU.declare_locks(self, level)
        if level == constants.LOCKS_NODE and self.op.iallocator:
            # the allocator may pick any node
            self.needed_locks[constants.LOCKS_NODE] = base.ALL_SET
        elif level == constants.LOCKS_NODE and self.node_uuids:
            locks = self.needed_locks[constants.LOCKS_NODE]
            self.needed_locks[constants.LOCKS_NODE] = \
                list(locks) + [u for u in self.node_uuids if u not in locks]

    def check_prereq(self):
        instance = self.cfg.get_instance_info(self.instance_uuid)
        self.instance = instance
        if not instance.disks:
            raise _inval("Instance '%s' has no disks" % instance.name)
        iu.check_instance_state(self, instance, INSTANCE_NOT_RUNNING,
                                "cannot recreate disks")
        current = self.cfg.get_instance_all_nodes(instance.uuid)
        if self.op.iallocator:
            self._run_allocator(instance)
        if self.node_uuids and len(self.node_uuids) != len(current):
            raise _inval("Instance %s currently has %d nodes, but new node"
                         " list has %d nodes" % (instance.name, len(current),
                                                 len(self.node_uuids)))
        for node_uuid in self.node_uuids:
            base.check_node_online(self, node_uuid)
        count = len(instance.disks)
        for idx, _ in self.disk_specs:
            if idx >= count:
                raise _inval("Invalid disk index: %s" % idx)

    def _run_allocator(self, instance):
        """New nodes for the disks from ``op.iallocator`` (an allocate
        request with the instance's own specification)."""
        from ganeti import iallocator
        bep = iu.filled_beparams(self.cfg, instance)
        disks = [{"size": d.size, "mode": d.mode, "spindles": d.spindles}
                 for d in self.cfg.get_instance_disks(instance.uuid)]
        ial = iallocator.allocate(
            self, self.op.iallocator, iallocator.MODE_ALLOC,
            name=instance.name, group_name=None,
            tags=list(instance.tags or []),
            disk_template=self.cfg.get_instance_disk_template(instance.uuid),
            os=instance.os, nics=[{}], vcpus=bep[constants.BE_VCPUS],
            memory=bep[constants.BE_MAXMEM],
            spindle_use=bep[constants.BE_SPINDLE_USE], disks=disks,
            hypervisor=instance.hypervisor)
        self.node_uuids = [base.expand_node_name(self.cfg, name)[0]
                           for name in ial.result]
        self.op.nodes = list(ial.result)
        self.log_info("Selected nodes for instance %s via iallocator %s: %s",
                      instance.name, self.op.iallocator,
                      ", ".join(ial.result))

    def exec_(self, feedback_fn):
        instance = self.instance
        disks = self.cfg.get_instance_disks(instance.uuid)
        wanted = dict(self.disk_specs) if self.disk_specs else \
            dict((idx, {}) for idx in range(len(disks)))
        if self.node_uuids:
            from ganeti.cmdlib import instance_migration
            instance = instance_migration.set_primary_node(
                self, instance, self.node_uuids[0], feedback_fn)
            disks = self.cfg.get_instance_disks(instance.uuid)
        selected = []
        for idx, disk in enumerate(disks):
            if idx not in wanted:
                continue
            changes = wanted[idx]
            if changes:
                if "size" in changes:
                    disk.size = int(changes["size"])
                if "mode" in changes:
                    disk.mode = changes["mode"]
                self.cfg.update(disk)
            selected.append(disk)
        iu.create_disks(self, instance, disks=selected)
