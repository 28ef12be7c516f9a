{%- from 'linkpeek/map.jinja' import lp with context %}
{%- from 'linkpeek/macros.jinja' import service %}
# Hardening: the admins from pillar (each with their ssh keys, in the sudo group), sshd with
# password and root logins off (checked with `sshd -t` before it reloads), and unattended
# security upgrades.
include:
  - linkpeek.base

{%- for name, admin in lp.admins | dictsort %}
admin-{{ name }}:
  user.present:
    - name: {{ name }}
    - shell: {{ admin.get('shell', '/bin/bash') }}
    - home: /home/{{ name }}
    - createhome: True
    - groups: [sudo]
{%-   if admin.get('fullname') %}
    - fullname: {{ admin.fullname | yaml_encode }}
{%-   endif %}
    - require:
      - pkg: linkpeek-packages
{%-   for key in admin.get('ssh_keys', []) %}

admin-{{ name }}-key-{{ loop.index }}:
  ssh_auth.present:
    - name: {{ key | yaml_encode }}
    - user: {{ name }}
    - require:
      - user: admin-{{ name }}
{%-   endfor %}
{%- endfor %}

sshd-linkpeek-conf:
  file.managed:
    - name: /etc/ssh/sshd_config.d/10-linkpeek.conf
    - source: salt://linkpeek/hardening/files/sshd-linkpeek.conf.j2
    - template: jinja
    - mode: '0644'
    - require:
      - pkg: linkpeek-packages

sshd-config-test:
  cmd.run:
    - name: mkdir -p /run/sshd && sshd -t
    - onchanges:
      - file: sshd-linkpeek-conf

{{ service('sshd-running', 'ssh', lp, '/usr/sbin/sshd -D -e', reload=True,
           watch=[{'cmd': 'sshd-config-test'}], require=[{'pkg': 'linkpeek-packages'}] +
           ([] if lp.systemd else [{'file': 'sshd-run-dir'}])) }}

{%- if not lp.systemd %}

sshd-run-dir:
  file.directory:
    - name: /run/sshd
    - mode: '0755'
{%- endif %}

{%- if lp.unattended_upgrades %}

unattended-upgrades-auto:
  file.managed:
    - name: /etc/apt/apt.conf.d/20auto-upgrades
    - contents: |
        // managed by linkpeek-ops (states/linkpeek/hardening)
        APT::Periodic::Update-Package-Lists "1";
        APT::Periodic::Unattended-Upgrade "1";
    - mode: '0644'
    - require:
      - pkg: linkpeek-packages
{%- endif %}
