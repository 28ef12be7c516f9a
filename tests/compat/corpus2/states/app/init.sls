{%- import_json "app/conf/ports.json" as ports %}
{%- load_yaml as extra %}
log_level: {{ salt['pillar.get']('app:log_level', 'info') }}
workers: 2
{%- endload %}
{%- set cfg = salt['defaults.merge'](extra, salt['pillar.get']('app', {}), in_place=False) %}
{%- set ns = namespace(count=0) %}
include:
  - .deps
  - common.base
{%- for p in ports.ports %}
{%- set ns.count = ns.count + 1 %}
app-port-{{ p }}:
  cmd.run:
    - name: echo {{ p }}
    - unless: test -e /tmp/port-{{ p }}
    - onchanges_in:
      - test: app-done
{%- endfor %}
app-config:
  file.managed:
    - name: /etc/app/app.yaml
    - source:
      - salt://app/conf/app.yaml.{{ grains['id'] }}
      - salt://app/conf/app.yaml
    - makedirs: True
    - contents_newline: False
    - defaults: {{ cfg | json }}
    - listen_in:
      - test: app-done
app-done:
  test.succeed_without_changes:
    - comment: {{ ns.count }} ports; {{ cfg | traverse('log_level') }}
    - order: last
app-pkgs:
  pkg.installed:
    - pkgs:
      - curl
      - jq: '1.6*'
    - unless:
      - test -x /usr/bin/jq
      - test -x /usr/bin/curl
    - failhard: True
    - require:
      - sls: app.deps
    - require_in:
      - file: app-config
