"""OS definitions: ``OP_OS_DIAGNOSE`` (``gnt-os list/info/diagnose``).

The data comes from the nodes through the ``os`` query resource
(``ganeti.query.fields_os``); this LU gives it the old-style shape: one
list of values per OS, in the order of ``output_fields``.

Changing OS settings (hidden, blacklisted, ``os_hvp``, ``osparams``) is
``OP_CLUSTER_SET_PARAMS`` (``gnt-os modify``), in ``cmdlib.cluster``.
"""

from ganeti import constants
from ganeti import errors
from ganeti import qlang
from ganeti.cmdlib import base


def build_filter(fields, names):
    """The query filter of an OP_OS_DIAGNOSE.

    As in Ganeti, a caller that does not ask for ``hidden``,
    ``blacklisted`` or ``valid`` does not see hidden, blacklisted or
    invalid OSes (that is how ``gnt-os list`` hides them).
    """
    conditions = [[qlang.OP_NOT, [qlang.OP_TRUE, name]]
                  for name in ("hidden", "blacklisted") if name not in fields]
    if "valid" not in fields:
        conditions.append([qlang.OP_TRUE, "valid"])
    status = [qlang.OP_AND] + conditions if conditions else None
    name_filter = None
    if names:
        name_filter = [qlang.OP_OR] + [[qlang.OP_EQUAL, "name", n]
                                       for n in names]
    if name_filter and status:
        return [qlang.OP_AND, name_filter, status]
    return name_filter or status


class LUOsDiagnose(base.NoHooksLU):
    """Rows of OS information (no locks: nothing in the config changes)."""

    def check_arguments(self):
        from ganeti import query
        table = query.get_field_table(constants.QR_OS)
        unknown = [f for f in self.op.output_fields if f not in table]
        if unknown:
            raise errors.OpPrereqError("Unknown output fields selected: %s"
                                       % ", ".join(unknown),
                                       errors.ECODE_INVAL)

    def exec_(self, feedback_fn):
        from ganeti import query
        fields = list(self.op.output_fields)
        qfilter = build_filter(fields, self.op.names or [])
        context = query.QueryContext(self.cfg, self.rpc,
                                     self.context.jqueue,
                                     self.context.master_name)
        result = query.query(constants.QR_OS, fields, qfilter, context)
        return [[cell[1] for cell in row] for row in result["data"]]
