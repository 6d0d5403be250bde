"""Running a Ganeti daemon: options, detaching, pid file, logs, signals.

``generic_main`` is shared by noded, masterd and rapi. It detaches
(unless ``-f``), but the process that started it waits until the daemon
has its pid file and has run ``prepare_fn`` (bound its sockets, loaded its
configuration), and exits with the daemon's start-up status: a failed
start is reported on the terminal, not only in the log.
"""

import errno
import fcntl
import logging
import optparse
import os
import signal
import sys
import threading

from ganeti import constants
from ganeti import pathutils
from ganeti.utils import io

LOG_FORMAT = "%(asctime)s: {prog} pid=%(process)d %(levelname)s %(message)s"
DEBUG_LOG_FORMAT = ("%(asctime)s: {prog} pid=%(process)d (%(threadName)s)"
                    " %(module)s:%(lineno)s %(levelname)s %(message)s")

_STARTED = b"OK"


class DaemonStartError(Exception):
    """Start-up failed; the message is shown to whoever started us."""

    def __init__(self, message, exit_code=constants.EXIT_FAILURE):
        super().__init__(message)
        self.exit_code = exit_code


# --- pid files ---

def running_pid(pid_file):
    """The pid of the live daemon holding ``pid_file``'s lock, else 0.

    The lock, not the pid's existence, is the test: a stale file whose pid
    was reused by another process does not count as running.
    """
    try:
        fd = os.open(pid_file, os.O_RDONLY)
    except OSError:
        return 0
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            return io.read_pid_file(pid_file) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return 0
    finally:
        os.close(fd)


class PidFile:
    """A locked pid file, held for the life of the daemon."""

    def __init__(self, path):
        self.path = path
        self._fd = None

    def acquire(self, name):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EAGAIN, errno.EACCES):
                raise DaemonStartError(
                    "Daemon '%s' already running (pid %s, pid file %s)" %
                    (name, io.read_pid_file(self.path) or "?", self.path))
            raise
        os.ftruncate(fd, 0)
        os.write(fd, b"%d\n" % os.getpid())
        self._fd = fd

    def release(self):
        if self._fd is None:
            return
        io.remove_file(self.path)
        os.close(self._fd)
        self._fd = None


# --- logging ---

class ReopenableFileHandler(logging.FileHandler):
    """Appends to a log file; reopens it after ``request_reopen()``.

    The reopen happens at the next record, not in the signal handler, so
    a SIGHUP can never interrupt a half-written line. When the daemon's
    stdout/stderr point at the log, they follow the new file too.
    """

    def __init__(self, path, redirect_std=False):
        super().__init__(path, mode="a", encoding="utf-8", delay=False)
        self._reopen = False
        self._redirect_std = redirect_std

    def request_reopen(self):
        self._reopen = True

    def emit(self, record):
        if self._reopen:
            self.acquire()
            try:
                self._reopen = False
                if self.stream is not None:
                    self.stream.close()
                self.stream = self._open()
                if self._redirect_std:
                    _redirect_std_to(self.baseFilename)
            finally:
                self.release()
        super().emit(record)


def setup_logging(program, log_file, debug=False, stderr=False,
                  redirect_std=False):
    """Log to ``log_file`` (and stderr); returns the file handler."""
    fmt = (DEBUG_LOG_FORMAT if debug else LOG_FORMAT).format(prog=program)
    formatter = logging.Formatter(fmt)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    file_handler = ReopenableFileHandler(log_file, redirect_std=redirect_std)
    file_handler.setFormatter(formatter)
    root.addHandler(file_handler)
    if stderr:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(formatter)
        root.addHandler(console)
    return file_handler


def _redirect_std_to(path):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


# --- detaching ---

def _daemonize(log_file):
    """Double-fork; returns the pipe fd on which to report start-up.

    The original process stays to read that pipe and exits with the
    daemon's start-up result (see ``_report``).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(wfd)
        os.waitpid(pid, 0)
        _wait_for_start(rfd, log_file)
    os.close(rfd)
    os.setsid()
    if os.fork():
        os._exit(0)  # pylint: disable=protected-access
    os.chdir("/")
    os.umask(0o022)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _redirect_std_to(log_file)
    return wfd


def _wait_for_start(rfd, log_file):
    """Parent side: exit 0 when the daemon reports success, else fail."""
    chunks = []
    while True:
        data = os.read(rfd, 4096)
        if not data:
            break
        chunks.append(data)
    data = b"".join(chunks)
    if data == _STARTED:
        os._exit(0)  # pylint: disable=protected-access
    if data:
        code, _, msg = data.decode("utf-8", "replace").partition(" ")
        sys.stderr.write(msg.rstrip("\n") + "\n")
        sys.stderr.flush()
        os._exit(int(code) if code.isdigit() else 1)
    sys.stderr.write("Daemon exited during start-up; see %s\n" % log_file)
    sys.stderr.flush()
    os._exit(1)


def _report(wfd, exit_code=None, message=None):
    """Child side: tell the waiting parent how start-up went."""
    if wfd is None:
        return
    if exit_code is None:
        data = _STARTED
    else:
        data = ("%d %s" % (exit_code, message)).encode("utf-8")
    try:
        os.write(wfd, data)
        os.close(wfd)
    except OSError:
        pass


# --- options ---

def add_common_options(parser, default_port=None, default_bind=None):
    """The options every daemon understands."""
    parser.add_option("-f", "--foreground", dest="foreground",
                      action="store_true", default=False,
                      help="Don't detach from the current terminal")
    parser.add_option("-d", "--debug", dest="debug", action="store_true",
                      default=False, help="Enable debug messages")
    parser.add_option("-b", "--bind", dest="bind_address",
                      default=default_bind, metavar="ADDRESS",
                      help="Bind address (default: %s)" %
                      (default_bind or "all"))
    parser.add_option("-p", "--port", dest="port", type="int",
                      default=default_port, metavar="PORT",
                      help="Network port (default: %s)" % default_port)
    parser.add_option("--syslog", dest="syslog_usage", default="no",
                      choices=["no", "yes", "only"], metavar="yes|no|only",
                      help="Accepted for compatibility; logs go to files")


def ensure_directories():
    """The run, socket, log and data directories, with their modes."""
    io.make_dirs([
        (pathutils.RUN_DIR, 0o755),
        (pathutils.SOCKET_DIR, 0o750),
        (pathutils.LOG_DIR, 0o750),
        (pathutils.DATA_DIR, 0o755),
    ])


def generic_main(daemon_name, parser, check_fn, prepare_fn, exec_fn,
                 default_port=None, default_bind=None):
    """Parse options, detach, and run the daemon until SIGTERM/SIGINT.

    ``check_fn(options, args)`` validates (may ``sys.exit``);
    ``prepare_fn(options, args) -> prep`` runs detached but before the
    starter is told "started" (raise ``DaemonStartError`` to fail);
    ``exec_fn(options, args, prep, stop_event)`` serves until
    ``stop_event`` is set and then returns.
    """
    add_common_options(parser, default_port, default_bind)
    options, args = parser.parse_args()
    if check_fn is not None:
        check_fn(options, args)
    try:
        ensure_directories()
    except OSError as err:
        sys.stderr.write("%s: can't create directories: %s\n" %
                         (daemon_name, err))
        sys.exit(constants.EXIT_FAILURE)

    pid_path = pathutils.daemon_pid_file(daemon_name)
    log_file = pathutils.DAEMON_LOGS.get(
        daemon_name, "%s/%s.log" % (pathutils.LOG_DIR, daemon_name))
    pid = running_pid(pid_path)
    if pid:
        sys.stderr.write("%s: Daemon '%s' already running (pid %s)\n" %
                         (daemon_name, daemon_name, pid))
        sys.exit(constants.EXIT_FAILURE)

    wfd = None if options.foreground else _daemonize(log_file)
    sys.exit(_run(daemon_name, options, args, prepare_fn, exec_fn, pid_path,
                  log_file, wfd))


def _run(daemon_name, options, args, prepare_fn, exec_fn, pid_path,
         log_file, wfd):
    """The daemon proper (detached or not); returns its exit code."""
    pidfile = PidFile(pid_path)
    try:
        pidfile.acquire(daemon_name)
    except (DaemonStartError, OSError) as err:
        _report(wfd, constants.EXIT_FAILURE, "%s: %s" % (daemon_name, err))
        if wfd is None:
            sys.stderr.write("%s: %s\n" % (daemon_name, err))
        return constants.EXIT_FAILURE
    try:
        handler = setup_logging(daemon_name, log_file, debug=options.debug,
                                stderr=options.foreground,
                                redirect_std=wfd is not None)
        stop_event = threading.Event()
        _install_signals(stop_event, handler)
        logging.info("%s daemon startup", daemon_name)
        try:
            prep = prepare_fn(options, args) if prepare_fn else None
        except DaemonStartError as err:
            logging.error("Start-up failed: %s", err)
            _report(wfd, err.exit_code, "%s: %s" % (daemon_name, err))
            return err.exit_code
        except Exception as err:  # pylint: disable=broad-except
            logging.exception("Start-up failed")
            _report(wfd, constants.EXIT_FAILURE,
                    "%s: start-up failed: %s" % (daemon_name, err))
            return constants.EXIT_FAILURE
        _report(wfd)
        try:
            exec_fn(options, args, prep, stop_event)
        except Exception:  # pylint: disable=broad-except
            logging.exception("Daemon failed")
            return constants.EXIT_FAILURE
        logging.info("%s daemon shutdown", daemon_name)
        return constants.EXIT_SUCCESS
    finally:
        pidfile.release()


def _install_signals(stop_event, log_handler):
    def terminate(signum, _frame):
        logging.info("Received signal %d, shutting down", signum)
        stop_event.set()

    def reopen(_signum, _frame):
        log_handler.request_reopen()

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    signal.signal(signal.SIGHUP, reopen)


def new_option_parser(description, version=constants.RELEASE_VERSION):
    """An OptionParser with Ganeti's ``--version`` text."""
    return optparse.OptionParser(
        description=description,
        version="%%prog (ganeti) %s" % version)
