"""The catalog: every SQL statement of the app, the schema and its migrations, cache files."""
