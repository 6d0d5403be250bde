"""RAPI users and HTTP Basic authentication.

The users file (``/var/lib/ganeti/rapi/users``) has one user per line::

    <name> <password> [option[,option...]]

Blank lines and ``#`` comments are ignored. The password is plain text
(which must not start with ``{``), ``{CLEARTEXT}<text>`` or ``{HA1}<md5
hex>``, where the hash is MD5 of ``<name>:Ganeti Remote API:<password>``;
the scheme is case-insensitive. Options are ``write`` (may change the
cluster) and ``read`` (may use the resources that need a login to read).

The file is re-read whenever it changes: an inotify watch on its directory
(pyinotify) reloads it, so adding a user needs no daemon restart. Where
pyinotify cannot run, the file's stat signature is checked at most once a
second on use instead.
"""

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import threading
import time
import warnings

REALM = "Ganeti Remote API"
ACCESS_WRITE = "write"
ACCESS_READ = "read"
ACCESS_ALL = (ACCESS_READ, ACCESS_WRITE)

SCHEME_CLEARTEXT = "CLEARTEXT"
SCHEME_HA1 = "HA1"

_SCHEME_RE = re.compile(r"^\{([^}]*)\}(.*)$", re.S)

# Outcomes of ``check_access``
ACCESS_OK = 0
ACCESS_UNAUTHORIZED = 401
ACCESS_FORBIDDEN = 403


class User:
    """One line of the users file."""

    __slots__ = ("name", "password", "options")

    def __init__(self, name, password, options=()):
        self.name = name
        self.password = password
        self.options = frozenset(options)

    def __repr__(self):
        return "<User %s %s>" % (self.name, sorted(self.options))


def parse_users(text):
    """``{name: User}`` from the users file's text.

    Lines with a name but no password are skipped (with a warning): such a
    user could never log in, and guessing a meaning would be worse.
    """
    users = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 2:
            logging.warning("Users file line %d: no password for user '%s'",
                            lineno, parts[0])
            continue
        options = []
        if len(parts) == 3:
            options = [opt.strip().lower() for opt in parts[2].split(",")
                       if opt.strip()]
        users[parts[0]] = User(parts[0], parts[1], options)
    return users


def ha1_hash(username, password, realm=REALM):
    """The ``{HA1}`` hash of a user's password (lower-case MD5 hex)."""
    text = "%s:%s:%s" % (username, realm, password)
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _equal(left, right):
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


def check_password(user, password, realm=REALM):
    """True if ``password`` is ``user``'s (see the module docstring)."""
    match = _SCHEME_RE.match(user.password)
    if match is None:
        return _equal(password, user.password)
    scheme, expected = match.group(1).upper(), match.group(2)
    if scheme == SCHEME_CLEARTEXT:
        return _equal(password, expected)
    if scheme == SCHEME_HA1:
        return _equal(ha1_hash(user.name, password, realm),
                      expected.strip().lower())
    logging.warning("Unknown password scheme '{%s}' for user '%s'",
                    match.group(1), user.name)
    return False


def parse_basic_auth(value):
    """``(user, password)`` from an ``Authorization`` header, or None."""
    if not value:
        return None
    scheme, _, data = value.strip().partition(" ")
    if scheme.lower() != "basic" or not data.strip():
        return None
    try:
        decoded = base64.b64decode(data.strip(), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if ":" not in text:
        return None
    user, _, password = text.partition(":")
    return user, password


def basic_auth_header(realm=REALM):
    """The ``WWW-Authenticate`` value of a 401 reply."""
    return 'Basic realm="%s"' % realm


def check_access(users, authorization, access, require_auth):
    """ACCESS_OK, ACCESS_UNAUTHORIZED or ACCESS_FORBIDDEN for a request.

    ``users`` has ``get(name) -> User or None``; ``access`` is the
    resource's list of options of which the user needs one (empty: no
    login needed unless ``require_auth``). Credentials sent to a resource
    that needs none are not checked, as in Ganeti.
    """
    if not access and not require_auth:
        return ACCESS_OK
    creds = parse_basic_auth(authorization)
    if creds is None:
        return ACCESS_UNAUTHORIZED
    user = users.get(creds[0])
    if user is None or not check_password(user, creds[1]):
        return ACCESS_UNAUTHORIZED
    if access and not user.options.intersection(access):
        return ACCESS_FORBIDDEN
    return ACCESS_OK


def _file_signature(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class UsersFile:
    """The users file, kept current; ``get(name)`` is thread-safe.

    ``start_watching()`` sets up the inotify watch; without it (or when
    pyinotify is missing) ``get`` re-reads a changed file by itself.
    """

    STAT_INTERVAL = 1.0

    def __init__(self, path):
        self.path = path
        self._users = {}
        self._lock = threading.Lock()
        self._signature = None
        self._checked = 0.0
        self._notifier = None
        self.reload()

    def reload(self):
        """Read the file again (a missing file means no users)."""
        signature = _file_signature(self.path)
        try:
            with open(self.path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except FileNotFoundError:
            text = ""
        except OSError as err:
            logging.error("Can't read users file %s: %s", self.path, err)
            return
        users = parse_users(text)
        with self._lock:
            self._users = users
            self._signature = signature
        logging.info("Loaded %d RAPI user(s) from %s", len(users), self.path)

    def get(self, name):
        if self._notifier is None:
            self._maybe_reload()
        with self._lock:
            return self._users.get(name)

    def names(self):
        with self._lock:
            return sorted(self._users)

    def _maybe_reload(self):
        now = time.monotonic()
        if now - self._checked < self.STAT_INTERVAL:
            return
        self._checked = now
        if _file_signature(self.path) != self._signature:
            self.reload()

    def start_watching(self):
        """Watch the file's directory with inotify; False if impossible."""
        try:
            with warnings.catch_warnings():
                # pyinotify imports asyncore, deprecated in Python 3.11
                warnings.simplefilter("ignore", DeprecationWarning)
                import pyinotify
            warnings.filterwarnings("ignore", category=DeprecationWarning,
                                    module="pyinotify")
        except ImportError as err:
            logging.warning("pyinotify unavailable (%s); the users file is"
                            " checked for changes on use", err)
            return False
        directory = os.path.dirname(self.path)
        basename = os.path.basename(self.path)
        os.makedirs(directory, mode=0o750, exist_ok=True)
        users_file = self

        class _Handler(pyinotify.ProcessEvent):
            def process_default(self, event):
                if event.name == basename:
                    logging.debug("Users file changed (%s)", event.maskname)
                    users_file.reload()

        mask = (pyinotify.IN_CLOSE_WRITE | pyinotify.IN_MOVED_TO |
                pyinotify.IN_MOVED_FROM | pyinotify.IN_DELETE |
                pyinotify.IN_CREATE | pyinotify.IN_ATTRIB)
        manager = pyinotify.WatchManager()
        notifier = pyinotify.ThreadedNotifier(manager, _Handler())
        notifier.daemon = True
        notifier.name = "users-file-watch"
        result = manager.add_watch(directory, mask)
        if result.get(directory, -1) < 0:
            logging.warning("Can't watch %s; the users file is checked for"
                            " changes on use", directory)
            return False
        notifier.start()
        self._notifier = notifier
        # A change between the first read and the watch would be missed.
        self.reload()
        return True

    def stop_watching(self):
        if self._notifier is not None:
            self._notifier.stop()
            self._notifier = None
