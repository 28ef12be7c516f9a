# Health checks of the web role, run by `lpmaster health` (and the restore drills).
# `{address}` is the host's address as the master knows it (or the drill's scratch host).
# With a certificate from pillar, TLS is verified (against linkpeek:tls:ca when set, else the
# system's CAs) for server_name; a self-signed dev certificate is not verified.
health:
  checks:
    https-healthz:
      type: http
      url: https://{address}/healthz
      status: 200
      text: ok
      verify: {{ 'false' if salt['pillar.get']('linkpeek:tls:self_signed', True) else 'true' }}
{%- if salt['pillar.get']('linkpeek:tls:ca') %}
      ca_pem: {{ salt['pillar.get']('linkpeek:tls:ca') | json }}
{%- endif %}
      server_name: {{ salt['pillar.get']('linkpeek:server_name', 'localhost') }}
    http-redirect:
      type: http
      url: http://{address}/
      status: 301
    static-page:
      type: http
      url: http://{address}/static/about.html
      status: 200
      text: About LinkPeek
    app-programs:
      type: command
      command: supervisorctl status linkpeek-web linkpeek-worker
