# Backups of the dev host (the shape of the backups issue, read by the minion's scheduler).
backup:
  repository: /var/backups/restic/linkpeek-dev
  env: {}
  jobs:
    db-nightly:
      source: {{ 'mongodb' if salt['pillar.get']('linkpeek:db:engine') == 'mongodb' else 'postgres' }}
      database: linkpeek
      cron: "0 3 * * *"
      keep: {daily: 7, weekly: 4}
    etc-weekly:
      source: files
      paths: [/etc]
      exclude: ["/etc/ssl/private/*.old"]
      cron: "0 4 * * 0"
      keep: {weekly: 8}
  verify: {cron: "0 5 * * 0", read_data_subset: "5%"}
