"""Prepare a node to join a cluster; run by the master over SSH.

Usage: ``python3 -m ganeti.tools.node_daemon_setup < document.json``

The JSON document on stdin carries what a node needs before the master can
talk to it through the node daemon::

  cluster_name              (required) the cluster's name
  node_daemon_certificate   (required) PEM private key + certificate,
                            installed as server.pem
  hmac_key, cluster_domain_secret   the cluster's secrets (optional)
  ssconf                    {key: value} written as ssconf files (optional)
  file_storage_paths        content of /etc/ganeti/file-storage-paths
  start_node_daemon         (re)start ganeti-noded afterwards (bool)

Exit status 0 on success; otherwise a message on stderr and status 1.
Everything else (config.data, known_hosts, rapi.pem...) is sent later by
the master through the node daemon.
"""

import json
import os
import sys

from ganeti import constants
from ganeti import crypto
from ganeti import errors
from ganeti import pathutils
from ganeti.utils import io
from ganeti.utils import process

REQUIRED_KEYS = ("cluster_name", "node_daemon_certificate")
OPTIONAL_KEYS = ("node_name", "hmac_key", "cluster_domain_secret", "ssconf",
                 "file_storage_paths", "start_node_daemon")


class SetupError(Exception):
    """A reason to refuse the setup; printed to stderr."""


def parse_document(text):
    """The setup document as a dict, with its keys checked."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise SetupError("Invalid JSON data: %s" % err)
    if not isinstance(data, dict):
        raise SetupError("Invalid data: expected a JSON object")
    for key in REQUIRED_KEYS:
        if not data.get(key):
            raise SetupError("Missing required key '%s'" % key)
    unknown = set(data) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)
    if unknown:
        raise SetupError("Unknown keys: %s" % ", ".join(sorted(unknown)))
    if "ssconf" in data and not isinstance(data["ssconf"], dict):
        raise SetupError("ssconf must be a dictionary")
    return data


def verify_certificate(pem):
    """Refuse a certificate that does not load or lacks its own key."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        info = crypto.load_cert_info(data)
        matches = crypto.check_key_matches(data)
    except (errors.X509CertError, ValueError) as err:
        reason = err.args[-1] if err.args else err
        raise SetupError("Invalid node daemon certificate: %s" % (reason,))
    if not matches:
        raise SetupError("The node daemon certificate's key does not match"
                         " its certificate")
    if info["expired"]:
        raise SetupError("The node daemon certificate has expired")
    return data


def verify_cluster_name(name):
    """A node may join only the cluster it already belongs to, if any."""
    path = pathutils.ssconf_file(constants.SS_CLUSTER_NAME)
    try:
        current = io.read_one_line(path).strip()
    except OSError:
        return
    if current and current != name:
        raise SetupError("Current cluster name is '%s'" % current)


def _write_ssconf(values):
    from ganeti.backend import files
    from ganeti.backend.common import RPCFail
    try:
        files.write_ssconf_files(values)
    except RPCFail as err:
        raise SetupError("Can't write ssconf files: %s" % err)


def write_files(data, cert_pem):
    """Install certificate, secrets, ssconf and file storage paths."""
    os.makedirs(pathutils.DATA_DIR, 0o755, exist_ok=True)
    io.write_file(pathutils.NODED_CERT_FILE, cert_pem, mode=0o400)
    for key, path in (("hmac_key", pathutils.CONFD_HMAC_KEY),
                      ("cluster_domain_secret",
                       pathutils.CLUSTER_DOMAIN_SECRET_FILE)):
        value = data.get(key)
        if value:
            text = value if value.endswith("\n") else value + "\n"
            io.write_file(path, text, mode=0o400)
    if data.get("ssconf"):
        _write_ssconf(data["ssconf"])
    paths = data.get("file_storage_paths")
    if paths is not None:
        os.makedirs(os.path.dirname(pathutils.FILE_STORAGE_PATHS_FILE),
                    0o755, exist_ok=True)
        io.write_file(pathutils.FILE_STORAGE_PATHS_FILE, paths, mode=0o644)
        # the allowed directories must exist for the storage reports
        for line in paths.splitlines():
            path = line.strip()
            if path and not path.startswith("#"):
                os.makedirs(path, 0o750, exist_ok=True)


def restart_node_daemon():
    """Stop a running noded (it holds the old certificate), start it."""
    from ganeti.backend.common import daemon_util_path
    tool = daemon_util_path()
    process.run_cmd([tool, "stop", constants.NODED], timeout=60)
    result = process.run_cmd([tool, "start", constants.NODED], timeout=120)
    if result.failed:
        raise SetupError("Could not start the node daemon (%s): %s" %
                         (result.fail_reason, result.output.strip()))


def setup(text):
    """Do the whole setup from the document ``text``."""
    data = parse_document(text)
    cert_pem = verify_certificate(data["node_daemon_certificate"])
    verify_cluster_name(data["cluster_name"])
    write_files(data, cert_pem)
    if data.get("start_node_daemon"):
        restart_node_daemon()


def main(argv=None):
    del argv
    try:
        setup(sys.stdin.read())
    except (SetupError, OSError) as err:
        sys.stderr.write("Error: %s\n" % err)
        return constants.EXIT_FAILURE
    return constants.EXIT_SUCCESS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
