# Backups of a web host: /etc (nginx, the app's config, the certificate) and the static files.
backup:
  repository: sftp:backup@vault.example.org:/srv/restic/{{ grains['id'] }}
  env: {}
  jobs:
    etc-weekly:
      source: files
      paths: [/etc]
      exclude: ["/etc/ssl/private/*.old"]
      cron: "0 4 * * 0"
      keep: {weekly: 8}
    static-weekly:
      source: files
      paths: [/srv/linkpeek/static]
      cron: "30 4 * * 0"
      keep: {weekly: 8}
  verify: {cron: "0 5 * * 0", read_data_subset: "5%"}
