{%- from 'linkpeek/map.jinja' import lp with context %}
# Backups: the jobs themselves are pillar data (`backup:` in pillar/backup/*.sls, the shape the
# minion's backup scheduler reads); restic comes with linkpeek.base's packages and the dump
# tool with the database server's. A repository on a local path gets its private directory.
include:
  - linkpeek.base
{%- set repository = salt['pillar.get']('backup:repository', '') %}
{%- if repository.startswith('/') %}

linkpeek-backup-dir:
  file.directory:
    - name: {{ repository.rsplit('/', 1)[0] or '/' }}
    - user: root
    - group: root
    - mode: '0700'
    - makedirs: True
{%- endif %}
