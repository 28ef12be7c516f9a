{%- from tpldir ~ "/map.jinja" import nginx with context %}
nginx-pkg:
  pkg.installed:
    - name: {{ nginx.pkg }}
{%- if nginx.get('version') %}
    - version: {{ nginx.version }}
{%- endif %}
