"""The one exception the plugin raises for problems in the user's schema or queries."""


class GenerationError(Exception):
    """A problem the user must fix in schema.sql, queries/ or sqlc.yaml.

    The message names the file, the query and the column or parameter at fault, and
    says how to fix it. Raising it means no file is written.
    """
