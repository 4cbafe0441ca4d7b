"""The plue-db command as a user runs it: a real process, its options, output and errors."""
