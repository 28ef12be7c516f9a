{%- from 'linkpeek/map.jinja' import lp with context %}
# The database role: PostgreSQL (Debian's package; what tests and the demo use) or MongoDB
# (the original server's engine, from its official apt repository), by pillar linkpeek:db:engine.
include:
{%- if lp.db.engine == 'mongodb' %}
  - linkpeek.db.mongodb
{%- else %}
  - linkpeek.db.postgresql
{%- endif %}
