# prod web: the certificate from pillar (the key is a secret, in secrets/prod_web.sls).
linkpeek:
  tls:
    self_signed: False
    cert: |
      -----BEGIN CERTIFICATE-----
      replace with your certificate (PEM), chain included
      -----END CERTIFICATE-----
    # ca: |          the CA that signed it, when it is your own (health checks verify against it)
