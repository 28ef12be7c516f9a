{%- from 'linkpeek/map.jinja' import lp with context %}
{%- from 'linkpeek/macros.jinja' import service %}
# The LinkPeek app: its code, a virtualenv with its dependencies from the wheelhouse the
# master serves (or an index from pillar), production.ini from pillar, and two supervisord
# programs (the web app under waitress, the title worker), restarted when either changes.
include:
  - linkpeek.base

linkpeek-user:
  user.present:
    - name: {{ lp.app.user }}
    - home: {{ lp.app.root }}
    - shell: /usr/sbin/nologin
    - system: True
    - createhome: False

linkpeek-root:
  file.directory:
    - name: {{ lp.app.root }}
    - user: root
    - group: root
    - mode: '0755'

linkpeek-wheelhouse:
  file.recurse:
    - name: {{ lp.app.root }}/wheelhouse
    - source: {{ lp.app.wheelhouse }}
    - clean: True
    - require:
      - file: linkpeek-root

linkpeek-venv:
  virtualenv.managed:
    - name: {{ lp.venv }}
    - python: python3
    - require:
      - pkg: linkpeek-packages
      - file: linkpeek-root

linkpeek-requirements:
  pip.installed:
    - pkgs: {{ lp.app.requirements | json }}
    - bin_env: {{ lp.venv }}
{%- if lp.app.index_url %}
    - index_url: {{ lp.app.index_url }}
{%- else %}
    - no_index: True
    - find_links: {{ lp.app.root }}/wheelhouse
{%- endif %}
    - require:
      - virtualenv: linkpeek-venv
      - file: linkpeek-wheelhouse

linkpeek-code:
  file.recurse:
    - name: {{ lp.src }}
    - source: salt://linkpeek/app/src
    - clean: True
    - exclude_pat: '*.pyc'
    - require:
      - file: linkpeek-root

linkpeek-conf-dir:
  file.directory:
    - name: {{ lp.conf_dir }}
    - user: root
    - group: {{ lp.app.user }}
    - mode: '0750'
    - require:
      - user: linkpeek-user

linkpeek-production-ini:
  file.managed:
    - name: {{ lp.conf_dir }}/production.ini
    - source: salt://linkpeek/app/files/production.ini.j2
    - template: jinja
    - user: root
    - group: {{ lp.app.user }}
    - mode: '0640'
    - require:
      - file: linkpeek-conf-dir

{% set watch = [{'file': 'linkpeek-code'}, {'file': 'linkpeek-production-ini'}, {'pip': 'linkpeek-requirements'}] %}
{%- set programs = {
  'linkpeek-web': lp.venv ~ '/bin/pserve ' ~ lp.conf_dir ~ '/production.ini',
  'linkpeek-worker': lp.venv ~ '/bin/python -m linkpeek_app.worker ' ~ lp.conf_dir ~ '/production.ini',
} %}
{%- for name, command in programs | dictsort %}

{{ service(name, name, lp, command, user=lp.app.user, directory=lp.src, watch=watch, program=True,
           environment={'PYTHONPATH': lp.src, 'PYTHONDONTWRITEBYTECODE': '1'}) }}
{%- endfor %}
