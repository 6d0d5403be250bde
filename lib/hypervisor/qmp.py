"""A small QMP (QEMU Machine Protocol) client over a unix socket.

QMP is line-delimited JSON: QEMU greets with ``{"QMP": {...}}``, the
client must send ``qmp_capabilities`` first, then each command is answered
by ``{"return": ...}`` or ``{"error": {"class", "desc"}}``; asynchronous
``{"event": ...}`` messages can arrive at any time and are kept in
``events``.

A QMP socket serves one client at a time, so callers connect, run their
commands and close (use the object as a context manager).
"""

import json
import socket
import time

from ganeti import errors

DEFAULT_TIMEOUT = 10.0


class QmpError(errors.HypervisorError):
    """QEMU answered a command with an error."""


class QmpConnection:
    """One QMP session: ``with QmpConnection(path) as qmp: qmp.execute(..)``.
    """

    def __init__(self, path, timeout=DEFAULT_TIMEOUT):
        self.path = path
        self.timeout = timeout
        self.events = []
        self.greeting = None
        self._sock = None
        self._buf = b""

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    def connect(self):
        """Connect, read the greeting and negotiate capabilities."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError as err:
            sock.close()
            raise errors.HypervisorError("Can't connect to qmp socket %s: %s"
                                         % (self.path, err))
        self._sock = sock
        try:
            greeting = self._read_message()
            if "QMP" not in greeting:
                raise errors.HypervisorError("Invalid QMP greeting: %r" %
                                             (greeting,))
            self.greeting = greeting["QMP"]
            self.execute("qmp_capabilities")
        except Exception:
            self.close()
            raise

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    @property
    def version(self):
        """(major, minor, micro) of the QEMU on the other end."""
        qemu = (self.greeting or {}).get("version", {}).get("qemu", {})
        return (qemu.get("major"), qemu.get("minor"), qemu.get("micro"))

    def _read_message(self):
        while b"\n" not in self._buf:
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                raise errors.HypervisorError("Timeout while reading from qmp"
                                             " socket %s" % self.path)
            except OSError as err:
                raise errors.HypervisorError("Error reading qmp socket %s:"
                                             " %s" % (self.path, err))
            if not data:
                raise errors.HypervisorError("QMP socket %s closed by QEMU" %
                                             self.path)
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            return json.loads(line.decode("utf-8"))
        except ValueError as err:
            raise errors.HypervisorError("Invalid QMP message %r: %s" %
                                         (line[:200], err))

    def execute(self, command, arguments=None):
        """Run ``command``; its ``return`` value, or QmpError."""
        if self._sock is None:
            raise errors.HypervisorError("QMP connection to %s is closed" %
                                         self.path)
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        try:
            self._sock.sendall(json.dumps(msg).encode("utf-8") + b"\n")
        except OSError as err:
            raise errors.HypervisorError("Error writing to qmp socket %s:"
                                         " %s" % (self.path, err))
        while True:
            reply = self._read_message()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                err = reply["error"]
                raise QmpError("QMP command %s failed: %s: %s" %
                               (command, err.get("class"), err.get("desc")))
            if "return" in reply:
                return reply["return"]

    def wait_for_event(self, name, timeout):
        """The first event called ``name`` (already seen or arriving
        within ``timeout`` seconds), or None."""
        for event in self.events:
            if event.get("event") == name:
                return event
        deadline = time.time() + timeout
        while time.time() < deadline:
            self._sock.settimeout(max(0.05, deadline - time.time()))
            try:
                msg = self._read_message()
            except errors.HypervisorError:
                break
            finally:
                self._sock.settimeout(self.timeout)
            if "event" in msg:
                self.events.append(msg)
                if msg["event"] == name:
                    return msg
        return None


def qmp_command(path, command, arguments=None, timeout=DEFAULT_TIMEOUT):
    """Connect, run one command, close; its return value."""
    with QmpConnection(path, timeout=timeout) as qmp:
        return qmp.execute(command, arguments)
