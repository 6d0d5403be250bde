"""Type predicates for opcode parameters and RPC payloads.

Each check is a callable returning bool with a ``desc`` used in error texts.
"""


class Check:
    def __init__(self, fn, desc):
        self.fn = fn
        self.desc = desc

    def __call__(self, value):
        try:
            return bool(self.fn(value))
        except Exception:  # a check never raises
            return False

    def __repr__(self):
        return self.desc


TAny = Check(lambda v: True, "Anything")
TNone = Check(lambda v: v is None, "None")
TBool = Check(lambda v: isinstance(v, bool), "bool")
TInt = Check(lambda v: isinstance(v, int) and not isinstance(v, bool), "int")
TNonNegativeInt = Check(lambda v: TInt(v) and v >= 0, "int>=0")
TPositiveInt = Check(lambda v: TInt(v) and v > 0, "int>0")
TFloat = Check(lambda v: isinstance(v, float), "float")
TNumber = Check(lambda v: isinstance(v, (int, float)) and
                not isinstance(v, bool), "number")
TString = Check(lambda v: isinstance(v, str), "str")
TNonEmptyString = Check(lambda v: isinstance(v, str) and len(v) > 0,
                        "NonEmptyString")
TList = Check(lambda v: isinstance(v, (list, tuple)), "list")
TDict = Check(lambda v: isinstance(v, dict), "dict")


def TMaybe(check):
    return Check(lambda v: v is None or check(v), "None or %s" % check.desc)


def TOr(*checks):
    return Check(lambda v: any(c(v) for c in checks),
                 " or ".join(c.desc for c in checks))


def TElemOf(values):
    values = list(values)
    return Check(lambda v: v in values, "value in %s" % values)


def TListOf(check):
    return Check(lambda v: TList(v) and all(check(x) for x in v),
                 "List of %s" % check.desc)


def TDictOf(key_check, value_check):
    return Check(lambda v: TDict(v) and all(key_check(k) and value_check(x)
                                            for k, x in v.items()),
                 "Dictionary with keys of %s and values of %s" %
                 (key_check.desc, value_check.desc))


TMaybeBool = TMaybe(TBool)
TMaybeString = TMaybe(TString)
TMaybeList = TMaybe(TList)
TMaybeDict = TMaybe(TDict)
TMaybeInt = TMaybe(TInt)
TStrList = TListOf(TString)
TMaybeStrList = TMaybe(TStrList)
