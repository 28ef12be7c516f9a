# The LinkPeek blueprint: roles by minion id (web*, db*) or by the `roles` grain (a list, set
# with `lpminion init --grain roles=web,db`), so one host may hold both roles (dev).
base:
  '*':
    - linkpeek.base
    - linkpeek.hardening
  'web* or G@roles:web':
    - match: compound
    - linkpeek.app
    - linkpeek.nginx
  'db* or G@roles:db':
    - match: compound
    - linkpeek.db
  'web* or db* or G@roles:web or G@roles:db':
    - match: compound
    - linkpeek.backup
