# dev: one host with both roles (`lpminion init --id dev1 --grain roles=web,db`), a
# self-signed certificate made on the host, the app in debug mode.
linkpeek:
  env: dev
  server_name: linkpeek.test
  tls:
    self_signed: True
