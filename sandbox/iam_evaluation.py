"""AWS's evaluation of identity-based policies, conditions included, for the sandbox's IAM enforcement.

One request is evaluated as AWS documents it ("Policy evaluation logic", "IAM JSON policy elements:
Condition operators", "Single-valued vs. multivalued context keys"):

* an explicit Deny in any statement that matches wins; else an Allow that matches allows; else the
  request is implicitly denied;
* a statement matches when its Action (or NotAction), its Resource (or NotResource) and every
  condition in its Condition block match: operators are ANDed, keys within an operator are ANDed, the
  values of one key are ORed (for the negated operators: the context value equals none of them);
* a key missing from the request's context fails the condition, except for the negated operators
  (StringNotEquals, ArnNotLike, ...), which then match, ``...IfExists``, which then matches, ``Null``,
  which tests exactly that, and ``ForAllValues:``, which matches an absent or empty set;
* ``ForAnyValue:`` matches when one value of a multivalued key (aws:TagKeys) matches; ``ForAllValues:``
  when every value does;
* Action, Resource, String*Like and Arn* compare with ``*`` and ``?`` wildcards; actions ignore case;
* a policy variable (``${aws:ResourceTag/Environment}``) in Resource or a condition's values is the
  context's value of that key; a statement whose variable the context cannot resolve does not match.

The module is pure (no moto): tests/unit/sandbox/test_iam_evaluation.py checks it against the
examples of AWS's documentation. What it leaves out: a variable's default (``${key, 'value'}``),
the Date and IpAddress operators, resource-based policies,
permissions boundaries and SCPs (the sandbox's users hold identity policies only).
"""

import functools
import re

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"


def as_list(value):
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=4096)
def _compiled(pattern, ignore_case):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard(pattern, value, ignore_case=False):
    """IAM's wildcards: * any run of characters (slashes and colons too), ? one character."""
    return _compiled(pattern, ignore_case).fullmatch(value) is not None


def _number(value):
    return float(value)


# Each base operator: (compare(context value, policy value) -> bool, negated?)
_OPERATORS = {
    "StringEquals": (lambda have, want: have == want, False),
    "StringNotEquals": (lambda have, want: have == want, True),
    "StringEqualsIgnoreCase": (lambda have, want: have.lower() == want.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda have, want: have.lower() == want.lower(), True),
    "StringLike": (lambda have, want: wildcard(want, have), False),
    "StringNotLike": (lambda have, want: wildcard(want, have), True),
    "ArnEquals": (lambda have, want: wildcard(want, have), False),
    "ArnLike": (lambda have, want: wildcard(want, have), False),
    "ArnNotEquals": (lambda have, want: wildcard(want, have), True),
    "ArnNotLike": (lambda have, want: wildcard(want, have), True),
    "Bool": (lambda have, want: have.lower() == want.lower(), False),
    "NumericEquals": (lambda have, want: _number(have) == _number(want), False),
    "NumericNotEquals": (lambda have, want: _number(have) == _number(want), True),
    "NumericLessThan": (lambda have, want: _number(have) < _number(want), False),
    "NumericLessThanEquals": (lambda have, want: _number(have) <= _number(want), False),
    "NumericGreaterThan": (lambda have, want: _number(have) > _number(want), False),
    "NumericGreaterThanEquals": (lambda have, want: _number(have) >= _number(want), False),
}


class UnknownOperator(ValueError):
    """A condition operator this evaluator does not know: refused loudly rather than passed."""


def _text(value):
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _lookup(context, key):
    """The context's values for a key (keys ignore case, as AWS's do), or None when it is absent."""
    for name, value in context.items():
        if name.lower() == key.lower():
            return [_text(v) for v in as_list(value)]
    return None


def condition_matches(operator, key, wanted, context):
    """One key of one operator of a Condition block, against the request's context."""
    wanted = [_text(w) for w in as_list(wanted)]
    have = _lookup(context, key)
    if operator == "Null":
        return (have is None or have == []) == (wanted[0].lower() == "true")
    qualifier, _colon, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base not in _OPERATORS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnknownOperator(operator)
    compare, negated = _OPERATORS[base]

    def one(value):  # a single context value against the policy's values
        hit = any(compare(value, w) for w in wanted)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(value) for value in have or [])
    if qualifier == "ForAnyValue":
        return any(one(value) for value in have or [])
    if have is None or have == []:
        return if_exists or negated
    return any(one(value) for value in have)


VARIABLE = re.compile(r"\$\{([^}]+)\}")


class Unresolved(LookupError):
    """A policy variable whose key the request's context does not hold."""


def resolve(value, context):
    """A policy value with its ${key} variables replaced by the context's (single) values."""
    if not isinstance(value, str) or "${" not in value:
        return value

    def one(match):
        found = _lookup(context, match.group(1))
        if not found:
            raise Unresolved(match.group(1))
        return found[0]
    return VARIABLE.sub(one, value)


def statement_matches(statement, action, resource, context):
    try:
        return _statement_matches(statement, action, resource, context)
    except Unresolved:
        return False


def _statement_matches(statement, action, resource, context):
    if "Action" in statement:
        if not any(wildcard(a, action, ignore_case=True) for a in as_list(statement["Action"])):
            return False
    elif any(wildcard(a, action, ignore_case=True) for a in as_list(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(wildcard(resolve(r, context), resource) for r in as_list(statement["Resource"])):
            return False
    elif any(wildcard(resolve(r, context), resource) for r in as_list(statement["NotResource"])):
        return False
    return all(condition_matches(operator, key, [resolve(w, context) for w in as_list(wanted)], context)
               for operator, keys in statement.get("Condition", {}).items()
               for key, wanted in keys.items())


def evaluate(policies, action, resource, context):
    """(ALLOW, EXPLICIT_DENY or IMPLICIT_DENY, the Sids that decided): the deny's, or every statement
    that allows (one alone: the request needs that statement); [] for an implicit deny."""
    allowed_by = []
    for policy in policies:
        for statement in as_list(policy["Statement"]):
            if statement_matches(statement, action, resource, context):
                if statement["Effect"] == "Deny":
                    return EXPLICIT_DENY, [statement.get("Sid", "(no Sid)")]
                allowed_by.append(statement.get("Sid", "(no Sid)"))
    return (ALLOW, allowed_by) if allowed_by else (IMPLICIT_DENY, [])
