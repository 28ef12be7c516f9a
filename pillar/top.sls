# Which pillar files each minion gets. Secrets (pillar/secrets/) are targeted by minion id
# only: a grain is reported by the minion itself, so the master refuses a secret that would
# reach a minion through a grain match.
base:
  '*':
    - linkpeek.common
  'dev*':
    - linkpeek.dev
    - secrets.dev
    - health.web
    - health.db
    - backup.dev
  'web*':
    - linkpeek.prod
    - linkpeek.prod_web
    - secrets.prod_web
    - health.web
    - backup.web
  'db*':
    - linkpeek.prod
    - secrets.prod_db
    - health.db
    - backup.db
