"""States written into a statement's text: the constant a partial index's predicate needs, and nothing
that could change the statement."""

import pytest
from sqlalchemy import Column, MetaData, Table, Text, select
from sqlalchemy.dialects import postgresql

from dunning_platform.db import written_out

reminders = Table("reminders", MetaData(), Column("reminder_id", Text), Column("status", Text))


def test_a_state_is_written_into_the_statement_not_bound():
    statement = select(reminders.c.reminder_id).where(reminders.c.status == written_out("pending"))

    compiled = statement.compile(dialect=postgresql.asyncpg.dialect())

    assert "reminders.status = 'pending'" in str(compiled)
    assert not compiled.params


@pytest.mark.parametrize("text", ["pending' OR 'a' = 'a", "Pending", "", "sent;", "a b"])
def test_anything_but_a_state_name_is_refused(text):
    with pytest.raises(ValueError, match="not a state name"):
        written_out(text)
