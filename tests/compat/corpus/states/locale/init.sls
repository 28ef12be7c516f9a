{%- set loc = salt['pillar.get']('locale', {'present': ['en_US.UTF-8'], 'default': 'en_US.UTF-8'}) %}
{%- for name in loc.present %}
locale-{{ name }}:
  locale.present:
    - name: {{ name }}
{%- endfor %}
locale-default:
  locale.system:
    - name: {{ loc.default }}
    - require:
      - locale: locale-{{ loc.default }}
timezone:
  timezone.system:
    - name: {{ salt['pillar.get']('timezone:name', 'UTC') }}
    - order: first
