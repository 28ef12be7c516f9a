{%- set users = salt['pillar.get']('users', {}) %}
{%- set absent = salt['pillar.get']('absent_users', []) %}
{%- for name, user in users | dictsort %}
{%- set home = user.get('home', '/home/' ~ name) %}
users-{{ name }}-group:
  group.present:
    - name: {{ name }}
{%- if user.get('gid') %}
    - gid: {{ user.gid }}
{%- endif %}
users-{{ name }}:
  user.present:
    - name: {{ name }}
    - home: {{ home }}
    - shell: {{ user.get('shell', '/bin/bash') }}
    - gid: {{ name }}
    - groups: {{ user.get('groups', []) | json }}
    - require:
      - group: users-{{ name }}-group
{%- for key in user.get('ssh_keys', []) %}
users-{{ name }}-key-{{ loop.index }}:
  ssh_auth.present:
    - name: {{ key }}
    - user: {{ name }}
    - require:
      - user: users-{{ name }}
{%- endfor %}
{%- endfor %}
{%- if absent %}
users-absent:
  user.absent:
    - names: {{ absent | json }}
{%- endif %}
