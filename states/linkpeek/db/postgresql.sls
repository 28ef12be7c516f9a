{%- from 'linkpeek/map.jinja' import lp with context %}
{%- from 'linkpeek/macros.jinja' import service %}
{%- set version = lp.db.postgresql_version %}
{%- set conf = '/etc/postgresql/%s/main' % version %}
{%- set data = '/var/lib/postgresql/%s/main' % version %}
# PostgreSQL: Debian's cluster `main`, listening where pillar says, the app's role (password
# from pillar secrets) and its database. Role and database go through psql on stdin as the
# postgres user; the password never appears on a command line.
include:
  - linkpeek.base

postgresql-cluster:
  cmd.run:
    - name: pg_createcluster {{ version }} main
    - creates: {{ conf }}/postgresql.conf
    - require:
      - pkg: linkpeek-packages

postgresql-linkpeek-conf:
  file.managed:
    - name: {{ conf }}/conf.d/linkpeek.conf
    - source: salt://linkpeek/db/files/postgresql-linkpeek.conf.j2
    - template: jinja
    - user: postgres
    - group: postgres
    - mode: '0644'
    - makedirs: True
    - require:
      - cmd: postgresql-cluster

postgresql-hba:
  file.managed:
    - name: {{ conf }}/pg_hba.conf
    - source: salt://linkpeek/db/files/pg_hba.conf.j2
    - template: jinja
    - user: postgres
    - group: postgres
    - mode: '0640'
    - require:
      - cmd: postgresql-cluster

{%- if not lp.systemd %}
postgresql-run-dir:
  file.directory:
    - name: /run/postgresql
    - user: postgres
    - group: postgres
    - mode: '2775'
    - require:
      - pkg: linkpeek-packages
{%- endif %}

{{ service('postgresql-running', 'postgresql' if lp.systemd else 'postgresql-' ~ version ~ '-main', lp,
           '/usr/lib/postgresql/%s/bin/postgres -D %s -c config_file=%s/postgresql.conf' % (version, data, conf),
           user='postgres', directory=data, reload=True,
           watch=[{'file': 'postgresql-linkpeek-conf'}, {'file': 'postgresql-hba'}],
           require=[{'cmd': 'postgresql-cluster'}] + ([] if lp.systemd else [{'file': 'postgresql-run-dir'}])) }}

postgresql-ready:
  cmd.run:
    - name: pg_isready -q -t 30 -h /run/postgresql -p {{ lp.db.port }}
    - unless: pg_isready -q -h /run/postgresql -p {{ lp.db.port }}
    - require:
      - service: postgresql-running

linkpeek-db-role:
  postgres_user.present:
    - name: {{ lp.db.user }}
    - password: {{ lp.db.password | yaml_encode }}
    - login: True
    - createdb: False
    - superuser: False
    - db_port: {{ lp.db.port }}
    - require:
      - cmd: postgresql-ready

linkpeek-db:
  postgres_database.present:
    - name: {{ lp.db.name }}
    - owner: {{ lp.db.user }}
    - encoding: UTF8
    - template: template0
    - db_port: {{ lp.db.port }}
    - require:
      - postgres_user: linkpeek-db-role
