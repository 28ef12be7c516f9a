{%- set params = salt['pillar.get']('sysctl:params', {}) %}
{%- for name, value in params | dictsort %}
sysctl-{{ name }}:
  sysctl.present:
    - name: {{ name }}
    - value: {{ value }}
{%- endfor %}
