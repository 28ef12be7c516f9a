{%- from 'linkpeek/map.jinja' import lp with context %}
# Backups: the jobs themselves are pillar data (`backup:` in pillar/backup/*.sls, the shape the
# minion's backup scheduler reads); this state only makes sure restic is installed (the
# database role's dump tool comes with its server package).
linkpeek-backup-tools:
  pkg.installed:
    - pkgs: [restic]
