"""What each row of docs/benchmarks.md measured, written into the document under the table."""

METHODS = """
## What each row measures

All measurements run in one process (`python -m tests.bench`, uvloop) against one embedded PostgreSQL
server started for the run. Each measurement gets a fresh database (roles, schemas, migrations, as the dev
stack bootstraps them) and a fresh Tansu broker (same binary and settings as `make run`), so none sees
another's rows, topics or committed offsets. Services run as separate processes, launched exactly as
`make run` launches them (`uvicorn <package>.main:app`, the dev stack's environment); their peak RSS is
the kernel's high-water mark (`VmHWM`) and psutil samples of the process tree. A service measurement
starts its clock only after a warm-up event has gone through it (Tansu takes about 5 s to let a new
consumer group in).

### Baselines (the machine's limits, same run)

- **raw aiokafka produce**: N inbound CloudEvents (LoanBooked and RepaymentReceived, JSON, keyed by
  loan id) sent with the services' own producer settings (`dunning_messaging.kafka.make_producer`:
  acks=all, linger 5 ms, 256 KiB batches) to a 4-partition topic; timed until every send is acknowledged.
- **raw aiokafka consume + json parse**: the same N messages read back from the beginning (partitions
  assigned, no group) and `json.loads`-ed each.
- **bare asyncpg executemany**: outbox-shaped rows (topic, key, value bytea, headers jsonb, identity key)
  inserted by `executemany` in batches of 1,000, one transaction per batch.
- **bare SKIP LOCKED claim loop**: a table of N pending timers (partial index on `due_at` of pending
  ones), all due; one connection loops: `SELECT id ... WHERE due_at <= now() ORDER BY due_at LIMIT 1000
  FOR UPDATE SKIP LOCKED`, `UPDATE ... SET state='fired', fired_at=clock_timestamp()`, commit.
  The steady row: N more timers due tomorrow stay pending while `timer_steady_rate` per second fall due
  for `timer_steady_seconds`; the loop polls every 50 ms when idle; lateness = `fired_at - due_at`.
- **bare SKIP LOCKED loop + outbox rows, scheduler's table**: the same claim loop on the scheduler's own
  `timers` table, whose one statement also writes each fired timer's event, built from its row as the
  scheduler builds it, into the outbox, as firing an action must. The scheduler's firing row is a ratio of the plain loop above (the issue's
  measure); its notes give the ratio to this one as well.
- **raw httpx calls**: POSTs of an SMS-sized JSON body with keep-alive at a concurrency of 50 to the
  provider process (the dev provider when it exists, otherwise a minimal uvicorn app that answers 200).

### Services

- **ingestion via Kafka**: K LoanBooked/RepaymentReceived (each loan booked with an installment 3 days
  overdue, then partly paid) produced to `lending.repayment-events.v1`; timed from the first send until
  K rows are in `ingestion.inbox` (the consumer writes them in the transaction that applies the event and
  writes the outbox). Ratio of the raw produce rate.
- **ingestion via HTTP batch**: the same events as JSON arrays of 500 to `POST /v1/repayment-events`,
  4 requests in flight; counts the items answered `accepted`. Ratio of the raw produce rate.
- **scheduler firing due timers**: the scheduler's own timer table seeded with N due timers before the
  service starts; timed from readiness until N are fired. The steady row repeats the bare loop's steady
  phase against the scheduler. Ratios of the bare loop's rows.
- **notification: guard + provider**: each borrower's LoanBooked first (so contacts are known), then N
  ReminderRequested (sms, one per borrower, in the borrower's daytime, `not_before` now); timed until N
  ReminderSent are on `dunning.reminder-sent.v1`, whatever their status (the statuses are listed).
  Ratio of the raw httpx rate.
- **pipeline** (ingestion, scheduler, notification and the provider, one warm-up loan through all of
  them first), in two phases on the same processes:
  - **steady**, first, on a quiet system: loans booked at `steady_rate` per second (50 ms ticks) for
    `steady_seconds`, each with an installment 1 day overdue; latency per loan = its first ReminderSent
    seen on the bus minus its LoanOverdue seen on the bus (one observer, one clock). The notes split it
    into the scheduler hop (LoanOverdue -> ReminderRequested) and the notification hop
    (ReminderRequested -> ReminderSent), and into steps read from the services' own tables (outbox
    `created_at`/`published_at`, inbox `handled_at`: the start of the transaction that wrote or took
    the row): each relay, each consumer's wait, each service's work. The observer fetches with a
    100 ms wait (the embedded broker answers a fetch only as its wait runs out).
  - **loans overdue at once**: N such loans produced at once; timed from the first send until a
    ReminderSent for every one of them is on the bus.
  Both are ratios of the slowest baseline (the pipeline cannot beat its slowest bare step).
- **N replicas** (`--replicas`, default 2; 0 in quick mode): ingestion via Kafka, the scheduler's
  all-due phase and notification again with that many processes of the service (consumer groups share
  the 4 partitions; timers are shared by SKIP LOCKED); the ratio is the scaling factor over one replica.
  A run waits 8 s after the warm-up for the consumer group to rebalance.

### Reading the numbers

A measurement that runs out of time (`drain_timeout`, 600 s by default) reports the rate of what it did
finish, marked INCOMPLETE with how much that was. One that cannot run at all (a service missing, a
table the harness cannot seed) is "not measured" with the reason, and the others still run.

The machine is shared and small (2 cores run the broker, PostgreSQL, the services and the load
generator together), so absolute rates move with whatever else runs; the ratios, measured minutes apart
on the same machine, move much less. The load averages at the start and the end are printed with the
machine.
"""
