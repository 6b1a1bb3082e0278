# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Label selectors, parsed and checked before they are sent. Pure.

The grammar is the apiserver's (k8s.io/apimachinery/pkg/labels/selector.go ``Parse``):
requirements joined by ``,``; each is ``key``, ``!key``, ``key=value``, ``key==value``,
``key!=value``, ``key in (v1,v2)``, ``key notin (v1,v2)``, ``key>N`` or ``key<N``. An empty
selector selects everything, which is never what a blank option means, so it is refused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.regcred.k8s.plugins.module_utils.names import valid_label_key, valid_label_value
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError

# The apiserver's lexer: these characters end an identifier; anything else belongs to one.
_TOKEN = re.compile(r"\s*(?:(==|!=|=|!|\(|\)|,|<|>)|([^\s!=(),<>]+))")
_SET_OPERATORS = ("in", "notin")


def _tokens(text, field):
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:  # only trailing white space is left
            if text[position:].strip():
                raise InputError(field, "cannot read the selector at %r" % (text[position:],))
            break
        tokens.append(("op", match.group(1)) if match.group(1) else ("word", match.group(2)))
        position = match.end()
    return tokens


class _Reader:
    def __init__(self, tokens, field):
        self.tokens, self.field, self.index = tokens, field, 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", None)

    def take(self):
        token = self.peek()
        self.index += 1
        return token

    def fail(self, message):
        raise InputError(self.field, message)

    def word(self, what):
        kind, value = self.take()
        if kind != "word":
            self.fail("expected %s, found %s" % (what, "the end" if kind == "end" else repr(value)))
        return value

    def key(self):
        key = self.word("a label key")
        if not valid_label_key(key):
            self.fail("%r is not a valid label key (an optional DNS subdomain prefix and '/', then at most 63 "
                      "letters, digits, '-', '_' or '.', starting and ending with a letter or digit)" % key)
        return key

    def value(self, key):
        kind, value = self.peek()
        if kind != "word":  # key= with nothing after it selects an empty value
            return ""
        self.take()
        if not valid_label_value(value):
            self.fail("%r (for %s) is not a valid label value (at most 63 letters, digits, '-', '_' or '.', "
                      "starting and ending with a letter or digit)" % (value, key))
        return value

    def values(self, key, operator):
        kind, value = self.take()
        if (kind, value) != ("op", "("):
            self.fail("expected '(' after %s %s" % (key, operator))
        found = []
        while True:
            found.append(self.value(key))
            kind, value = self.take()
            if (kind, value) == ("op", ")"):
                break
            if (kind, value) != ("op", ","):
                self.fail("expected ',' or ')' in the values of %s %s" % (key, operator))
        if found == [""]:
            self.fail("%s %s () needs at least one value" % (key, operator))
        return found

    def requirement(self):
        if self.peek() == ("op", "!"):
            self.take()
            return (self.key(), "!", [])
        key = self.key()
        kind, value = self.peek()
        if kind == "end" or (kind, value) == ("op", ","):
            return (key, "exists", [])
        self.take()
        if kind == "word" and value in _SET_OPERATORS:
            return (key, value, self.values(key, value))
        if (kind, value) in (("op", "="), ("op", "=="), ("op", "!=")):
            return (key, "!=" if value == "!=" else "=", [self.value(key)])
        if (kind, value) in (("op", "<"), ("op", ">")):
            number = self.word("a whole number after %s %s" % (key, value))
            if not re.match(r"^-?[0-9]+\Z", number):
                self.fail("%s %s needs a whole number, not %r" % (key, value, number))
            return (key, value, [number])
        return self.fail("expected an operator (=, ==, !=, in, notin, <, >), ',' or the end after %s, found %r"
                         % (key, value))


def parse_selector(text, field):
    """[(key, operator, values)] for a label selector; raises InputError naming ``field`` for a blank
    or malformed one, before any request is made."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(field, "is blank, which would select everything; leave it out or give a selector "
                                "such as team=payments")
    reader = _Reader(_tokens(text, field), field)
    requirements = [reader.requirement()]
    while reader.peek() != ("end", None):
        kind, value = reader.take()
        if (kind, value) != ("op", ","):
            reader.fail("expected ',' between requirements, found %r" % value)
        requirements.append(reader.requirement())
    return requirements
