motd:
  file.managed:
    - name: /etc/motd
    - contents: {{ salt['match.grain']('os:Debian') }} {{ 'x' | yaml_encode }}
    - user: root
unwanted:
  test.nop: []
tools:
  pkg:
    - installed
    - names: [htop, tree]
    - order: 5
