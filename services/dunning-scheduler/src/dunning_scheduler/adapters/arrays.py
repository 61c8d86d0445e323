"""`column IN (values)` written as `column = ANY(:array)`."""

from collections.abc import Iterable

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def among(column, values: Iterable) -> ColumnElement[bool]:
    """One statement text whatever the number of values: an IN list is rendered with a parameter per
    value, so each new count was a new statement for the driver to prepare, a round trip of its own on
    every run of events (the runs of a busy consumer rarely have the same size twice)."""
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
