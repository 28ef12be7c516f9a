# prod: web and db on separate hosts. The web hosts find the database through the mine
# (the address db* publishes); the database accepts the app's role from these networks only.
linkpeek:
  env: prod
  server_name: linkpeek.example.org
  db:
    mine_target: 'db*'          # minion ids are authenticated keys; grains are the minion's say
    mine_tgt_type: glob
    allow_cidrs:
      - 10.231.0.0/24
