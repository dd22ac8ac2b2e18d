"""Accounts' use cases: one function per command or event reaction, called by routes and
handlers alike; each holds its transaction, the repository calls and the domain decision."""
