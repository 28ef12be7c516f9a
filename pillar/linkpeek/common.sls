# Shared by every LinkPeek host.
linkpeek:
  db:
    engine: postgresql          # or mongodb (its official apt repo; see linkpeek/mongodb.sls)
    name: linkpeek
    user: linkpeek
    port: 5432
  admins:
    deploy:
      fullname: LinkPeek deploy
      shell: /bin/bash
      ssh_keys:
        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlinkpeekexampleonlyreplacemewithyourkey0001 deploy@example

# Salt's mine: what each minion publishes to the master for the others' templates. The web
# hosts find the database host's address through it (linkpeek/map.jinja).
mine_functions:
  network.ip_addrs:
    interface: eth0
