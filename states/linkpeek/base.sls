{%- from 'linkpeek/map.jinja' import lp with context %}
# What every LinkPeek host has: supervisord (the app's processes run under it), and, on a
# host without systemd (a container or a test host), a policy-rc.d so that package installs
# do not start daemons behind supervisord's back.
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

supervisor:
  pkg.installed:
    - pkgs: [supervisor, ca-certificates]
{%- if not lp.systemd %}
    - require:
      - file: linkpeek-policy-rc.d
{%- endif %}
{%- if lp.systemd %}
  service.running:
    - enable: True
    - require:
      - pkg: supervisor
{%- else %}

supervisord-running:
  cmd.run:
    - name: supervisord -c /etc/supervisor/supervisord.conf
    - unless: supervisorctl -c /etc/supervisor/supervisord.conf pid
    - require:
      - pkg: supervisor
{%- endif %}
