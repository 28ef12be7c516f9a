app:
  log_level: debug
  listen: 0.0.0.0
