nginx:
  lookup:
    user: nginx-custom
  worker_processes: 4
  vhosts:
    shop:
      server_name: shop.example.org
      listen: 8080
    blog:
      root: /srv/blog
users:
  alice:
    groups: [sudo, adm]
    ssh_keys:
      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop
  bob:
    shell: /bin/zsh
    gid: 2001
absent_users: [mallory, eve]
sysctl:
  params:
    net.ipv4.ip_forward: 1
    vm.swappiness: 10
openssh:
  port: 2222
  known_hosts:
    - name: git.example.org
      key: AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
locale:
  present: [en_US.UTF-8, de_DE.UTF-8]
  default: de_DE.UTF-8
timezone:
  name: Europe/Berlin
