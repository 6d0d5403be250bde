"""The textual query filter language and how list commands build filters.

Users type filters such as ``pnode.group == "default" and not admin_state``
(``-F``/``--filter``, or a lone "filter-looking" name argument); LUXI and
RAPI carry them as nested lists with the operator first, e.g.
``["&", ["==", "pnode.group", "default"], ["!", ["?", "admin_state"]]]``.
This module only *produces* that wire form; evaluating it is the job of
``ganeti.query.filters``.

Grammar (keywords are case-sensitive)::

    filter    := or_expr
    or_expr   := and_expr ("or" and_expr)*
    and_expr  := not_expr ("and" not_expr)*
    not_expr  := "not" not_expr | "(" filter ")" | condition
    condition := field ("=="|"="|"!="|"<"|"<="|">"|">=") value
               | value "in" field | value "not" "in" field
               | field ("=~"|"!~") regexp | field ("=*"|"!*") string
               | field
    field     := letter (letter | digit | "_" | "/" | ".")*
    value     := integer (optional sign) | string ('...' or "...")
    regexp    := ["m"] D body D [flags]     D one of / # ^ |, flags i and s

Inside strings a backslash makes the next character literal, so quotes can
be embedded (``"say \\"hi\\""``).  A regexp body is passed through verbatim:
``\\/`` already means a literal ``/`` to Python's ``re``, so there is no need
to (and it would be wrong to) strip backslashes from it.
"""

import re
import string


from ganeti import errors

# Wire-format operators (see interfaces section 11.1).
OP_OR = "|"
OP_AND = "&"
OP_NOT = "!"
OP_TRUE = "?"
OP_EQUAL = "=="
OP_EQUAL_LEGACY = "="  # accepted by evaluators, never produced here
OP_NOT_EQUAL = "!="
OP_LT = "<"
OP_LE = "<="
OP_GT = ">"
OP_GE = ">="
OP_REGEXP = "=~"
OP_CONTAINS = "=[]"

#: A single positional argument containing any of these is a filter, not a
#: name: no host, group or instance name can contain them.
FILTER_DETECTION_CHARS = frozenset("()=!<>~/\\'\"" + string.whitespace)

#: A name argument containing any of these is a glob pattern.
GLOB_DETECTION_CHARS = frozenset("*?")

REGEXP_DELIMITERS = "/#^|"
REGEXP_FLAGS = frozenset("is")

# Textual comparison operator -> wire operator ("=" is the pre-2.9 spelling).
_COMPARISONS = {
    "==": OP_EQUAL,
    "=": OP_EQUAL,
    "!=": OP_NOT_EQUAL,
    "<": OP_LT,
    "<=": OP_LE,
    ">": OP_GT,
    ">=": OP_GE,
}

_FIELD_CHARS = string.ascii_letters + string.digits + "_/."

_ESCAPED_CHAR = re.compile(r"\\(.)", re.S)


def glob_to_regexp(pattern):
    """Turn a DNS-name glob into an anchored regexp.

    ``*`` and ``?`` never cross a dot, and any further domain suffix is
    allowed, so ``web?`` matches both ``web1`` and ``web1.example.com``
    while ``*.example.com`` does not match ``a.b.example.com``.
    """
    return _glob(pattern, "[^.]*", "[^.]", "^%s(\\..*)?$")


def simple_glob_to_regexp(pattern):
    """Turn a shell-style glob into an anchored regexp (``*``/``?`` only).

    Unlike `glob_to_regexp` the wildcards also match dots and no domain
    suffix is implied; for callers matching things that are not host names.
    """
    return _glob(pattern, ".*", ".", "^%s$")


def _glob(pattern, star, question, template):
    """``template`` around ``pattern`` with ``*``/``?`` as ``star`` and
    ``question``, everything else escaped."""
    wildcards = {"*": star, "?": question}
    return template % "".join(wildcards.get(char) or re.escape(char)
                              for char in pattern)


def _unquote(toks):
    """Strip the quotes and resolve backslash escapes of a string literal."""
    return _ESCAPED_CHAR.sub(lambda match: match.group(1), toks[0][1:-1])


def _convert_regexp(text, loc, toks):
    """Regexp literal -> Python regexp with flags as an inline prefix.

    Flags are validated and the result compiled here so that mistakes are
    reported at parse time, with a position, instead of by the master.
    """
    import pyparsing as pyp
    literal = toks[0]
    if literal.startswith("m"):
        literal = literal[1:]
    # Flags are letters and delimiters are not, so the last delimiter closes.
    end = literal.rindex(literal[0])
    body, flags = literal[1:end], literal[end + 1:]
    unknown = sorted(set(flags) - REGEXP_FLAGS)
    if unknown:
        raise pyp.ParseFatalException(
            text, loc,
            "Unknown regular expression flags: '%s'" % "".join(unknown))
    if flags:
        body = "(?%s)%s" % ("".join(sorted(set(flags))), body)
    try:
        re.compile(body)
    except re.error as err:
        raise pyp.ParseFatalException(
            text, loc, "Invalid regular expression (%s)" % err)
    return body


def _logic(op):
    """Parse action turning ``a and b and c`` into ``[op, a, b, c]``."""
    def action(toks):
        if len(toks) == 1:
            return [toks[0]]
        return [[op] + list(toks)]
    return action


def _build_parser():
    """Build the pyparsing grammar described in the module docstring."""
    import pyparsing as pyp
    field = pyp.Word(pyp.alphas, _FIELD_CHARS).set_name("field name")
    number = pyp.Regex(r"[+-]?\d+").set_parse_action(lambda t: int(t[0]))
    quoted = pyp.Regex(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", flags=re.S)
    quoted.set_parse_action(_unquote)
    quoted.set_name("quoted string")
    value = (number | quoted).set_name("value")
    regexp = pyp.Regex(r"m?(?:%s)" % "|".join(
        r"%s(?:\\.|[^%s\\])*%s[A-Za-z]*" % (d, d, d)
        for d in map(re.escape, REGEXP_DELIMITERS)), flags=re.S)
    regexp.set_parse_action(_convert_regexp)
    regexp.set_name("regular expression")

    def keyword(word):
        # "and/x" or "not.y" are field names, not keyword + garbage.
        return pyp.Keyword(word, ident_chars=_FIELD_CHARS).suppress()

    kw_in = keyword("in")
    kw_not = keyword("not")

    def lit(text):
        return pyp.Literal(text).suppress()

    def negated(cond):
        return [[OP_NOT, cond]]

    comparison = field + pyp.one_of(list(_COMPARISONS)) + value
    comparison.set_parse_action(
        lambda t: [[_COMPARISONS[t[1]], t[0], t[2]]])
    contains = value + kw_in + field
    contains.set_parse_action(lambda t: [[OP_CONTAINS, t[1], t[0]]])
    not_contains = value + kw_not + kw_in + field
    not_contains.set_parse_action(
        lambda t: negated([OP_CONTAINS, t[1], t[0]]))
    match = field + lit("=~") + regexp
    match.set_parse_action(lambda t: [[OP_REGEXP, t[0], t[1]]])
    not_match = field + lit("!~") + regexp
    not_match.set_parse_action(lambda t: negated([OP_REGEXP, t[0], t[1]]))
    glob = field + lit("=*") + quoted
    glob.set_parse_action(
        lambda t: [[OP_REGEXP, t[0], glob_to_regexp(t[1])]])
    not_glob = field + lit("!*") + quoted
    not_glob.set_parse_action(
        lambda t: negated([OP_REGEXP, t[0], glob_to_regexp(t[1])]))
    truth = field.copy().set_parse_action(lambda t: [[OP_TRUE, t[0]]])

    # Longest match wins, so "name" alone is a truth test but "name == 1"
    # is a comparison.
    condition = (comparison ^ contains ^ not_contains ^ match ^ not_match ^
                 glob ^ not_glob ^ truth).set_name("condition")
    # An explicit recursive grammar rather than infix_notation, whose token
    # shapes and backtracking differ between pyparsing releases.
    expression = pyp.Forward().set_name("filter")
    atom = (lit("(") + expression + lit(")")) | condition
    negation = pyp.Forward().set_name("condition")
    negation <<= ((kw_not + negation).set_parse_action(
        lambda t: negated(t[0])) | atom).set_name("condition")
    conjunction = negation + pyp.ZeroOrMore(keyword("and") + negation)
    conjunction.set_parse_action(_logic(OP_AND))
    expression <<= conjunction + pyp.ZeroOrMore(keyword("or") + conjunction)
    expression.set_parse_action(_logic(OP_OR))
    parser = pyp.StringStart() + expression + pyp.StringEnd()
    # Keep tabs so that error columns index the text the user typed.
    parser.parse_with_tabs()
    return parser


_PARSER = None


def _get_parser():
    """The grammar is costly to build and stateless to use: build it once."""
    global _PARSER  # pylint: disable=W0603
    if _PARSER is None:
        _PARSER = _build_parser()
    return _PARSER


def _caret_line(line, column):
    """A line pointing at 1-based ``column`` of ``line``, keeping its tabs."""
    prefix = line[:max(column - 1, 0)]
    return "".join(c if c == "\t" else " " for c in prefix) + "^"


def parse_filter(text):
    """Parse a textual filter into its wire form (a nested list).

    Raises errors.QueryFilterParseError whose detail lines are the offending
    input line, a caret under the error position and pyparsing's message.
    """
    import pyparsing as pyp
    try:
        return _get_parser().parse_string(text, parse_all=True)[0]
    except pyp.ParseBaseException as err:
        raise errors.QueryFilterParseError(
            "Failed to parse query filter '%s': %s" % (text, err),
            err.line, _caret_line(err.line, err.col), str(err))


def looks_like_filter(text):
    """Whether a lone name argument is really a filter expression."""
    return bool(FILTER_DETECTION_CHARS.intersection(text))


def _name_condition(namefield, value, is_numeric):
    """One name argument as a condition: equality, glob or numeric id."""
    if is_numeric:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise errors.OpPrereqError("Invalid job ID passed: '%s' is not an"
                                       " integer" % (value, ),
                                       errors.ECODE_INVAL)
        return [OP_EQUAL, namefield, number]
    if isinstance(value, str) and GLOB_DETECTION_CHARS.intersection(value):
        return [OP_REGEXP, namefield, glob_to_regexp(value)]
    return [OP_EQUAL, namefield, value]


def make_simple_filter(namefield, values, is_numeric=False):
    """OR of one condition per name; None (everything) if no names given.

    Names with ``*``/``?`` become DNS-name glob regexps (as upstream's name
    arguments do); with ``is_numeric`` (job ids) values must be integers.
    """
    if not values:
        return None
    return [OP_OR] + [_name_condition(namefield, value, is_numeric)
                      for value in values]


def make_filter(args, force_filter, namefield="name", is_numeric=False):
    """The filter a ``list`` command derives from its positional arguments.

    ``force_filter`` (``-F``) requires exactly one argument, always parsed as
    a filter; otherwise a single argument that looks like a filter is parsed
    and anything else is a list of names (or globs).
    """
    if namefield is None:
        namefield = "name"
    args = list(args or [])
    if force_filter or (len(args) == 1 and looks_like_filter(args[0])):
        if len(args) != 1:
            raise errors.OpPrereqError("Exactly one argument must be given as"
                                       " a filter (got %d)" % len(args),
                                       errors.ECODE_INVAL)
        return parse_filter(args[0])
    return make_simple_filter(namefield, args, is_numeric=is_numeric)
