{%- set tplroot = tpldir.split('/')[0] %}
{%- from tplroot ~ "/map.jinja" import mapdata as tmplf with context %}
tmplf-package-install-pkg-installed:
  pkg.installed:
    - name: {{ tmplf.pkg.name }}
