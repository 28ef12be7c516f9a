{%- from tpldir ~ "/map.jinja" import nginx with context %}
nginx-service:
  service.running:
    - name: {{ nginx.service }}
    - enable: True
    - reload: True
    - watch:
      - file: nginx-conf
    - require:
      - pkg: nginx-pkg
