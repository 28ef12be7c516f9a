{%- from tpldir ~ "/map.jinja" import nginx with context %}
{%- from tpldir ~ "/macros.jinja" import vhost with context %}
include:
  - {{ slsdotpath }}.pkg

nginx-conf:
  file.managed:
    - name: {{ nginx.conf_dir }}/nginx.conf
    - source: salt://{{ slspath }}/files/nginx.conf.j2
    - template: jinja
    - user: root
    - group: root
    - mode: '0644'
    - context:
        cfg: {{ nginx | json }}
    - require:
      - pkg: nginx-pkg

{%- for name, cfg in nginx.vhosts | dictsort %}
{{ vhost(name, cfg) }}
{%- endfor %}
