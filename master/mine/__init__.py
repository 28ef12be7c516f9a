"""Salt's mine on the master: what minions publish for the others' templates.

    store.py     the latest value of each (minion, mine function), in the master's SQLite file
    handlers.py  the ROUTER requests `mine_update` (publish) and `mine_get` (read)

`mine_functions` is read by core/mine.py. A minion publishes only the functions its own pillar declares under `mine_functions`
(compiled by the master, never taken from the message); each entry may carry Salt's
`allow_tgt` / `allow_tgt_type`, and a reader gets a publisher's value only when the
reader's authenticated id matches that target (default: every accepted minion).
"""
