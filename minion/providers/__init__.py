"""Providers: the commands that state modules use to look at and change the host.

The diff (what differs, what to change) lives in the state modules; providers only run
commands (argv lists, never a shell) and parse their output into facts.
"""
