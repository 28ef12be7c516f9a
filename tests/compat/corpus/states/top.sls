base:
  '*':
    - nginx
    - users
    - sysctl
    - openssh
    - locale
