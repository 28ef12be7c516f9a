# Health checks of the database role.
health:
  checks:
    postgres-ready:
      type: command
      command: pg_isready -q -h /run/postgresql
{%- if salt['pillar.get']('linkpeek:db:allow_cidrs') %}
    postgres-port:
      type: tcp
      host: "{address}"
      port: 5432
{%- endif %}
