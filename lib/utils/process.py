"""Running external commands with a clean environment and timeouts."""

import os
import subprocess


class RunResult:
    """Outcome of a command: exit code, output and a failure description."""

    def __init__(self, exit_code, signal, stdout, stderr, cmd, timeout=False):
        self.exit_code = exit_code
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
        self.cmd = cmd
        self.timed_out = timeout

    @property
    def failed(self):
        return self.timed_out or self.exit_code != 0

    @property
    def output(self):
        return self.stdout + self.stderr

    @property
    def fail_reason(self):
        if self.timed_out:
            return "timed out"
        if self.signal:
            return "killed by signal %s" % self.signal
        if self.exit_code:
            return "exited with exit code %s" % self.exit_code
        return None


def run_cmd(cmd, env=None, reset_env=False, cwd="/", timeout=None,
            input_data=None, shell=False):
    """Run ``cmd`` (list, or str with shell) and capture its output."""
    if reset_env:
        base = {"PATH": "/sbin:/bin:/usr/sbin:/usr/bin"}
    else:
        base = dict(os.environ)
    if env:
        base.update(env)
    try:
        proc = subprocess.run(cmd, shell=shell, env=base, cwd=cwd,
                              input=input_data, capture_output=True,
                              timeout=timeout, text=True)
    except subprocess.TimeoutExpired as err:
        return RunResult(None, None, err.stdout or "", err.stderr or "", cmd,
                         timeout=True)
    except OSError as err:
        return RunResult(127, None, "", str(err), cmd)
    signal = -proc.returncode if proc.returncode < 0 else None
    return RunResult(proc.returncode if proc.returncode >= 0 else None,
                     signal, proc.stdout, proc.stderr, cmd)
