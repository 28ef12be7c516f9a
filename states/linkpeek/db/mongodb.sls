{%- from 'linkpeek/map.jinja' import lp with context %}
{%- from 'linkpeek/macros.jinja' import service %}
{%- set series = lp.db.mongodb_version %}
# MongoDB from its official apt repository (the original LinkPeek server's engine). No MongoDB
# server can be installed on the machines tests run on, so this variant is compiled in tests,
# never applied there.
include:
  - linkpeek.base

mongodb-repo:
  pkgrepo.managed:
    - name: deb [arch=amd64,arm64 signed-by=/etc/apt/keyrings/mongodb-server-{{ series }}.asc] https://repo.mongodb.org/apt/debian {{ grains.get('oscodename', 'bookworm') }}/mongodb-org/{{ series }} main
    - file: /etc/apt/sources.list.d/mongodb-org-{{ series }}.list
    - key_url: {{ lp.db.mongodb_key_url or 'salt://linkpeek/db/files/mongodb-server-%s.asc' % series }}
    - refresh: True

mongodb:
  pkg.installed:
    - pkgs: [mongodb-org]
    - require:
      - pkgrepo: mongodb-repo

mongodb-conf:
  file.managed:
    - name: /etc/mongod.conf
    - source: salt://linkpeek/db/files/mongod.conf.j2
    - template: jinja
    - mode: '0644'
    - require:
      - pkg: mongodb

{{ service('mongodb-running', 'mongod', lp, '/usr/bin/mongod --config /etc/mongod.conf',
           user='mongodb', directory='/var/lib/mongodb',
           watch=[{'file': 'mongodb-conf'}], require=[{'pkg': 'mongodb'}]) }}
