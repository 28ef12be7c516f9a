app-deps:
  pkg.installed:
    - names:
      - git
      - make:
        - refresh: True
    - require:
      - sls: common*
