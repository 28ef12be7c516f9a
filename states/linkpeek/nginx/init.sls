{%- from 'linkpeek/map.jinja' import lp with context %}
{%- from 'linkpeek/macros.jinja' import service %}
# nginx: the TLS reverse proxy in front of the app, and a second site on port 80 that
# redirects to HTTPS and serves the static files. Every config change is checked with
# `nginx -t` before nginx reloads; a config that fails the check is never loaded.
include:
  - linkpeek.base

linkpeek-tls-dir:
  file.directory:
    - name: {{ lp.tls.dir }}
    - user: root
    - group: root
    - mode: '0700'

{%- if lp.tls.self_signed %}
linkpeek-self-signed:
  cmd.run:
    - name: >-
        umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 825
        -subj "/CN={{ lp.server_name }}" -addext "subjectAltName=DNS:{{ lp.server_name }},DNS:localhost,IP:127.0.0.1"
        -keyout {{ lp.tls.dir }}/linkpeek.key -out {{ lp.tls.dir }}/linkpeek.crt
    - creates:
      - {{ lp.tls.dir }}/linkpeek.key
      - {{ lp.tls.dir }}/linkpeek.crt
    - require:
      - file: linkpeek-tls-dir
      - pkg: linkpeek-packages

linkpeek-tls-key:
  file.managed:
    - name: {{ lp.tls.dir }}/linkpeek.key
    - replace: False
    - user: root
    - group: root
    - mode: '0600'
    - require:
      - cmd: linkpeek-self-signed
{%- else %}
linkpeek-tls-cert:
  file.managed:
    - name: {{ lp.tls.dir }}/linkpeek.crt
    - contents_pillar: linkpeek:tls:cert
    - user: root
    - group: root
    - mode: '0644'
    - require:
      - file: linkpeek-tls-dir

linkpeek-tls-key:
  file.managed:
    - name: {{ lp.tls.dir }}/linkpeek.key
    - contents_pillar: linkpeek:tls:key
    - user: root
    - group: root
    - mode: '0600'
    - require:
      - file: linkpeek-tls-dir
{%- endif %}

linkpeek-static:
  file.recurse:
    - name: {{ lp.static }}
    - source: salt://linkpeek/nginx/static
    - clean: True
    - dir_mode: '0755'
    - file_mode: '0644'

{%- for site in ['linkpeek', 'linkpeek-www'] %}
nginx-site-{{ site }}:
  file.managed:
    - name: /etc/nginx/sites-available/{{ site }}.conf
    - source: salt://linkpeek/nginx/files/{{ site }}.conf.j2
    - template: jinja
    - mode: '0644'
    - require:
      - pkg: linkpeek-packages

nginx-site-{{ site }}-enabled:
  file.symlink:
    - name: /etc/nginx/sites-enabled/{{ site }}.conf
    - target: /etc/nginx/sites-available/{{ site }}.conf
    - require:
      - file: nginx-site-{{ site }}
{%- endfor %}

nginx-default-site-off:
  file.absent:
    - name: /etc/nginx/sites-enabled/default
    - require:
      - pkg: linkpeek-packages

nginx-config-test:
  cmd.run:
    - name: nginx -t -q
    - onchanges:
      - file: nginx-site-linkpeek
      - file: nginx-site-linkpeek-www
      - file: nginx-site-linkpeek-enabled
      - file: nginx-site-linkpeek-www-enabled
      - file: nginx-default-site-off
      - file: linkpeek-tls-key
{%- if not lp.tls.self_signed %}
      - file: linkpeek-tls-cert
{%- endif %}

{{ service('nginx-running', 'nginx', lp, "/usr/sbin/nginx -g 'daemon off;'", reload=True,
           watch=[{'cmd': 'nginx-config-test'}],
           require=[{'pkg': 'linkpeek-packages'}, {'file': 'linkpeek-tls-key'}, {'file': 'linkpeek-static'},
                    {'file': 'nginx-site-linkpeek-enabled'}, {'file': 'nginx-site-linkpeek-www-enabled'},
                    {'file': 'nginx-default-site-off'}]) }}
