"""The typed model of a generated package: decided once in build.py, printed by templates.

types.py names Python types and where they come from, commands.py the sqlc commands,
results.py how a row is decoded, package.py the package's modules and functions.
"""
