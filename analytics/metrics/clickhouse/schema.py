"""The analytics engine's tables, single node or cluster, from one definition.

`events` holds the columns the analyses read and nothing else: no free text (the encrypted review and
feedback texts are left out of `properties`), no IP prefix, no anonymous id, no page URLs. Its engine is
`ReplacingMergeTree(version)` ordered by `(event_name, timestamp, uuid)` — columns that never change
after ingestion — so an event sent twice (a replay, a retried batch, an identity merge re-sending it with
its new user id) is one row after a merge, the newest version winning; every query reads `FINAL`, so
answers are right before the merge too. `replica` holds the identity of the replication that filled the
tables (a wiped engine is noticed and refilled, never read half-empty).

The cluster form (docs/operations.md, "Analytics engine"): every statement `ON CLUSTER`, the local table
`ReplicatedReplacingMergeTree` under `events_local`, and `events` a `Distributed` table sharded by
`cityHash64(user_key)` so that one person's events — their funnel, their retention — sit on one shard.
"""

from __future__ import annotations

from dataclasses import dataclass

# (name, ClickHouse type) of every replicated column, in insert order.
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("uuid", "UUID"),
    ("event_id", "UInt64"),
    ("event_name", "LowCardinality(String)"),
    ("event_type", "LowCardinality(String)"),
    ("timestamp", "DateTime64(6, 'UTC')"),
    ("user_id", "Nullable(String)"),
    ("device_type", "LowCardinality(String)"),
    ("browser", "LowCardinality(String)"),
    ("os", "LowCardinality(String)"),
    ("city", "LowCardinality(String)"),
    ("country", "LowCardinality(String)"),
    ("listing_id", "Nullable(String)"),
    ("host_id", "Nullable(String)"),
    ("properties", "String"),
    ("version", "UInt64"),
)
ORDER_BY = "(event_name, timestamp, uuid)"
SHARDING_KEY = "cityHash64(ifNull(user_id, toString(uuid)))"


@dataclass(frozen=True)
class Layout:
    """Where the tables live: `database`, and the cluster's name when the engine is a cluster."""

    database: str
    cluster: str = ""

    @property
    def events(self) -> str:
        return f"{self.database}.events"

    @property
    def replica(self) -> str:
        return f"{self.database}.replica"

    def _on(self) -> str:
        return f" ON CLUSTER {self.cluster}" if self.cluster else ""

    def create_statements(self) -> list[str]:
        """Idempotent DDL of every table (CREATE … IF NOT EXISTS)."""
        columns = ",\n    ".join(f"`{name}` {kind}" for name, kind in EVENT_COLUMNS)
        on = self._on()
        statements = [f"CREATE DATABASE IF NOT EXISTS {self.database}{on}"]
        if not self.cluster:
            statements.append(
                f"CREATE TABLE IF NOT EXISTS {self.events} (\n    {columns}\n)\n"
                f"ENGINE = ReplacingMergeTree(version)\nPARTITION BY toYYYYMM(timestamp)\nORDER BY {ORDER_BY}"
            )
            statements.append(
                f"CREATE TABLE IF NOT EXISTS {self.replica} (replica_id String, created_at DateTime64(6, 'UTC'))\n"
                "ENGINE = ReplacingMergeTree ORDER BY replica_id"
            )
            return statements
        local = f"{self.database}.events_local"
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {local}{on} (\n    {columns}\n)\n"
            "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/"
            f"{self.database}/events_local', '{{replica}}', version)\n"
            f"PARTITION BY toYYYYMM(timestamp)\nORDER BY {ORDER_BY}"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.events}{on} AS {local}\n"
            f"ENGINE = Distributed({self.cluster}, {self.database}, events_local, {SHARDING_KEY})"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.replica}{on} (replica_id String, created_at DateTime64(6, 'UTC'))\n"
            "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/"
            f"{self.database}/replica', '{{replica}}') ORDER BY replica_id"
        )
        return statements

    def compact_statement(self) -> str:
        """Merge every partition of the events into one part, duplicates collapsed (after the initial copy)."""
        table = f"{self.database}.events_local" if self.cluster else self.events
        return f"OPTIMIZE TABLE {table}{self._on()} FINAL"

    def drop_statements(self) -> list[str]:
        on = self._on()
        tables = [self.events, self.replica] + ([f"{self.database}.events_local"] if self.cluster else [])
        return [f"DROP TABLE IF EXISTS {table}{on}" for table in tables]
