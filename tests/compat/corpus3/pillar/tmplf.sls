tmplf:
  pkg:
    name: tmplf-pkg
  tofs:
    files_switch: [id]
