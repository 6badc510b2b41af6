"""Where shortvid keeps things: the artifact layout on disk and its tables in PostgreSQL. No Dagster import."""
