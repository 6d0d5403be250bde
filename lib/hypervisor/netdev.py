"""Host side of instance NICs: tap devices and their configuration.

``open_tap`` creates a tap through ``/dev/net/tun`` and returns its open
file descriptors: qemu inherits them, so the tap lives exactly as long as
the qemu process (nothing to clean up after a crash). ``configure_nic``
connects the tap as the NIC's mode asks:

* ``bridged``: enslaved to the bridge named by ``link``;
* ``routed``: a /32 (or /128) route to the NIC's IP through the tap, in
  routing table ``link`` if given, with proxy ARP and forwarding on;
* ``openvswitch``: added as a port of the switch ``link``.

If ``/etc/ganeti/kvm-ifup-custom`` exists and is executable it replaces
the built-in configuration, and gets Ganeti's environment (INSTANCE, MAC,
MODE, INTERFACE, INTERFACE_INDEX, INTERFACE_UUID, INTERFACE_NAME, IP,
LINK, BRIDGE, VLAN, TAGS).
"""

import fcntl
import ipaddress
import os
import struct

from ganeti import constants
from ganeti import errors
from ganeti import pathutils
from ganeti.utils import process

TUN_DEVICE = "/dev/net/tun"
TUNSETIFF = 0x400454ca
IFF_TAP = 0x0002
IFF_MULTI_QUEUE = 0x0100
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
IFNAMSIZ = 16
CUSTOM_IFUP = "kvm-ifup-custom"


def open_tap(name="tap%d", vnet_hdr=True, queues=1):
    """Create a tap; ``(name, [fd per queue])``.

    ``name`` may contain ``%d`` for the kernel to pick a free number.
    """
    flags = IFF_TAP | IFF_NO_PI
    if vnet_hdr:
        flags |= IFF_VNET_HDR
    if queues > 1:
        flags |= IFF_MULTI_QUEUE
    fds = []
    try:
        for _ in range(queues):
            try:
                fd = os.open(TUN_DEVICE, os.O_RDWR)
            except OSError as err:
                raise errors.HypervisorError("Failed to open %s: %s" %
                                             (TUN_DEVICE, err))
            fds.append(fd)
            ifr = struct.pack("%dsH" % IFNAMSIZ, name.encode("ascii"),
                              flags) + b"\0" * 22
            try:
                res = fcntl.ioctl(fd, TUNSETIFF, ifr)
            except OSError as err:
                raise errors.HypervisorError("Failed to allocate a new TAP"
                                             " device: %s" % err)
            name = res[:IFNAMSIZ].rstrip(b"\0").decode("ascii")
            os.set_inheritable(fd, True)
    except Exception:
        for fd in fds:
            os.close(fd)
        raise
    return name, fds


def _run(tap, argv):
    """Run one configuration command; errors in Ganeti's words."""
    result = process.run_cmd(argv, reset_env=True, timeout=60)
    if result.failed:
        raise errors.HypervisorError(
            "Failed to configure interface %s: %s; network configuration"
            " script output: %s: %s" % (tap, result.fail_reason,
                                        " ".join(argv),
                                        result.output.strip()))


def _write_sysctl(path, value):
    try:
        with open(path, "w") as fh:
            fh.write(value)
    except OSError:
        pass  # not fatal: the route still exists


def nic_env(instance, seq, nic, tap):
    """Ganeti's environment for NIC configuration scripts."""
    nicparams = nic.nicparams or {}
    env = {
        "PATH": "/sbin:/bin:/usr/sbin:/usr/bin",
        "INSTANCE": instance.name,
        "MAC": nic.mac or "",
        "MODE": nicparams.get(constants.NIC_MODE, ""),
        "INTERFACE": tap,
        "INTERFACE_INDEX": str(seq),
        "INTERFACE_UUID": nic.uuid or "",
        "TAGS": " ".join(instance.tags or []),
    }
    if nic.ip:
        env["IP"] = nic.ip
    if nic.name:
        env["INTERFACE_NAME"] = nic.name
    if nicparams.get(constants.NIC_LINK):
        env["LINK"] = nicparams[constants.NIC_LINK]
    if constants.NIC_VLAN in nicparams:
        env["VLAN"] = nicparams[constants.NIC_VLAN]
    if env["MODE"] == constants.NIC_MODE_BRIDGED:
        env["BRIDGE"] = nicparams.get(constants.NIC_LINK, "")
    return env


def configure_nic(instance, seq, nic, tap):
    """Connect ``tap`` (NIC number ``seq`` of ``instance``) to the host."""
    custom = os.path.join(pathutils.CONF_DIR, CUSTOM_IFUP)
    if os.access(custom, os.X_OK):
        result = process.run_cmd([custom, tap],
                                 env=nic_env(instance, seq, nic, tap),
                                 reset_env=True, timeout=60)
        if result.failed:
            raise errors.HypervisorError(
                "Failed to configure interface %s: %s; network configuration"
                " script output: %s" % (tap, result.fail_reason,
                                        result.output))
        return
    nicparams = nic.nicparams or {}
    mode = nicparams.get(constants.NIC_MODE, constants.NIC_MODE_BRIDGED)
    link = nicparams.get(constants.NIC_LINK) or ""
    if mode == constants.NIC_MODE_BRIDGED:
        if not link:
            raise errors.HypervisorError("Failed to configure interface %s:"
                                         " bridged NIC without a bridge" %
                                         tap)
        _run(tap, ["ip", "link", "set", tap, "master", link, "up"])
    elif mode == constants.NIC_MODE_ROUTED:
        _run(tap, ["ip", "link", "set", tap, "up"])
        _write_sysctl("/proc/sys/net/ipv4/conf/%s/proxy_arp" % tap, "1")
        _write_sysctl("/proc/sys/net/ipv4/ip_forward", "1")
        if nic.ip:
            addr = ipaddress.ip_address(nic.ip)
            prefix = "/32" if addr.version == 4 else "/128"
            argv = ["ip", "-%d" % addr.version, "route", "replace",
                    nic.ip + prefix]
            if link:
                argv += ["table", link]
            _run(tap, argv + ["proto", "static", "dev", tap])
    elif mode == constants.NIC_MODE_OVS:
        _run(tap, ["ovs-vsctl", "--may-exist", "add-port", link, tap])
        _run(tap, ["ip", "link", "set", tap, "up"])
    else:
        raise errors.HypervisorError("Failed to configure interface %s:"
                                     " unknown NIC mode '%s'" % (tap, mode))
