"""``$page``, ``$pagesize``, ``$filter``, ``$orderby`` and ``$select`` on list endpoints, with Visma's envelope.

Visma documents these five query options for its list endpoints (developer.vismaonline.com "Query Customization":
Pagination, Filtering, Selecting, Sorting; visma-eaccounting.md F19, F20, §3) and names 6000 QueryParameterError and
6001 InvalidInput for what it cannot use. ``$filter``, ``$orderby`` and ``$select`` are OData's (the v2 API is ASP.NET
Web API with OData query options, ``ODataQueryOptions`` in its Swagger 2.0 document), so a property the resource does
not have is refused with OData's own text, "Could not find a property named 'X' on type 'VoucherApi'."
(Microsoft.OData ``MetadataBinder_PropertyNotDeclared``), as 6000. ``$orderby`` takes ``Property [asc|desc]``, comma
separated; nulls sort first ascending (OData's rule); a collection or object property cannot be ordered by.
``$select`` keeps only the named properties (``*`` keeps all). Other ``$`` parameters are ignored, as Web API OData
ignores query options it does not know.

Where Visma's documents are silent (visma-eaccounting.md §8) the sandbox decides, strictly:
- ``$page`` is 1-based; ``$pagesize`` defaults to 50 (a third-party guide [C8]) and is at most 1000; a bigger value is
  400/6000 unless the ``pagesize_over_max`` setting is ``"clamp"``; a page past the end answers an empty ``Data``; an
  empty list is one page (``TotalNumberOfPages`` 1), as a client paging until ``CurrentPage == TotalNumberOfPages``
  against Visma (pwitab/visma) needs.
- ``$filter`` is an OData subset on top-level fields: ``eq ne gt ge lt le``, ``and or not``, parentheses,
  ``contains(F,'x')``, ``startswith(F,'x')``, ``endswith(F,'x')``; literals ``'text'`` (``''`` escapes a quote),
  numbers, ``true false null``, dates ``2026-01-31`` / ``2026-01-31T00:00:00Z`` and ``datetime'2026-01-31'``.
  Anything it cannot parse, or an unknown field, is 400/6000 ``QueryParameterError``; a date literal that is not a real
  date (or a text compared with a date field that is not one) is 400/6001 ``InvalidInput``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sandbox.errors import ApiError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

Pred = Callable[[dict[str, Any]], bool]
# Collection or object properties of the schemas the sandbox's lists serve (VoucherApi, CostCenterApi): not orderable.
NOT_PRIMITIVE = frozenset({"Rows", "Attachments", "Items"})

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>'(?:[^']|'')*')
  | (?P<dtfn>datetime'[^']*')
  | (?P<date>\d{4}-\d{1,2}-\d{1,2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_/]*)
  | (?P<punct>[(),])
)""",
    re.VERBOSE,
)
_DATE_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$")
COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
FUNCTIONS = {"contains", "startswith", "endswith"}


def query_error(message: str) -> ApiError:
    return ApiError(400, 6000, f"QueryParameterError - {message}")


def unknown_property(name: str, type_name: str | None) -> ApiError:
    """OData's text for a property the resource does not have."""
    where = f"on type '{type_name}'" if type_name else "on this resource"
    return query_error(f"Could not find a property named '{name}' {where}.")


def input_error(message: str) -> ApiError:
    return ApiError(400, 6001, f"InvalidInput - {message}")


def _parse_date(text: str) -> datetime:
    try:
        if "T" in text:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise input_error(f"'{text}' is not a valid date. Use the format yyyy-MM-dd.") from None


class _Parser:
    def __init__(self, text: str, fields: set[str], type_name: str | None = None) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise query_error(f"The $filter could not be parsed near '{text[pos:pos + 20]}'.")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0
        self.fields = fields
        self.type_name = type_name

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise query_error("The $filter ends unexpectedly.")
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        tok = self.take()
        if tok[1] != value:
            raise query_error(f"Expected '{value}' in $filter but found '{tok[1]}'.")

    def parse(self) -> Pred:
        pred = self.or_expr()
        if self.peek() is not None:
            raise query_error(f"Unexpected '{self.peek()[1]}' in $filter.")  # type: ignore[index]
        return pred

    def or_expr(self) -> Pred:
        left = self.and_expr()
        while self.peek() == ("ident", "or"):
            self.take()
            right = self.and_expr()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def and_expr(self) -> Pred:
        left = self.unary()
        while self.peek() == ("ident", "and"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def unary(self) -> Pred:
        if self.peek() == ("ident", "not"):
            self.take()
            inner = self.unary()
            return lambda r: not inner(r)
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.or_expr()
            self.expect(")")
            return inner
        tok = self.peek()
        if tok and tok[0] == "ident" and tok[1] in FUNCTIONS:
            return self.function()
        return self.comparison()

    def field(self) -> str:
        kind, value = self.take()
        if kind != "ident":
            raise query_error(f"Expected a property name in $filter but found '{value}'.")
        if value not in self.fields:
            raise unknown_property(value, self.type_name)
        return value

    def literal(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "dtfn":
            return _parse_date(value[len("datetime'"):-1])
        if kind == "date":
            return _parse_date(value)
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind == "ident" and value in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value]
        raise query_error(f"'{value}' is not a value.")

    def function(self) -> Pred:
        name = self.take()[1]
        self.expect("(")
        field = self.field()
        self.expect(",")
        arg = self.literal()
        self.expect(")")
        if not isinstance(arg, str):
            raise query_error(f"{name}() needs a text value.")
        needle = arg.lower()

        def pred(r: dict[str, Any]) -> bool:
            value = r.get(field)
            if not isinstance(value, str):
                return False
            hay = value.lower()
            return {"contains": needle in hay, "startswith": hay.startswith(needle),
                    "endswith": hay.endswith(needle)}[name]

        return pred

    def comparison(self) -> Pred:
        field = self.field()
        kind, op = self.take()
        if kind != "ident" or op not in COMPARISONS:
            raise query_error(f"'{op}' is not a comparison operator (eq, ne, gt, ge, lt, le).")
        literal = self.literal()

        def pred(r: dict[str, Any]) -> bool:
            value = r.get(field)
            lit = literal
            if isinstance(lit, datetime):
                if not isinstance(value, str) or not _DATE_VALUE.match(value):
                    return False
                value = _parse_date(value)
            elif isinstance(value, str) and _DATE_VALUE.match(value) and isinstance(lit, str):
                lit = _parse_date(lit)
                value = _parse_date(value)
            if op == "eq":
                return value == lit
            if op == "ne":
                return value != lit
            if value is None or lit is None:
                return False
            try:
                return {"gt": value > lit, "ge": value >= lit, "lt": value < lit, "le": value <= lit}[op]
            except TypeError:
                raise query_error(f"'{field}' cannot be compared with {literal!r}.") from None

        return pred


def parse_filter(text: str, fields: set[str], type_name: str | None = None) -> Pred:
    """Compile ``$filter`` into a predicate over a resource (its JSON dict)."""
    return _Parser(text, fields, type_name).parse()


def _int_param(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise query_error(f"{name} must be a whole number, not '{raw}'.") from None
    if value < 1:
        raise query_error(f"{name} must be 1 or more.")
    return value


def _order(items: list[dict[str, Any]], orderby: str, fields: set[str],
           type_name: str | None = None) -> list[dict[str, Any]]:
    parts = [p.strip() for p in orderby.split(",")]
    if not all(parts):
        raise query_error(f"$orderby '{orderby}' has an empty part.")
    keys: list[tuple[str, bool]] = []
    for part in parts:
        bits = part.split()
        if len(bits) > 2 or (len(bits) == 2 and bits[1] not in ("asc", "desc")):
            raise query_error(
                f"$orderby '{part}' is not valid: use a property name, optionally followed by asc or desc.")
        if bits[0] not in fields:
            raise unknown_property(bits[0], type_name)
        if bits[0] in NOT_PRIMITIVE or any(isinstance(r.get(bits[0]), (list, dict)) for r in items):
            raise query_error(f"The $orderby expression '{bits[0]}' must evaluate to a single value of primitive type.")
        keys.append((bits[0], len(bits) == 2 and bits[1] == "desc"))
    for key, desc in reversed(keys):  # stable sorts, last key first
        items = sorted(items, key=lambda r, k=key: (r.get(k) is not None, r.get(k)), reverse=desc)
    return items


def _select(items: list[dict[str, Any]], select: str, fields: set[str],
            type_name: str | None = None) -> list[dict[str, Any]]:
    names = [n.strip() for n in select.split(",")]
    if not all(names):
        raise query_error(f"$select '{select}' has an empty part.")
    if "*" in names:
        return items
    for name in names:
        if name not in fields:
            raise unknown_property(name, type_name)
    return [{k: v for k, v in r.items() if k in names} for r in items]


def paginate(
    items: list[dict[str, Any]], params: Any, server_time: str, fields: set[str], clamp: bool = False,
    type_name: str | None = None,
) -> dict[str, Any]:
    """Filter, order, page and select ``items`` (already in API shape) into ``{"Meta", "Data"}``.

    ``fields`` are the resource's top-level property names (from its schema), the ones the query options may name;
    ``type_name`` is its schema name (``VoucherApi``), for OData's "Could not find a property" text.
    """
    if "$filter" in params:
        filt = params["$filter"]
        if not filt.strip():
            raise query_error("$filter is empty.")
        pred = parse_filter(filt, fields, type_name)
        items = [r for r in items if pred(r)]
    if "$orderby" in params:
        items = _order(items, params["$orderby"], fields, type_name)
    selected = None
    if "$select" in params:
        selected = params["$select"]
        _select([], selected, fields, type_name)  # refuse a bad $select before anything is paged
    page = _int_param(params.get("$page"), "$page", 1)
    size = _int_param(params.get("$pagesize"), "$pagesize", DEFAULT_PAGE_SIZE)
    if size > MAX_PAGE_SIZE:
        if not clamp:
            raise query_error(f"$pagesize must be at most {MAX_PAGE_SIZE}.")
        size = MAX_PAGE_SIZE
    total = len(items)
    page_items = items[(page - 1) * size: page * size]
    return {
        "Meta": {
            "CurrentPage": page,
            "PageSize": size,
            # An empty list is one empty page, not none (sandbox/README.md "Behaviour and its sources", point 4).
            "TotalNumberOfPages": max(1, math.ceil(total / size)),
            "TotalNumberOfResults": total,
            "ServerTimeUtc": server_time,
        },
        "Data": _select(page_items, selected, fields, type_name) if selected is not None else page_items,
    }

