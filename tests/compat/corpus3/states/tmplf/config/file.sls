{%- set tplroot = tpldir.split('/')[0] %}
{%- set sls_package_install = tplroot ~ '.package' %}
{%- from tplroot ~ "/map.jinja" import mapdata as tmplf with context %}
{%- from tplroot ~ "/libs/libtofs.jinja" import files_switch with context %}
include:
  - {{ sls_package_install }}
tmplf-config-file-file-managed:
  file.managed:
    - name: {{ tmplf.config }}
    - source: {{ files_switch(['example.tmpl', 'example.tmpl.jinja'], lookup='tmplf-config-file-file-managed') }}
    - mode: '0644'
    - user: root
    - group: {{ tmplf.rootgroup }}
    - makedirs: True
    - template: jinja
    - require:
      - sls: {{ sls_package_install }}
    - context:
        tmplf: {{ tmplf | json }}
