"""Ganeti's exception tree.

Exceptions cross process boundaries (LUXI, job files, RPC) encoded as
``[ClassName, [args...]]``; ``encode_exception``/``maybe_raise`` do both ends.
"""

from ganeti import constants

ECODE_RESOLVER = constants.ERRORS_ECODE_RESOLVER
ECODE_NORES = constants.ERRORS_ECODE_NORES
ECODE_TEMP_NORES = constants.ERRORS_ECODE_TEMP_NORES
ECODE_INVAL = constants.ERRORS_ECODE_INVAL
ECODE_STATE = constants.ERRORS_ECODE_STATE
ECODE_NOENT = constants.ERRORS_ECODE_NOENT
ECODE_EXISTS = constants.ERRORS_ECODE_EXISTS
ECODE_NOTUNIQUE = constants.ERRORS_ECODE_NOTUNIQUE
ECODE_FAULT = constants.ERRORS_ECODE_FAULT
ECODE_ENVIRON = constants.ERRORS_ECODE_ENVIRON


class GenericError(Exception):
    """Base of every Ganeti error."""


class LVMError(GenericError):
    pass


class LockError(GenericError):
    pass


class PidFileLockError(LockError):
    pass


class HypervisorError(GenericError):
    pass


class HotplugError(HypervisorError):
    pass


class ProgrammerError(GenericError):
    """An internal inconsistency: a bug, never the user's fault."""


class BlockDeviceError(GenericError):
    pass


class ConfigurationError(GenericError):
    """The configuration file is corrupt or inconsistent."""


class ConfigVersionMismatch(ConfigurationError):
    pass


class AddressPoolError(GenericError):
    pass


class ReservationError(GenericError):
    pass


class RemoteError(GenericError):
    pass


class SignatureError(GenericError):
    pass


class ParameterError(GenericError):
    pass


class ResultValidationError(GenericError):
    pass


class OpPrereqError(GenericError):
    """A precondition of an opcode failed; nothing has been changed."""


class OpExecError(GenericError):
    """An opcode failed while executing."""


class OpResultError(GenericError):
    pass


class DeviceCreationError(GenericError):
    pass


class OpCodeUnknown(GenericError):
    pass


class JobLost(GenericError):
    pass


class JobCanceled(GenericError):
    pass


class JobFileCorrupted(GenericError):
    pass


class ResolverError(GenericError):
    pass


class HooksFailure(GenericError):
    pass


class HooksAbort(HooksFailure):
    pass


class UnitParseError(GenericError):
    pass


class ParseError(GenericError):
    pass


class TypeEnforcementError(GenericError):
    pass


class X509CertError(GenericError):
    pass


class TagError(GenericError):
    pass


class CommandError(GenericError):
    pass


class StorageError(GenericError):
    pass


class InotifyError(GenericError):
    pass


class QuitGanetiException(Exception):
    """Signals a clean daemon shutdown from inside a request handler."""


class JobQueueError(GenericError):
    pass


class JobQueueDrainError(JobQueueError):
    pass


class JobQueueFull(JobQueueError):
    pass


class ConfdMagicError(GenericError):
    pass


class ConfdClientError(GenericError):
    pass


class UdpDataSizeError(GenericError):
    pass


class NoCtypesError(GenericError):
    pass


class IPAddressError(GenericError):
    pass


class LuxiError(GenericError):
    pass


class QueryFilterParseError(ParseError):
    """A query filter could not be parsed; args[1:] hold detail lines."""

    def get_details(self):
        return list(self.args[1:])


class RapiTestResult(GenericError):
    pass


class FileStoragePathError(GenericError):
    pass


def _collect_classes():
    table = {}
    for name, value in globals().items():
        if isinstance(value, type) and issubclass(value, Exception):
            table[name] = value
    return table


_CLASSES = _collect_classes()


def get_error_class(name):
    """The exception class of that name, or None."""
    return _CLASSES.get(name)


def encode_exception(err):
    """Encode an exception as ``[ClassName, [args]]`` for the wire."""
    if isinstance(err, GenericError) and type(err).__name__ in _CLASSES:
        name = type(err).__name__
    elif isinstance(err, Exception):
        name = "OpExecError" if not isinstance(err, GenericError) else \
            "GenericError"
        if not isinstance(err, GenericError):
            return [name, [str(err)]]
    else:
        raise ProgrammerError("Can't encode %r" % (err,))
    return [name, list(_jsonable(a) for a in err.args)]


def _jsonable(value):
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return dict((str(k), _jsonable(v)) for k, v in value.items())
    return str(value)


def decode_exception(data):
    """Turn an encoded ``[ClassName, args]`` back into an exception object."""
    if (not isinstance(data, (list, tuple)) or len(data) != 2 or
            not isinstance(data[0], str)):
        return None
    name, args = data
    cls = _CLASSES.get(name)
    if cls is None or not issubclass(cls, Exception):
        return None
    if not isinstance(args, (list, tuple)):
        args = [args]
    return cls(*args)


def maybe_raise(result):
    """Raise the encoded error in ``result`` if it is one."""
    err = decode_exception(result)
    if err is not None:
        raise err


def get_encoded_error(result):
    """Return (class, args) if ``result`` is an encoded error, else None."""
    err = decode_exception(result)
    if err is None:
        return None
    return (type(err), err.args)
