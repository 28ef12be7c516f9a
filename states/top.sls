# The LinkPeek blueprint: roles by minion id (web*, db*) or by the `roles` grain (a list, set
# with `lpminion init --grain roles=web,db`), so one host may hold both roles (dev); the database
# comes first so that on such a host the app starts against a running database.
base:
  '*':
    - linkpeek.base
    - linkpeek.hardening
  'db* or G@roles:db':
    - match: compound
    - linkpeek.db
  'web* or G@roles:web':
    - match: compound
    - linkpeek.app
    - linkpeek.nginx
  'web* or db* or G@roles:web or G@roles:db':
    - match: compound
    - linkpeek.backup
