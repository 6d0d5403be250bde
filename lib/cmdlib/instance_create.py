"""OP_INSTANCE_CREATE (mode ``create``): a new instance on its nodes.

All checks that can fail run in ``check_prereq`` before anything
changes; once disks exist, any failure undoes the creation (disks,
storage directory, config entry), so a failed ``gnt-instance add``
leaves nothing behind.
"""

import logging
import os

from ganeti import constants
from ganeti import errors
from ganeti import hypervisor
from ganeti import objects
from ganeti.cmdlib import base
from ganeti.cmdlib import instance_utils as iu

INSTANCE_CREATE = "create"
INSTANCE_IMPORT = "import"
INSTANCE_REMOTE_IMPORT = "remote-import"
FILE_TEMPLATES = (constants.DT_FILE, constants.DT_SHARED_FILE)
SUPPORTED_TEMPLATES = (constants.DT_DISKLESS,) + FILE_TEMPLATES
DISK_MODES = ("rw", "ro")
FD_LOOP = "loop"
FILE_DRIVERS = ("loop", "blktap", "blktap2")
MAX_DISKS = 16
MAX_NICS = 8
VALUE_AUTO = "auto"
VALUE_GENERATE = "generate"
VALUE_NONE = "none"
VALUE_POOL = "pool"
# How the node's free disk space is asked for, per template.
_STORAGE_DIR_ATTR = {constants.DT_FILE: "file_storage_dir",
                     constants.DT_SHARED_FILE: "shared_file_storage_dir"}


def _inval(msg):
    return errors.OpPrereqError(msg, errors.ECODE_INVAL)


def compute_disks(disks):
    """Validated disk specifications: [{"size", "mode", "name"}]."""
    result = []
    for disk in disks or []:
        if not isinstance(disk, dict):
            raise _inval("Invalid disk specification '%s'" % (disk,))
        mode = disk.get("mode", "rw")
        if mode not in DISK_MODES:
            raise _inval("Invalid disk access mode '%s'" % mode)
        if "adopt" in disk:
            raise _inval("Disk adoption is not supported for this disk"
                         " template")
        size = disk.get("size")
        if size is None:
            raise _inval("Missing disk size")
        try:
            size = int(size)
        except (TypeError, ValueError):
            raise _inval("Invalid disk size '%s'" % size)
        name = disk.get("name")
        if isinstance(name, str) and name.lower() == VALUE_NONE:
            name = None
        result.append({"size": size, "mode": mode, "name": name})
    return result


def ipolicy_violations(ipolicy, mem_size, cpu_count, disk_count, nic_count,
                       disk_sizes, spindle_use, disk_template):
    """Ganeti's ComputeIPolicySpecViolation: a list of texts."""
    checks = [(constants.ISPEC_MEM_SIZE, "", mem_size),
              (constants.ISPEC_CPU_COUNT, "", cpu_count),
              (constants.ISPEC_NIC_COUNT, "", nic_count),
              (constants.ISPEC_SPINDLE_USE, "", spindle_use)]
    checks += [(constants.ISPEC_DISK_SIZE, str(idx), size)
               for idx, size in enumerate(disk_sizes)]
    if disk_template != constants.DT_DISKLESS:
        checks.append((constants.ISPEC_DISK_COUNT, "", disk_count))
    allowed = ipolicy.get("disk-templates")
    if allowed is not None and disk_template not in allowed:
        return ["Disk template %s is not allowed (allowed templates %s)" %
                (disk_template, ", ".join(allowed))]
    best = None
    for minmax in ipolicy.get("minmax") or []:
        errs = []
        for name, qualifier, value in checks:
            if value is None:
                continue
            low = minmax["min"].get(name, value)
            high = minmax["max"].get(name, value)
            if not low <= value <= high:
                full = "%s/%s" % (name, qualifier) if qualifier else name
                errs.append("%s value %s is not in range [%s, %s]" %
                            (full, value, low, high))
        if not errs:
            return []
        if best is None or len(errs) < len(best):
            best = errs
    return best or []


class LUInstanceCreate(base.LogicalUnit):
    """Create an instance: disks, config entry, OS install, start."""

    HPATH = "instance-add"
    HTYPE = "INSTANCE"
    REQ_BGL = False

    # --- arguments ---

    def check_arguments(self):
        op = self.op
        if op.mode != INSTANCE_CREATE:
            raise _inval("Instance creation mode '%s' is not supported" %
                         op.mode)
        op.instance_name = op.instance_name.rstrip(".") if \
            op.instance_name else op.instance_name
        if op.ip_check and not op.name_check:
            raise _inval("Cannot do IP address check without a name check")
        if op.no_install and op.start:
            self.log_info("No-installation mode selected, disabling"
                          " startup")
            op.start = False
        if not op.os_type and not op.no_install:
            raise _inval("No guest OS or OS image specified")
        if op.file_driver and op.file_driver not in FILE_DRIVERS:
            raise _inval("Invalid file driver name '%s'" % op.file_driver)
        if op.file_storage_dir and os.path.isabs(op.file_storage_dir):
            raise _inval("File storage directory path not absolute")
        if len(op.disks or []) > MAX_DISKS:
            raise _inval("Instance has too many disks (%d), cannot be more"
                         " than %d" % (len(op.disks), MAX_DISKS))
        if len(op.nics or []) > MAX_NICS:
            raise _inval("Instance has too many network interfaces (%d),"
                         " cannot be more than %d" %
                         (len(op.nics), MAX_NICS))
        self.disk_specs = compute_disks(op.disks)
        if op.name_check:
            from ganeti import bootstrap
            hostname, address = bootstrap.resolve_hostname(op.instance_name)
            op.instance_name = hostname
            self.check_ip = address
        else:
            self.check_ip = None
        from ganeti import iallocator
        iallocator.check_iallocator_or_node(self.cfg, op, "iallocator",
                                            "pnode")

    def expand_names(self):
        cfg = self.cfg
        self.needed_locks[constants.LOCKS_INSTANCE] = [self.op.instance_name]
        if self.op.pnode is not None:
            from ganeti.cmdlib.node import expand_node_name
            self.op.pnode_uuid, self.op.pnode = expand_node_name(
                cfg, self.op.pnode)
            nodes = [self.op.pnode_uuid]
            if self.op.snode:
                self.op.snode_uuid, self.op.snode = expand_node_name(
                    cfg, self.op.snode)
                nodes.append(self.op.snode_uuid)
            self.needed_locks[constants.LOCKS_NODE] = nodes
        else:
            self.needed_locks[constants.LOCKS_NODE] = base.ALL_SET
        self.share_locks[constants.LOCKS_NODE] = 1

    # --- prerequisites ---

    def _check_template(self, cluster):
        op = self.op
        enabled = cluster.enabled_disk_templates or []
        if op.disk_template is None:
            if not enabled:
                raise _inval("No disk template specified and no enabled"
                             " disk templates")
            op.disk_template = enabled[0]
        if op.disk_template not in enabled:
            raise errors.OpPrereqError(
                "Cannot create an instance with disk template '%s', because"
                " it is not enabled in the cluster. Enabled disk templates"
                " are: %s." % (op.disk_template, ",".join(enabled)),
                errors.ECODE_STATE)
        if op.disk_template not in SUPPORTED_TEMPLATES:
            raise _inval("Disk template '%s' is not supported by this"
                         " version" % op.disk_template)
        if op.disk_template == constants.DT_DISKLESS:
            if self.disk_specs:
                raise _inval("Disk template 'diskless' does not support"
                             " disks")
        elif not self.disk_specs:
            raise _inval("No disks specified for disk template '%s'" %
                         op.disk_template)
        if op.snode and op.disk_template != constants.DT_DRBD8:
            self.log_warning("Secondary node will be ignored on non-mirrored"
                             " disk template")
            op.snode = None

    def _check_hypervisor(self, cluster):
        op = self.op
        enabled = cluster.enabled_hypervisors or []
        if op.hypervisor is None:
            op.hypervisor = enabled[0]
        if op.hypervisor not in enabled:
            raise errors.OpPrereqError(
                "Selected hypervisor (%s) not enabled in the cluster (%s)" %
                (op.hypervisor, ",".join(enabled)), errors.ECODE_STATE)
        globals_given = sorted(set(op.hvparams or {}) &
                               constants.HVC_GLOBALS)
        if globals_given:
            raise _inval("The following hypervisor parameters are global and"
                         " cannot be customized at instance level, please"
                         " modify them at cluster level: %s" %
                         ", ".join(globals_given))
        known = constants.HVC_DEFAULTS.get(op.hypervisor, {})
        for key in op.hvparams or {}:
            if key not in known:
                raise _inval("Unknown hypervisor parameter '%s' for"
                             " hypervisor %s" % (key, op.hypervisor))
        self.hv_full = cluster.fill_hv(op.hypervisor, op.hvparams,
                                       os_name=self._os_name())
        hv_class = hypervisor.get_hypervisor_class(op.hypervisor)
        hv_class.check_parameter_syntax(self.hv_full)

    def _check_beparams(self, cluster):
        from ganeti import cli_opts
        bep = dict(self.op.beparams or {})
        cli_opts.force_dict_type(bep, cli_opts.BES_PARAMETER_COMPAT)
        bep = objects.upgrade_be_params(bep)
        self.op.beparams = bep
        self.be_full = cluster.fill_be(bep)
        if self.be_full[constants.BE_MINMEM] > \
                self.be_full[constants.BE_MAXMEM]:
            raise _inval("Minimum memory (%s) is bigger than maximum memory"
                         " (%s)" % (self.be_full[constants.BE_MINMEM],
                                    self.be_full[constants.BE_MAXMEM]))

    def _os_name(self):
        return (self.op.os_type or "").split("+", 1)[0] or None

    def _compute_nics(self, cluster):
        """Validated NIC specs (MACs generated later, in exec_)."""
        specs = []
        macs = set()
        for idx, nic in enumerate(self.op.nics or []):
            if not isinstance(nic, dict):
                raise _inval("Invalid NIC specification '%s'" % (nic,))
            params = {}
            for key in (constants.NIC_MODE, constants.NIC_LINK,
                        constants.NIC_VLAN):
                if nic.get(key) is not None:
                    params[key] = nic[key]
            filled = cluster.fill_nic(params)
            mode = filled[constants.NIC_MODE]
            if mode not in constants.NIC_VALID_MODES:
                raise _inval("Invalid NIC mode '%s'" % mode)
            if nic.get("network") not in (None, "", VALUE_NONE):
                raise _inval("Networks are not supported for instance NICs"
                             " yet")
            ip = nic.get("ip")
            if ip is None or str(ip).lower() == VALUE_NONE:
                ip = None
            elif str(ip).lower() == VALUE_AUTO:
                if not self.op.name_check:
                    raise _inval("IP address set to auto but name checks"
                                 " have been skipped")
                ip = self.check_ip
            elif str(ip).lower() == VALUE_POOL:
                raise _inval("if ip=pool, parameter network must be passed")
            else:
                import socket
                from ganeti import bootstrap
                if not (bootstrap.is_valid_ip(ip) or
                        bootstrap.is_valid_ip(ip, socket.AF_INET6)):
                    raise _inval("Invalid IP address '%s'" % ip)
            if mode == constants.NIC_MODE_ROUTED and not ip:
                raise _inval("Routed nic mode requires an ip address")
            mac = nic.get("mac") or VALUE_AUTO
            if mac not in (VALUE_AUTO, VALUE_GENERATE):
                mac = mac.lower()
                if not _valid_mac(mac):
                    raise _inval("Invalid MAC address '%s'" % mac)
                if mac in macs or mac in self._used_macs():
                    raise errors.OpPrereqError(
                        "MAC address %s already in use in cluster" % mac,
                        errors.ECODE_NOTUNIQUE)
                macs.add(mac)
            name = nic.get("name")
            if isinstance(name, str) and name.lower() == VALUE_NONE:
                name = None
            specs.append({"mac": mac, "ip": ip, "nicparams": params,
                          "name": name, "filled": filled, "idx": idx})
        return specs

    def _used_macs(self):
        return set(nic.mac for inst in
                   self.cfg.get_all_instances_info().values()
                   for nic in inst.nics or [] if nic.mac)

    def _check_os(self, pnode):
        """Ganeti's CheckNodeHasOS + CheckOSParams on the primary node."""
        if not self.op.os_type:
            return
        checks = ["parameters"] if self.op.osparams else []
        result = self.rpc.call_single(
            "os_validate", pnode.name,
            [True, self.op.os_type, checks, dict(self.op.osparams or {}),
             bool(self.op.force_variant)])
        result.raise_on_failure(
            "OS '%s' not in supported OS list for node %s" %
            (self.op.os_type, pnode.name), prereq=True,
            ecode=errors.ECODE_INVAL)

    def _run_allocator(self):
        """Ask the instance allocator ``op.iallocator`` for the node(s)."""
        from ganeti import iallocator
        op = self.op
        whitelist = None
        if op.opportunistic_locking:
            whitelist = self.owned(constants.LOCKS_NODE)
        nics = [{"mac": spec["mac"], "ip": spec["ip"], "network": None,
                 "mode": spec["filled"][constants.NIC_MODE],
                 "link": spec["filled"][constants.NIC_LINK]}
                for spec in self.nic_specs]
        ial = iallocator.allocate(
            self, op.iallocator, iallocator.MODE_ALLOC,
            node_whitelist=whitelist, name=op.instance_name,
            disk_template=op.disk_template, group_name=op.group_name,
            os=op.os_type, tags=op.tags, nics=nics,
            vcpus=self.be_full[constants.BE_VCPUS],
            memory=self.be_full[constants.BE_MAXMEM],
            spindle_use=self.be_full[constants.BE_SPINDLE_USE],
            disks=self.disk_specs, hypervisor=op.hypervisor)
        from ganeti.cmdlib.node import expand_node_name
        op.pnode_uuid, op.pnode = expand_node_name(self.cfg, ial.result[0])
        self.log_info("Selected nodes for instance %s via iallocator %s: %s",
                      op.instance_name, op.iallocator,
                      ", ".join(ial.result))
        if iallocator.required_nodes(op.disk_template) == 2:
            op.snode_uuid, op.snode = expand_node_name(self.cfg,
                                                       ial.result[1])

    def _storage_dir(self, cluster):
        attr = _STORAGE_DIR_ATTR.get(self.op.disk_template)
        if attr is None:
            return None
        base_dir = getattr(cluster, attr) or ""
        if not base_dir:
            raise errors.OpPrereqError(
                "Cluster file storage dir for '%s' storage type not"
                " defined" % self.op.disk_template, errors.ECODE_STATE)
        return base_dir, os.path.normpath(os.path.join(
            base_dir, self.op.file_storage_dir or "", self.op.instance_name))

    def _check_disk_space(self, pnode, base_dir):
        needed = sum(d["size"] for d in self.disk_specs)
        result = self.rpc.call_single("node_info", pnode.name,
                                      [[[self.op.disk_template, base_dir]],
                                       []])
        result.raise_on_failure("Cannot get current information from node"
                                " %s" % pnode.name, prereq=True,
                                ecode=errors.ECODE_ENVIRON)
        try:
            free = result.payload[1][0].get("storage_free")
        except (TypeError, IndexError, AttributeError):
            free = None
        if not isinstance(free, int):
            raise errors.OpPrereqError(
                "Can't compute free disk space on node %s for storage %s,"
                " result was '%s'" % (pnode.name, base_dir, free),
                errors.ECODE_ENVIRON)
        if needed > free:
            raise errors.OpPrereqError(
                "Not enough disk space on target node %s vg %s: required %d"
                " MiB, available %d MiB" % (pnode.name, base_dir, needed,
                                            free), errors.ECODE_NORES)

    def check_prereq(self):
        cfg = self.cfg
        op = self.op
        cluster = cfg.get_cluster_info()
        if cfg.get_instance_info_by_name(op.instance_name) is not None:
            raise errors.OpPrereqError("Instance '%s' is already in the"
                                       " cluster" % op.instance_name,
                                       errors.ECODE_EXISTS)
        if self.check_ip and op.ip_check:
            from ganeti.backend import node as node_backend
            if node_backend.tcp_ping(self.check_ip,
                                     constants.DEFAULT_NODED_PORT):
                raise errors.OpPrereqError(
                    "IP %s of instance %s already in use" %
                    (self.check_ip, op.instance_name),
                    errors.ECODE_NOTUNIQUE)
        self._check_template(cluster)
        self._check_hypervisor(cluster)
        self._check_beparams(cluster)
        self.nic_specs = self._compute_nics(cluster)
        if op.pnode is None:
            self._run_allocator()
        pnode = cfg.get_node_info(op.pnode_uuid)
        if pnode.offline:
            raise errors.OpPrereqError("Cannot use offline primary node '%s'"
                                       % pnode.name, errors.ECODE_STATE)
        if pnode.drained:
            raise errors.OpPrereqError("Cannot use drained primary node '%s'"
                                       % pnode.name, errors.ECODE_STATE)
        if not pnode.vm_capable:
            raise errors.OpPrereqError("Can't use non-vm_capable primary node"
                                       " '%s'" % pnode.name,
                                       errors.ECODE_STATE)
        self.pnode = pnode
        group = cfg.get_node_group(pnode.group)
        ipolicy = cluster.fill_ipolicy(group)
        res = ipolicy_violations(
            ipolicy, self.be_full[constants.BE_MAXMEM],
            self.be_full[constants.BE_VCPUS], len(self.disk_specs),
            len(self.nic_specs), [d["size"] for d in self.disk_specs],
            self.be_full[constants.BE_SPINDLE_USE], op.disk_template)
        if res:
            msg = ("Instance allocation to group %s (%s) violates policy: %s"
                   % (group.name if group else pnode.group,
                      pnode.group, ", ".join(res)))
            if op.ignore_ipolicy:
                self.log_warning(msg)
            else:
                raise errors.OpPrereqError(msg, errors.ECODE_INVAL)
        self._check_os(pnode)
        dirs = self._storage_dir(cluster)
        self.storage_dir = dirs[1] if dirs else None
        if dirs:
            self._check_disk_space(pnode, dirs[0])
        if op.start:
            iu.check_node_free_memory(
                self, pnode.uuid, "creating instance %s" % op.instance_name,
                self.be_full[constants.BE_MAXMEM], op.hypervisor,
                self.hv_full)

    # --- hooks ---

    def build_hooks_env(self):
        op = self.op
        env = {
            "INSTANCE_NAME": op.instance_name,
            "INSTANCE_PRIMARY": op.pnode or "",
            "INSTANCE_SECONDARIES": "",
            "INSTANCE_OS_TYPE": op.os_type or "",
            "INSTANCE_STATUS": "up" if op.start else "down",
            "INSTANCE_HYPERVISOR": op.hypervisor or "",
            "INSTANCE_DISK_TEMPLATE": op.disk_template or "",
            "INSTANCE_ADD_MODE": op.mode,
            "INSTANCE_DISK_COUNT": len(self.disk_specs),
            "INSTANCE_NIC_COUNT": len(getattr(self, "nic_specs", [])),
        }
        for idx, disk in enumerate(self.disk_specs):
            env["INSTANCE_DISK%d_SIZE" % idx] = disk["size"]
            env["INSTANCE_DISK%d_MODE" % idx] = disk["mode"]
        return env

    def build_hooks_nodes(self):
        names = [self.cfg.get_master_node_name()]
        if self.op.pnode and self.op.pnode not in names:
            names.append(self.op.pnode)
        return names, names

    # --- execution ---

    def _build_disks(self, ec_id, inst_uuid):
        disks = []
        template = self.op.disk_template
        driver = self.op.file_driver or FD_LOOP
        for idx, spec in enumerate(self.disk_specs):
            disk_uuid = self.cfg.generate_uuid(ec_id)
            if template == constants.DT_FILE:
                logical_id = [driver, "%s/%s.file.disk%d" %
                              (self.storage_dir, disk_uuid, idx)]
            else:
                logical_id = [driver, "%s/%s.sharedfile.disk%d" %
                              (self.storage_dir, disk_uuid, idx)]
            disks.append(objects.Disk(
                uuid=disk_uuid, dev_type=template, logical_id=logical_id,
                children=[], nodes=[self.pnode.uuid],
                iv_name="disk/%d" % idx, size=spec["size"],
                mode=spec["mode"], name=spec["name"], params={},
                spindles=None, forthcoming=False))
        return disks

    def _build_nics(self, ec_id):
        nics = []
        for spec in self.nic_specs:
            mac = spec["mac"]
            if mac in (VALUE_AUTO, VALUE_GENERATE):
                mac = self.cfg.generate_mac(ec_id=ec_id)
            else:
                try:
                    self.cfg.reserve_mac(mac, ec_id)
                except errors.ReservationError:
                    raise errors.OpPrereqError(
                        "MAC address %s already in use in cluster" % mac,
                        errors.ECODE_NOTUNIQUE)
            nics.append(iu.new_nic(mac, ip=spec["ip"],
                                   nicparams=spec["nicparams"],
                                   name=spec["name"],
                                   uuid=self.cfg.generate_uuid(ec_id)))
        return nics

    def exec_(self, feedback_fn):
        ec_id = self.job_id if self.job_id is not None else \
            "create-%s" % self.op.instance_name
        try:
            return self._exec(feedback_fn, ec_id)
        finally:
            self.cfg.drop_ec_reservations(ec_id)

    def _exec(self, feedback_fn, ec_id):
        op = self.op
        inst_uuid = self.cfg.generate_uuid(ec_id)
        nics = self._build_nics(ec_id)
        disks = self._build_disks(ec_id, inst_uuid)
        instance = objects.Instance(
            uuid=inst_uuid, name=op.instance_name, os=op.os_type or "",
            primary_node=self.pnode.uuid, hypervisor=op.hypervisor,
            hvparams=dict(op.hvparams or {}), beparams=dict(op.beparams),
            osparams=dict(op.osparams or {}), osparams_private={},
            admin_state=constants.ADMINST_DOWN,
            admin_state_source=constants.ADMIN_SOURCE, nics=nics, disks=[],
            disks_active=bool(disks), network_port=None, forthcoming=False,
            tags=list(op.tags or []))
        feedback_fn("* creating instance disks...")
        try:
            iu.create_disks(self, instance, disks)
        except errors.OpExecError:
            self.log_warning("Creating instance disks failed, reverting...")
            raise
        added = False
        try:
            if op.hypervisor in iu.HTS_REQ_PORT:
                instance.network_port = self.cfg.allocate_port()
            feedback_fn("adding instance %s to cluster config" %
                        op.instance_name)
            self.cfg.add_instance(instance, ec_id, disks=disks)
            added = True
            feedback_fn("adding disks to cluster config")
            instance = self.cfg.get_instance_info(inst_uuid)
            if disks and not op.no_install and op.os_type:
                feedback_fn("* running the instance OS create scripts...")
                result = self.rpc.call_single(
                    "instance_os_add", self.pnode.name,
                    [iu.instance_rpc_dict(self.cfg, instance), False,
                     getattr(op, "debug_level", 0) or 0])
                result.raise_on_failure("Could not add os for instance %s on"
                                        " node %s" % (op.instance_name,
                                                      self.pnode.name))
            if op.start:
                iu.set_admin_state(self, instance, constants.ADMINST_UP)
                feedback_fn("* starting instance...")
                iu.start_instance_on_node(self, instance, self.pnode.uuid)
        except Exception:
            self._undo(instance, disks, added)
            raise
        return [self.pnode.name]

    def _undo(self, instance, disks, added):
        """Take back a half-done creation: stop, disks, config entry."""
        self.log_warning("Instance creation failed, removing instance %s",
                         instance.name)
        try:
            if added and self.op.start:
                iu.shutdown_instance_on_node(self, instance, self.pnode.uuid,
                                             0)
            iu.remove_disks(self, instance, disks=disks)
        except Exception:  # pylint: disable=broad-except
            logging.exception("Cleanup of instance %s failed", instance.name)
        if added:
            try:
                self.cfg.remove_instance(instance.uuid)
            except errors.ConfigurationError:
                logging.exception("Can't remove instance %s from config",
                                  instance.name)
        elif instance.network_port is not None:
            self.cfg.add_tcp_udp_port(instance.network_port)


def _valid_mac(mac):
    parts = mac.split(":")
    if len(parts) != 6:
        return False
    try:
        return all(len(p) == 2 and 0 <= int(p, 16) < 256 for p in parts)
    except ValueError:
        return False
