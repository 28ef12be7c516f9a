base:
  '*':
    - tmplf
