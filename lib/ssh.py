"""SSH between nodes: root's keys, known_hosts, and running commands.

The master reaches a new node over SSH exactly once, to install the
cluster certificate and start its node daemon; everything afterwards goes
through the node daemon. Commands run through paramiko, with the host key
checked against the known_hosts files (root's own and the cluster's, whose
entries are keyed by the cluster name as Ganeti's ``HostKeyAlias``).
"""

import logging
import os
import pwd
import subprocess

from ganeti import errors
from ganeti import pathutils

# key type -> private key file name in ~/.ssh, in order of preference
KEY_FILES = (
    ("rsa", "id_rsa"),
    ("ed25519", "id_ed25519"),
    ("ecdsa", "id_ecdsa"),
    ("dsa", "id_dsa"),
)
DEFAULT_PORT = 22
CONNECT_TIMEOUT = 10.0
# An ssh client reports its own failures with this exit code.
EXIT_SSH_FAILURE = 255


def user_ssh_dir(user="root"):
    """``~user/.ssh``; $HOME for the current user when it is ``user``."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise errors.OpExecError("Unknown user '%s'" % user)
    home = entry.pw_dir
    if entry.pw_uid == os.getuid() and os.environ.get("HOME"):
        home = os.environ["HOME"]
    return os.path.join(home, ".ssh")


def private_key_files(ssh_dir=None):
    """Existing private keys in ``ssh_dir``, preferred type first."""
    ssh_dir = ssh_dir or user_ssh_dir()
    return [os.path.join(ssh_dir, name) for _, name in KEY_FILES
            if os.path.isfile(os.path.join(ssh_dir, name))]


def key_file_for(key_type, ssh_dir=None):
    """Path of the private key of ``key_type`` in ``ssh_dir``."""
    ssh_dir = ssh_dir or user_ssh_dir()
    for kind, name in KEY_FILES:
        if kind == key_type:
            return os.path.join(ssh_dir, name)
    raise errors.OpPrereqError("Unsupported SSH key type '%s'" % key_type,
                               errors.ECODE_INVAL)


def init_ssh_setup(key_type="rsa", key_bits=2048, ssh_dir=None):
    """Make sure root has a key pair of ``key_type`` it is authorized with.

    An existing key is kept (the administrator's, or the virtual cluster's
    shared key); otherwise one is generated. Its public half is added to
    ``authorized_keys`` so that the node can reach itself.
    """
    ssh_dir = ssh_dir or user_ssh_dir()
    os.makedirs(ssh_dir, 0o700, exist_ok=True)
    priv = key_file_for(key_type, ssh_dir)
    pub = priv + ".pub"
    if not os.path.exists(priv):
        cmd = ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-f", priv]
        if key_type in ("rsa", "dsa", "ecdsa") and key_bits:
            cmd += ["-b", str(key_bits)]
        result = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise errors.OpExecError("Could not generate SSH key %s: %s" %
                                     (priv, result.stderr.strip()))
    if not os.path.exists(pub):
        return priv
    with open(pub) as fh:
        pub_line = fh.read().strip()
    auth = os.path.join(ssh_dir, "authorized_keys")
    try:
        with open(auth) as fh:
            present = any(line.strip() == pub_line for line in fh)
    except FileNotFoundError:
        present = False
    if not present:
        with open(auth, "a") as fh:
            fh.write(pub_line + "\n")
        os.chmod(auth, 0o600)
    return priv


def read_host_public_key(kind="rsa", config_dir=None):
    """The base64 part of this host's SSH host key of ``kind``, or ""."""
    path = os.path.join(config_dir or pathutils.SSH_CONFIG_DIR,
                        "ssh_host_%s_key.pub" % kind)
    try:
        with open(path) as fh:
            parts = fh.read().split()
    except OSError:
        return ""
    return parts[1] if len(parts) >= 2 else ""


def format_known_hosts(cluster_name, rsa_key, dsa_key=""):
    """The cluster known_hosts text: host keys under the cluster name."""
    lines = []
    if rsa_key:
        lines.append("%s ssh-rsa %s\n" % (cluster_name, rsa_key))
    if dsa_key:
        lines.append("%s ssh-dss %s\n" % (cluster_name, dsa_key))
    return "".join(lines)


def _load_known_hosts(paths):
    """``paramiko.HostKeys`` from every readable file of ``paths``."""
    import paramiko
    keys = paramiko.HostKeys()
    for path in paths:
        if not path or not os.path.isfile(path):
            continue
        try:
            keys.load(path)
        except (IOError, paramiko.SSHException) as err:
            logging.warning("Can't read known hosts file %s: %s", path, err)
    return keys


def host_key_matches(known, names, key):
    """True if ``key`` is recorded for any of ``names`` in ``known``."""
    for name in names:
        entry = known.lookup(name)
        if entry is None:
            continue
        recorded = entry.get(key.get_name())
        if recorded is not None and recorded == key:
            return True
    return False


class _VerifyingPolicy:
    """Accept a host key only if known under the host's names or alias."""

    def __init__(self, known, names, strict):
        self.known = known
        self.names = names
        self.strict = strict

    def missing_host_key(self, client, hostname, key):
        del client
        if not self.strict:
            return
        if host_key_matches(self.known, self.names, key):
            return
        import paramiko
        raise paramiko.SSHException(
            "Host key verification failed for %s (%s key %s not in the"
            " known hosts files)" % (hostname, key.get_name(),
                                     key.get_fingerprint().hex()))


class SshRunner:
    """Runs commands on other nodes as root, with key authentication.

    ``strict_host_key_check`` False accepts any host key (Ganeti's
    ``--no-ssh-key-check``); otherwise the key must be listed for the host
    (name, address) or for the cluster name in one of the known_hosts
    files.
    """

    def __init__(self, cluster_name, user="root", ssh_dir=None,
                 known_hosts_files=None, strict_host_key_check=True,
                 connect_timeout=CONNECT_TIMEOUT):
        self.cluster_name = cluster_name
        self.user = user
        self.ssh_dir = ssh_dir
        self.known_hosts_files = known_hosts_files
        self.strict = strict_host_key_check
        self.connect_timeout = connect_timeout

    def _known_hosts_paths(self):
        if self.known_hosts_files is not None:
            return list(self.known_hosts_files)
        ssh_dir = self.ssh_dir or user_ssh_dir(self.user)
        return [os.path.join(ssh_dir, "known_hosts"),
                pathutils.SSH_KNOWN_HOSTS_FILE]

    def _names_for(self, host, address, port):
        names = [host]
        if address and address != host:
            names.append(address)
        if port != DEFAULT_PORT:
            names = ["[%s]:%d" % (n, port) for n in names] + names
        if self.cluster_name:
            names.append(self.cluster_name)
        return names

    def run(self, host, cmd, stdin=None, timeout=300, address=None,
            port=DEFAULT_PORT):
        """Run ``cmd`` (a shell command line) on ``host``.

        Connects to ``address`` (default: ``host``). Returns ``(exit_code,
        stdout, stderr)``; a failure to connect or authenticate gives exit
        code 255 and the reason on stderr, as the ssh client would.
        """
        try:
            import paramiko
        except ImportError as err:
            return EXIT_SSH_FAILURE, "", "paramiko is not available: %s" % err
        keys = private_key_files(self.ssh_dir or user_ssh_dir(self.user))
        if not keys:
            return (EXIT_SSH_FAILURE, "",
                    "No SSH private key found for user %s" % self.user)
        client = paramiko.SSHClient()
        policy = _VerifyingPolicy(_load_known_hosts(self._known_hosts_paths()),
                                  self._names_for(host, address, port),
                                  self.strict)
        client.set_missing_host_key_policy(policy)
        try:
            try:
                client.connect(address or host, port=port, username=self.user,
                               key_filename=keys, look_for_keys=False,
                               allow_agent=False,
                               timeout=self.connect_timeout,
                               banner_timeout=self.connect_timeout,
                               auth_timeout=self.connect_timeout)
            except (paramiko.SSHException, OSError) as err:
                reason = str(err) or type(err).__name__
                return (EXIT_SSH_FAILURE, "",
                        "Can't connect to %s: %s" % (host, reason))
            return self._exec(client, cmd, stdin, timeout)
        finally:
            client.close()

    @staticmethod
    def _exec(client, cmd, stdin, timeout):
        """Run ``cmd`` on a connected client; stderr is read by a helper
        thread so that neither stream can fill up and block the other."""
        import socket
        import threading
        chan = client.get_transport().open_session(timeout=timeout)
        chan.settimeout(timeout)
        out, err = [], []

        def drain_stderr():
            try:
                while True:
                    chunk = chan.recv_stderr(65536)
                    if not chunk:
                        return
                    err.append(chunk)
            except (socket.timeout, OSError):
                return

        reader = threading.Thread(target=drain_stderr, daemon=True)
        try:
            chan.exec_command(cmd)
            reader.start()
            if stdin is not None:
                if isinstance(stdin, str):
                    stdin = stdin.encode("utf-8")
                chan.sendall(stdin)
            chan.shutdown_write()
            while True:
                chunk = chan.recv(65536)
                if not chunk:
                    break
                out.append(chunk)
            code = chan.recv_exit_status()
            reader.join(timeout)
        except socket.timeout:
            code = None
        finally:
            chan.close()

        def text(chunks):
            return b"".join(chunks).decode("utf-8", "replace")
        if code is None:
            return (EXIT_SSH_FAILURE, text(out),
                    "Remote command timed out after %s seconds" % timeout)
        return code, text(out), text(err)
