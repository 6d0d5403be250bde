"""The textual query language (interfaces 11.2) and list-command filters (1.3).

Every expectation is the exact wire form (11.1) that LUXI/RAPI would carry,
since that is what other Ganeti implementations and RAPI clients consume.
"""

import re

import pytest

from ganeti import errors
from ganeti import qlang

P = qlang.parse_filter


def parse_error(text):
    with pytest.raises(errors.QueryFilterParseError) as info:
        P(text)
    return info.value


class TestConstants:
    def test_wire_operators(self):
        assert (qlang.OP_OR, qlang.OP_AND, qlang.OP_NOT, qlang.OP_TRUE) == \
            ("|", "&", "!", "?")
        assert (qlang.OP_EQUAL, qlang.OP_NOT_EQUAL, qlang.OP_REGEXP,
                qlang.OP_CONTAINS) == ("==", "!=", "=~", "=[]")
        assert (qlang.OP_LT, qlang.OP_LE, qlang.OP_GT, qlang.OP_GE) == \
            ("<", "<=", ">", ">=")

    def test_filter_detection_chars(self):
        for char in " ()=!<>~/\\'\"\t\n":
            assert char in qlang.FILTER_DETECTION_CHARS
        for char in "az09-_.*?:@,":
            assert char not in qlang.FILTER_DETECTION_CHARS


class TestComparisons:
    @pytest.mark.parametrize("text,expected", [
        ('name == "foobar"', ["==", "name", "foobar"]),
        ("name=='foobar'", ["==", "name", "foobar"]),
        ('name="foobar"', ["==", "name", "foobar"]),   # legacy "="
        ("name = 'foobar'", ["==", "name", "foobar"]),
        ("mem == 128", ["==", "mem", 128]),
        ("negfield != -1", ["!=", "negfield", -1]),
        ("x == +7", ["==", "x", 7]),
        ("ctime < 1234", ["<", "ctime", 1234]),
        ("ctime > 1234", [">", "ctime", 1234]),
        ("mtime <= 9999", ["<=", "mtime", 9999]),
        ("mtime >= 9999", [">=", "mtime", 9999]),
        ("mtime>=9999", [">=", "mtime", 9999]),
        ("os < 'm'", ["<", "os", "m"]),
    ])
    def test_binary(self, text, expected):
        assert P(text) == expected

    def test_integers_are_ints(self):
        value = P("be/vcpus == 0")[2]
        assert value == 0 and type(value) is int

    @pytest.mark.parametrize("name", [
        "be/vcpus", "pnode.group", "disk.size/0", "hv/kernel_path",
        "nic.mac/1", "x", "a1_b2",
    ])
    def test_field_names(self, name):
        assert P('%s == "v"' % name) == ["==", name, "v"]
        assert P(name) == ["?", name]


class TestStrings:
    def test_double_and_single_quotes(self):
        assert P("""x == "it's" """) == ["==", "x", "it's"]
        assert P("""x == 'say "hi"'""") == ["==", "x", 'say "hi"']

    def test_backslash_escapes(self):
        assert P(r'x == "val\"ue"') == ["==", "x", 'val"ue']
        assert P(r"x == 'it\'s'") == ["==", "x", "it's"]
        assert P(r'x == "back\\slash"') == ["==", "x", "back\\slash"]
        assert P(r'x == "\\"') == ["==", "x", "\\"]

    def test_special_characters_inside_strings(self):
        assert P('xyz == "va)ue and (or not"') == \
            ["==", "xyz", "va)ue and (or not"]
        assert P('x == ""') == ["==", "x", ""]

    def test_unterminated_string(self):
        parse_error('x == "abc')
        parse_error(r'x == "abc\"')


class TestContains:
    def test_in(self):
        assert P("123 in ips") == ["=[]", "ips", 123]
        assert P('"web" in tags') == ["=[]", "tags", "web"]

    def test_not_in(self):
        assert P("99 not in ips") == ["!", ["=[]", "ips", 99]]
        assert P("'a' not in nic.macs") == ["!", ["=[]", "nic.macs", "a"]]

    def test_combined(self):
        assert P('"a" in valA and "b" not in valB') == \
            ["&", ["=[]", "valA", "a"], ["!", ["=[]", "valB", "b"]]]

    def test_field_must_be_on_the_right(self):
        parse_error('tags in "web"')
        parse_error('"web" in')


class TestRegexp:
    def test_plain(self):
        assert P("name =~ m/test/") == ["=~", "name", "test"]
        assert P("name =~ /test/") == ["=~", "name", "test"]

    @pytest.mark.parametrize("delim", list("/#^|"))
    def test_delimiters(self, delim):
        body = "te.st"
        assert P("name =~ m%s%s%s" % (delim, body, delim)) == \
            ["=~", "name", body]
        assert P("name =~ %s%s%s" % (delim, body, delim)) == \
            ["=~", "name", body]
        assert P("name !~ m%s%s%s" % (delim, body, delim)) == \
            ["!", ["=~", "name", body]]

    def test_flags_become_inline_prefix(self):
        assert P("name =~ m/^node.*example.com$/i") == \
            ["=~", "name", "(?i)^node.*example.com$"]
        assert P("name =~ m/x/s") == ["=~", "name", "(?s)x"]
        for flags, prefix in [("si", "(?is)"), ("is", "(?is)"),
                              ("ssss", "(?s)"), ("iiiisiii", "(?is)")]:
            assert P("name =~ m/gi/%s" % flags) == \
                ["=~", "name", prefix + "gi"]

    def test_produced_regexp_behaves(self):
        regexp = P("name =~ m/^NODE/i")[2]
        assert re.search(regexp, "node1.example.com")
        regexp = P("name =~ m/a.b/s")[2]
        assert re.search(regexp, "a\nb")

    def test_backslashes_kept_verbatim(self):
        # "\/" already means a literal "/" to re; "\d" must survive intact.
        assert P(r"os =~ /debian\/\d+/") == ["=~", "os", r"debian\/\d+"]
        regexp = P(r"os =~ /debian\/\d+/")[2]
        assert re.search(regexp, "debian/12")
        assert P(r"x =~ |a\|b|") == ["=~", "x", r"a\|b"]
        assert re.search(P(r"x =~ |a\|b|")[2], "a|b")

    def test_other_delimiters_inside_body(self):
        assert P("x =~ #a/b|c#") == ["=~", "x", "a/b|c"]
        assert P("pip =~ |^3.*|") == ["=~", "pip", "^3.*"]

    def test_regexp_followed_by_and(self):
        assert P("name =~ /x/ and master") == \
            ["&", ["=~", "name", "x"], ["?", "master"]]

    def test_unknown_flags(self):
        err = parse_error("name=~m#a#g")
        assert "Unknown regular expression flags: 'g'" in err.args[0]
        assert "'I'" in parse_error("asdf =~ m|abc|I").args[0]

    def test_invalid_regexp(self):
        assert "Invalid regular expression" in \
            parse_error("name =~ /[/").args[0]
        parse_error("name=~^[^")

    def test_mismatched_delimiters(self):
        parse_error("name =~ /foobarbaz#")
        parse_error("name =~ m")
        parse_error("name =~ 'quoted'")


class TestGlob:
    def test_glob_to_regexp_example(self):
        assert qlang.glob_to_regexp("*.example.com") == \
            r"^[^.]*\.example\.com(\..*)?$"

    def test_glob_to_regexp_semantics(self):
        regexp = re.compile(qlang.glob_to_regexp("web?"))
        assert regexp.match("web1")
        assert regexp.match("web1.example.com")
        assert not regexp.match("web12")
        assert not regexp.match("xweb1")
        regexp = re.compile(qlang.glob_to_regexp("*.example.com"))
        assert regexp.match("node1.example.com")
        assert regexp.match("node1.example.com.au")
        assert not regexp.match("a.b.example.com")
        assert not regexp.match("node1.example.org")
        assert qlang.glob_to_regexp("a+b") == r"^a\+b(\..*)?$"

    def test_simple_glob_to_regexp(self):
        assert qlang.simple_glob_to_regexp("inst*") == "^inst.*$"
        assert qlang.simple_glob_to_regexp("a?c.d") == r"^a.c\.d$"
        assert re.match(qlang.simple_glob_to_regexp("*.com"), "a.b.com")

    def test_glob_conditions(self):
        assert P("name =* '*.example.com'") == \
            ["=~", "name", r"^[^.]*\.example\.com(\..*)?$"]
        assert P('field !* "*.example.*"') == \
            ["!", ["=~", "field", qlang.glob_to_regexp("*.example.*")]]

    def test_glob_needs_quoted_string(self):
        parse_error("name =* *.site")
        parse_error("name =* 5")


class TestTruthAndKeywords:
    def test_bare_field(self):
        assert P("master") == ["?", "master"]
        assert P("  master\t") == ["?", "master"]

    def test_not(self):
        assert P("not master") == ["!", ["?", "master"]]
        assert P("not not master") == ["!", ["!", ["?", "master"]]]
        assert P("not\tname =~ /x/") == ["!", ["=~", "name", "x"]]

    @pytest.mark.parametrize("op", ["not", "and", "or", "in"])
    def test_keyword_prefixed_field_names(self, op):
        assert P("%sxyz" % op) == ["?", "%sxyz" % op]
        assert P("not %sxyz" % op) == ["!", ["?", "%sxyz" % op]]
        assert P("  not \t%sfoo" % op) == ["!", ["?", "%sfoo" % op]]
        assert P("%sname =~ m/abc/" % op) == ["=~", "%sname" % op, "abc"]
        assert P("%s/x" % op) == ["?", "%s/x" % op]

    def test_keywords_are_case_sensitive(self):
        assert P("NOT") == ["?", "NOT"]
        parse_error("a AND b")
        parse_error("a Or b")
        parse_error("Not a")


class TestPrecedence:
    def test_and_binds_tighter_than_or(self):
        assert P("valA==1 and valB==2 or valC==3") == \
            ["|", ["&", ["==", "valA", 1], ["==", "valB", 2]],
             ["==", "valC", 3]]
        assert P("a or b and c") == \
            ["|", ["?", "a"], ["&", ["?", "b"], ["?", "c"]]]

    def test_chains_are_flat(self):
        assert P("valA==1 and valB==2 and valC==3") == \
            ["&", ["==", "valA", 1], ["==", "valB", 2], ["==", "valC", 3]]
        assert P("a or b or c and d") == \
            ["|", ["?", "a"], ["?", "b"], ["&", ["?", "c"], ["?", "d"]]]

    def test_not_binds_tightest(self):
        assert P("master and not other") == \
            ["&", ["?", "master"], ["!", ["?", "other"]]]
        assert P("not a and b") == ["&", ["!", ["?", "a"]], ["?", "b"]]
        assert P("not a or b") == ["|", ["!", ["?", "a"]], ["?", "b"]]

    def test_parentheses(self):
        assert P("not (master or other == 4)") == \
            ["!", ["|", ["?", "master"], ["==", "other", 4]]]
        assert P("a and (b or c)") == \
            ["&", ["?", "a"], ["|", ["?", "b"], ["?", "c"]]]
        assert P("((a))") == ["?", "a"]
        assert P("(xyz==\"v\" or k == 256 and x == \"y\")") == \
            ["|", ["==", "xyz", "v"],
             ["&", ["==", "k", 256], ["==", "x", "y"]]]

    def test_nested_parentheses_and_whitespace(self):
        text = ("(name\n==\"foobar\") and (xyz==\"va)ue\" and k == 256 or"
                " x ==\t\"y\"\n) and mc")
        assert P(text) == \
            ["&", ["==", "name", "foobar"],
             ["|", ["&", ["==", "xyz", "va)ue"], ["==", "k", 256]],
              ["==", "x", "y"]],
             ["?", "mc"]]
        assert P("((a or (b and not (c or d))) and e)") == \
            ["&", ["|", ["?", "a"],
                   ["&", ["?", "b"], ["!", ["|", ["?", "c"], ["?", "d"]]]]],
             ["?", "e"]]

    def test_results_are_plain_lists(self):
        def check(node):
            assert type(node) is list
            for item in node[1:]:
                if isinstance(item, list) or not isinstance(item, (str, int)):
                    check(item)
        check(P("(a or b == 1) and not (c and 'x' in d) or e =~ /f/"))


class TestErrors:
    @pytest.mark.parametrize("text", [
        "#invalid!filter#", "m/x/,", "name <> value", "name => value",
        "name =< value", "foo==bar", "foo+=1", "", "   ", "(a", "a)",
        "a and", "or a", "x == 1 y", "x == 1.5", "1 == x", "x ==",
        "a and () or b", "-x",
    ])
    def test_invalid(self, text):
        err = parse_error(text)
        assert isinstance(err, errors.ParseError)
        assert len(err.get_details()) == 3

    def test_message_and_caret(self):
        err = parse_error("name <> value")
        assert err.args[0].startswith(
            "Failed to parse query filter 'name <> value': ")
        line, caret, detail = err.get_details()
        assert line == "name <> value"
        assert caret == "     ^"
        assert line[caret.index("^")] == "<"
        assert "col:6" in detail

    def test_caret_at_end_of_input(self):
        line, caret, _ = parse_error("(a").get_details()
        assert line == "(a"
        assert caret == "  ^"

    def test_caret_points_at_bad_regexp(self):
        line, caret, detail = parse_error("name =~ m/x/g").get_details()
        assert line[len(caret) - 1:].startswith("m/x/g")
        assert "Unknown regular expression flags" in detail

    def test_caret_keeps_tabs(self):
        line, caret, _ = parse_error("\tfoo bar").get_details()
        assert line == "\tfoo bar"
        assert caret == "\t    ^"

    def test_multiline_input_shows_offending_line(self):
        line, caret, _ = parse_error("a ==\n 1 2").get_details()
        assert line == " 1 2"
        assert line[len(caret) - 1] == "2"


class TestLooksLikeFilter:
    @pytest.mark.parametrize("text", [
        "a b", "(a", "a)", "x=1", "!x", "a<b", "a>b", "~", "foo/bar",
        "a\\b", "it's", 'say"', "a\tb",
    ])
    def test_filters(self, text):
        assert qlang.looks_like_filter(text)

    @pytest.mark.parametrize("text", [
        "node1", "n-o-d-e", "n_o_d_e", "node1.example.com",
        "node1.example.com.", "*.site", "web?", "123", "",
    ])
    def test_names(self, text):
        assert not qlang.looks_like_filter(text)


class TestMakeSimpleFilter:
    def test_empty(self):
        assert qlang.make_simple_filter("name", None) is None
        assert qlang.make_simple_filter("name", []) is None

    def test_names(self):
        assert qlang.make_simple_filter("name", ["node1.example.com"]) == \
            ["|", ["==", "name", "node1.example.com"]]
        assert qlang.make_simple_filter("xyz", ["a", "b", "c"]) == \
            ["|", ["==", "xyz", "a"], ["==", "xyz", "b"], ["==", "xyz", "c"]]

    def test_globs(self):
        assert qlang.make_simple_filter("name", ["*.site", "web?", "db1"]) \
            == ["|", ["=~", "name", qlang.glob_to_regexp("*.site")],
                ["=~", "name", qlang.glob_to_regexp("web?")],
                ["==", "name", "db1"]]

    def test_numeric(self):
        assert qlang.make_simple_filter("id", ["1", "23", 4],
                                        is_numeric=True) == \
            ["|", ["==", "id", 1], ["==", "id", 23], ["==", "id", 4]]

    @pytest.mark.parametrize("bad", ["abc", "1.5", "1*", ""])
    def test_numeric_rejects_non_integers(self, bad):
        with pytest.raises(errors.OpPrereqError) as info:
            qlang.make_simple_filter("id", ["1", bad], is_numeric=True)
        assert info.value.args[1] == errors.ECODE_INVAL
        assert repr(bad) in info.value.args[0]


class TestMakeFilter:
    def test_no_names(self):
        assert qlang.make_filter([], False) is None
        assert qlang.make_filter(None, False) is None

    def test_plain_names(self):
        assert qlang.make_filter(["web1", "web2"], False) == \
            ["|", ["==", "name", "web1"], ["==", "name", "web2"]]
        assert qlang.make_filter(["mailA", "mailB"], False,
                                 namefield="id") == \
            ["|", ["==", "id", "mailA"], ["==", "id", "mailB"]]
        assert qlang.make_filter(["x"], False, namefield=None) == \
            ["|", ["==", "name", "x"]]

    @pytest.mark.parametrize("name", [
        "node1", "n-o-d-e", "n_o_d_e", "node1.example.com",
        "node1.example.com.",
    ])
    def test_single_plain_name_is_a_name(self, name):
        assert qlang.make_filter([name], False) == ["|", ["==", "name", name]]

    def test_globs(self):
        assert qlang.make_filter(["*.site"], False) == \
            ["|", ["=~", "name", qlang.glob_to_regexp("*.site")]]
        assert qlang.make_filter(["*.a", "*.b", "?.c"], False) == \
            ["|", ["=~", "name", qlang.glob_to_regexp("*.a")],
             ["=~", "name", qlang.glob_to_regexp("*.b")],
             ["=~", "name", qlang.glob_to_regexp("?.c")]]

    def test_single_filter_like_argument_is_parsed(self):
        assert qlang.make_filter(["foo/bar"], False) == ["?", "foo/bar"]
        assert qlang.make_filter(["foo=='bar'"], False) == \
            ["==", "foo", "bar"]
        assert qlang.make_filter(["field=*'*.site'"], False) == \
            ["=~", "field", qlang.glob_to_regexp("*.site")]
        assert qlang.make_filter(["status == 'running'"], False,
                                 namefield="id", is_numeric=True) == \
            ["==", "status", "running"]

    def test_several_filter_like_arguments_are_names(self):
        # Only a lone argument is sniffed; several are always names.
        assert qlang.make_filter(["a b", "c"], False) == \
            ["|", ["==", "name", "a b"], ["==", "name", "c"]]

    @pytest.mark.parametrize("text", ["foo==bar", "foo+=1", "a and"])
    def test_invalid_sniffed_filter(self, text):
        with pytest.raises(errors.QueryFilterParseError):
            qlang.make_filter([text], False)

    @pytest.mark.parametrize("args", [
        None, [], ["1", "2"], ["", "", ""], ["a", "b", "c", "d"],
    ])
    def test_forced_filter_needs_exactly_one_argument(self, args):
        with pytest.raises(errors.OpPrereqError) as info:
            qlang.make_filter(args, True)
        assert "Exactly one argument" in info.value.args[0]
        assert info.value.args[1] == errors.ECODE_INVAL

    def test_forced_filter(self):
        # A plain name is a truth test and a glob is no filter at all.
        assert qlang.make_filter(["web1"], True) == ["?", "web1"]
        with pytest.raises(errors.QueryFilterParseError):
            qlang.make_filter(["*.site"], True)
        assert qlang.make_filter(["id < 10"], True, namefield="id",
                                 is_numeric=True) == ["<", "id", 10]

    def test_numeric_names(self):
        assert qlang.make_filter(["1", "2"], False, namefield="id",
                                 is_numeric=True) == \
            ["|", ["==", "id", 1], ["==", "id", 2]]
        with pytest.raises(errors.OpPrereqError):
            qlang.make_filter(["1", "x"], False, namefield="id",
                              is_numeric=True)
