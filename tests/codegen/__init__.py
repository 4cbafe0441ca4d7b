"""The plugin (codegen/): goldens, model, names, types, nullability, options, PostgreSQL judging."""
