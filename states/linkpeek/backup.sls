{%- from 'linkpeek/map.jinja' import lp with context %}
# Backups: the jobs themselves are pillar data (`backup:` in pillar/backup/*.sls, the shape the
# minion's backup scheduler reads); this state only makes sure restic, and for the database
# role the dump tool, are installed.
linkpeek-backup-tools:
  pkg.installed:
    - pkgs:
      - restic
{%- if lp.is_db and lp.db.engine == 'postgresql' %}
      - postgresql-client
{%- endif %}
