{%- import_yaml slspath ~ "/defaults.yaml" as defaults %}
{%- set ssh = salt['slsutil.merge'](defaults, salt['pillar.get']('openssh', {})) %}
openssh-server:
  pkg.installed: []
sshd-config-root:
  file.replace:
    - name: /etc/ssh/sshd_config
    - pattern: '^#?PermitRootLogin .*$'
    - repl: 'PermitRootLogin {{ ssh.permit_root_login }}'
    - append_if_not_found: True
    - require:
      - pkg: openssh-server
sshd-config-block:
  file.blockreplace:
    - name: /etc/ssh/sshd_config
    - marker_start: '# BEGIN salt managed'
    - marker_end: '# END salt managed'
    - content: |
        PasswordAuthentication {{ ssh.password_authentication }}
        Port {{ ssh.port }}
    - append_if_not_found: True
    - require:
      - file: sshd-config-root
sshd:
  service.running:
    - name: ssh
    - enable: True
    - watch:
      - file: sshd-config-root
      - file: sshd-config-block
{%- for host in ssh.get('known_hosts', []) %}
known-host-{{ host.name }}:
  ssh_known_hosts.present:
    - name: {{ host.name }}
    - user: root
    - key: {{ host.key }}
    - enc: ssh-ed25519
{%- endfor %}
