include:
  - .pkg
  - .config
  - .service
