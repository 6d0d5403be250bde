"""Master role on this node: daemons, master IP, joining and leaving.

The master IP is configured with ``ip address`` and announced with
gratuitous ARP, or handed to the cluster's external script
(``/etc/ganeti/scripts/master-ip-setup start|stop``) with the environment
Ganeti defines for it.
"""

import logging
import os
import shutil
import subprocess
import threading
import time

from ganeti import constants
from ganeti import pathutils
from ganeti.backend import files
from ganeti.backend.common import fail, read_ssconf, run_daemon_util, \
    daemon_util_path
from ganeti.backend.node import node_has_ip_address
from ganeti.utils import io
from ganeti.utils import process

# Seconds between answering node_leave_cluster and stopping the daemons,
# so that the reply reaches the master first.
LEAVE_STOP_DELAY = 1.0

_MASTER_PARAM_KEYS = ("ip", "netmask", "netdev")


def master_node_name():
    """The master's name according to this node's ssconf."""
    name = read_ssconf(constants.SS_MASTER_NODE)
    if not name:
        fail("Can't read the master node name from ssconf")
    return name


def node_start_master_daemons(no_voting):
    """Start masterd, then rapi (if installed), via daemon-util.

    ``no_voting`` passes ``--no-voting --yes-do-it`` to masterd, for
    clusters where a majority of nodes cannot confirm the master.
    """
    env = {}
    if no_voting:
        env["EXTRA_MASTERD_ARGS"] = "--no-voting --yes-do-it"
    run_daemon_util(["start-master"], env=env)
    return None


def node_stop_master():
    """Stop rapi and masterd (in that order)."""
    run_daemon_util(["stop-master"])
    return None


# --- master IP ---

def _check_master_params(params):
    if not isinstance(params, dict):
        fail("Invalid master parameters %r", params)
    missing = [key for key in _MASTER_PARAM_KEYS if not params.get(key)]
    if missing:
        fail("Master parameters lack %s", ", ".join(missing))
    return (params["ip"], str(params["netmask"]), params["netdev"],
            params.get("ip_family") or constants.IP4_FAMILY)


def master_ip_env(params):
    """The environment of the master IP setup script."""
    ip, netmask, netdev, family = _check_master_params(params)
    return {
        "MASTER_NETDEV": netdev,
        "MASTER_IP": ip,
        "MASTER_NETMASK": netmask,
        "CLUSTER_IP_VERSION": "6" if family == constants.IP6_FAMILY else "4",
    }


def _run_external_script(params, action):
    script = pathutils.EXTERNAL_MASTER_SETUP_SCRIPT
    if not os.access(script, os.X_OK):
        fail("External master IP setup script '%s' is missing or not"
             " executable", script)
    result = process.run_cmd([script, action], env=master_ip_env(params),
                             timeout=constants.RPC_TMO_FAST)
    if result.failed:
        fail("Failed to %s the master IP with the external script: %s;"
             " output: %s", action, result.fail_reason,
             result.output.strip() or "(none)")


def _ip_cmd(args):
    return process.run_cmd(["ip"] + args, reset_env=True, timeout=60)


def _address_args(ip, netmask, netdev, family):
    args = ["%s/%s" % (ip, netmask), "dev", netdev]
    if family != constants.IP6_FAMILY:
        args += ["label", "%s:0" % netdev]
    return args


def _announce(ip, netdev, family):
    """Gratuitous ARP (or unsolicited NA) in the background; best effort."""
    if family == constants.IP6_FAMILY:
        cmd = ["ndisc6", "-q", "-r", "3", ip, netdev]
    else:
        cmd = ["arping", "-q", "-U", "-c", "3", "-I", netdev, "-s", ip, ip]
    threading.Thread(target=process.run_cmd, args=(cmd,),
                     kwargs={"reset_env": True, "timeout": 30},
                     daemon=True).start()


def node_activate_master_ip(master_params, use_external_mip_script):
    """Configure the master IP here (idempotent) and announce it."""
    ip, netmask, netdev, family = _check_master_params(master_params)
    if use_external_mip_script:
        _run_external_script(master_params, "start")
        return None
    if not node_has_ip_address(ip):
        result = _ip_cmd(["address", "add"] +
                         _address_args(ip, netmask, netdev, family))
        if result.failed and "File exists" not in result.output:
            fail("Can't activate master IP %s/%s on %s: %s", ip, netmask,
                 netdev, result.output.strip() or result.fail_reason)
    _announce(ip, netdev, family)
    return None


def node_deactivate_master_ip(master_params, use_external_mip_script):
    """Remove the master IP from this node (fine if it is not there)."""
    ip, netmask, netdev, family = _check_master_params(master_params)
    if use_external_mip_script:
        _run_external_script(master_params, "stop")
        return None
    if not node_has_ip_address(ip):
        return None
    result = _ip_cmd(["address", "del"] +
                     _address_args(ip, netmask, netdev, family))
    if result.failed and node_has_ip_address(ip):
        fail("Can't deactivate master IP %s/%s on %s: %s", ip, netmask,
             netdev, result.output.strip() or result.fail_reason)
    return None


def node_change_master_netmask(old_netmask, netmask, master_ip,
                               master_netdev):
    """Re-add the master IP with a new prefix length, drop the old one."""
    if str(old_netmask) == str(netmask):
        return None
    if not node_has_ip_address(master_ip):
        fail("The master IP address is not up, not attempting to change its"
             " netmask")
    result = _ip_cmd(["address", "add", "%s/%s" % (master_ip, netmask),
                      "dev", master_netdev, "label", "%s:0" % master_netdev])
    if result.failed:
        fail("Could not set the new netmask on the master IP address: %s",
             result.output.strip())
    result = _ip_cmd(["address", "del", "%s/%s" % (master_ip, old_netmask),
                      "dev", master_netdev])
    if result.failed:
        fail("Could not bring down the master IP address with the old"
             " netmask: %s", result.output.strip())
    return None


# --- membership ---

def _is_master():
    return read_ssconf(constants.SS_MASTER_NODE) == pathutils.get_hostname()


def node_demote_from_mc():
    """Drop this node's copy of config.data (keeping a backup)."""
    if _is_master():
        fail("This is the master node, will not demote itself")
    cfg = pathutils.CLUSTER_CONF_FILE
    if os.path.isfile(cfg):
        backup = "%s.backup-%s" % (cfg, time.strftime("%Y-%m-%d_%H_%M_%S"))
        shutil.copy2(cfg, backup)
        io.remove_file(cfg)
    return None


def _clean_data_dir():
    """Remove every regular file in DATA_DIR (config, ssconf, certs...)."""
    try:
        names = os.listdir(pathutils.DATA_DIR)
    except FileNotFoundError:
        return
    for name in names:
        path = os.path.join(pathutils.DATA_DIR, name)
        if os.path.isfile(path) or os.path.islink(path):
            io.remove_file(path)


def _stop_all_later():
    def stop():
        time.sleep(LEAVE_STOP_DELAY)
        logging.info("Left the cluster, stopping all daemons")
        try:
            subprocess.Popen([daemon_util_path(), "stop-all"],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             start_new_session=True, close_fds=True)
        except OSError as err:
            logging.error("Can't run daemon-util stop-all: %s", err)
    threading.Thread(target=stop, name="leave-cluster", daemon=True).start()


def node_leave_cluster(modify_ssh_setup):
    """Forget everything about the cluster, then stop the daemons.

    Removes config.data, ssconf, certificates and secrets, the RAPI users
    and the job queue. ``modify_ssh_setup`` is accepted for compatibility;
    SSH keys are not managed by this implementation yet.
    """
    del modify_ssh_setup
    _clean_data_dir()
    for path in (pathutils.RAPI_USERS_FILE, pathutils.NODED_CLIENT_CERT_FILE):
        io.remove_file(path)
    files.jobqueue_purge()
    _stop_all_later()
    return None


RPC_FUNCTIONS = {
    "master_node_name": master_node_name,
    "node_start_master_daemons": node_start_master_daemons,
    "node_stop_master": node_stop_master,
    "node_activate_master_ip": node_activate_master_ip,
    "node_deactivate_master_ip": node_deactivate_master_ip,
    "node_change_master_netmask": node_change_master_netmask,
    "node_demote_from_mc": node_demote_from_mc,
    "node_leave_cluster": node_leave_cluster,
}
