"""A local Fruxon-compatible server: demo tenant, simulated engine, SQLite history, fault injection."""
