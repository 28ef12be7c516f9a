base:
  'm*':
    - app
  'os:Debian':
    - match: grain
    - common
