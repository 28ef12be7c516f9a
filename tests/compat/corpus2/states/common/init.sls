include:
  - .base
extend:
  motd:
    file.managed:
      - mode: '0600'
      - require:
        - pkg: tools
exclude:
  - id: unwanted
