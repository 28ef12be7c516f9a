{%- from 'linkpeek/map.jinja' import lp with context %}
# What every LinkPeek host has: its Debian packages (one apt transaction, and one state to
# check on a no-op converge), supervisord (the app's processes run under it), and, on a host
# without systemd (a container or a test host), a policy-rc.d so that package installs do not
# start daemons behind supervisord's back.
{%- if not lp.systemd %}
linkpeek-policy-rc.d:
  file.managed:
    - name: /usr/sbin/policy-rc.d
    - contents: |
        #!/bin/sh
        # managed by linkpeek-ops: services run under supervisord on this host
        exit 101
    - mode: '0755'
{%- endif %}

{%- set packages = ['supervisor', 'ca-certificates', 'openssh-server', 'sudo'] %}
{%- do packages.extend(['unattended-upgrades'] if lp.unattended_upgrades else []) %}
{%- do packages.extend(['restic'] if lp.is_web or lp.is_db else []) %}
{%- do packages.extend(['python3-venv', 'nginx', 'ssl-cert', 'openssl'] if lp.is_web else []) %}
{%- do packages.extend(['postgresql'] if lp.is_db and lp.db.engine == 'postgresql' else []) %}
linkpeek-packages:
  pkg.installed:
    - pkgs: {{ packages | json }}
{%- if not lp.systemd %}
    - require:
      - file: linkpeek-policy-rc.d
{%- endif %}
{%- if lp.systemd %}

supervisor:
  service.running:
    - enable: True
    - require:
      - pkg: linkpeek-packages
{%- else %}

supervisord-running:
  cmd.run:
    - name: supervisord -c /etc/supervisor/supervisord.conf
    - unless: supervisorctl -c /etc/supervisor/supervisord.conf pid
    - require:
      - pkg: linkpeek-packages
{%- endif %}
