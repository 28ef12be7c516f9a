# Backups of the database host: the nightly dump and /etc, to an off-site restic repository.
backup:
  repository: sftp:backup@vault.example.org:/srv/restic/{{ grains['id'] }}
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
