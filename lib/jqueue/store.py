"""The job queue on disk: ``queue/serial``, ``queue/job-N``, ``archive/``.

Every write goes through ``utils.io.write_file`` (temporary file, fsync,
rename). The queue directory is flock()ed by its owner so that two master
daemons can never write the same queue.
"""

import errno
import fcntl
import os

from ganeti import constants
from ganeti import errors
from ganeti import pathutils
from ganeti import serializer
from ganeti.utils import io


class QueueStore:
    """File-level access to one queue directory."""

    def __init__(self, queue_dir=None):
        self.queue_dir = queue_dir or pathutils.QUEUE_DIR
        self.archive_dir = os.path.join(self.queue_dir, "archive")
        self.serial_file = os.path.join(self.queue_dir, "serial")
        self.version_file = os.path.join(self.queue_dir, "version")
        self.drain_file = os.path.join(self.queue_dir, "drain")
        self.lock_file = os.path.join(self.queue_dir, "lock")
        self._lock_fd = None

    # Set-up
    def open(self):
        """Create the layout if needed, take the lock, check the version."""
        io.make_dirs([(self.queue_dir, 0o700), (self.archive_dir, 0o700)])
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EAGAIN, errno.EACCES):
                raise errors.LockError("Job queue is locked by another"
                                       " process")
            raise
        self._lock_fd = fd
        if not os.path.exists(self.version_file):
            io.write_file(self.version_file, "%d\n" %
                          constants.JOB_QUEUE_VERSION)
        version = io.read_one_line(self.version_file).strip()
        if version != str(constants.JOB_QUEUE_VERSION):
            raise errors.JobQueueError("Found job queue version %s, expected"
                                       " %s" % (version,
                                                constants.JOB_QUEUE_VERSION))
        if not os.path.exists(self.serial_file):
            io.write_file(self.serial_file, "0\n")

    def close(self):
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # Serial
    def read_serial(self):
        try:
            return int(io.read_one_line(self.serial_file).strip() or 0)
        except (OSError, ValueError) as err:
            raise errors.JobQueueError("Can't read job queue serial: %s" % err)

    def write_serial(self, serial):
        """Persist the last used job id; returns the file's content."""
        content = "%d\n" % serial
        io.write_file(self.serial_file, content)
        return content

    # Jobs
    def job_path(self, job_id):
        return os.path.join(self.queue_dir, "job-%d" % job_id)

    def archived_job_path(self, job_id):
        return os.path.join(self.archive_dir,
                            str(job_id // constants.JOB_QUEUE_ARCHIVE_DIR_SIZE),
                            "job-%d" % job_id)

    def write_job(self, job_id, content):
        """Write a job file (its JSON text) atomically; returns (path,
        content)."""
        path = self.job_path(job_id)
        io.write_file(path, content, mode=constants.JOB_QUEUE_FILES_PERMS)
        return path, content

    def read_job(self, job_id, archived=False):
        path = self.archived_job_path(job_id) if archived else \
            self.job_path(job_id)
        try:
            data = io.read_file(path)
        except FileNotFoundError:
            return None
        try:
            return serializer.load_json(data)
        except ValueError as err:
            raise errors.JobFileCorrupted("Job file %s is corrupted: %s" %
                                          (path, err))

    def list_job_ids(self):
        """Ids of the jobs in the queue directory (not archived), sorted."""
        ids = []
        for name in os.listdir(self.queue_dir):
            if name.startswith("job-") and name[4:].isdigit():
                ids.append(int(name[4:]))
        return sorted(ids)

    def list_archived_job_ids(self):
        ids = []
        try:
            subdirs = os.listdir(self.archive_dir)
        except FileNotFoundError:
            return ids
        for sub in subdirs:
            path = os.path.join(self.archive_dir, sub)
            if not os.path.isdir(path):
                continue
            for name in os.listdir(path):
                if name.startswith("job-") and name[4:].isdigit():
                    ids.append(int(name[4:]))
        return sorted(ids)

    def archive_job(self, job_id):
        """Move a job file into the archive; returns (old, new) paths."""
        old = self.job_path(job_id)
        new = self.archived_job_path(job_id)
        os.makedirs(os.path.dirname(new), mode=0o700, exist_ok=True)
        os.rename(old, new)
        return old, new

    # Drain flag
    def is_drained(self):
        return os.path.exists(self.drain_file)

    def set_drained(self, flag):
        if flag:
            io.write_file(self.drain_file, "")
        else:
            io.remove_file(self.drain_file)
