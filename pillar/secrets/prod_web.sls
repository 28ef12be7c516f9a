# Secrets of the prod web hosts (ENC[...] tokens; see pillar/README.md, "Secrets").
linkpeek:
  db:
    password: ENC[v1,402abf99,gXLmD3qvBOlIZSimnHt7tN_zt1I1nrQZmGMHNb2CYCdXlkvVQha6NBYT5iL-yn-jMVGhLzIDD3yCuiUKUOWboDKpoxDr7Ff5XvWItju1pHZnaKNG]
  tls:
    key: ENC[v1,402abf99,TMSlZEXlDXRkTW4d1-2gOvtC_fXtb9vsUsE8cEEpbWJpJOQkqfIquQyVG6uMJDBbYWbHchzax2km4wy8kuohK71IOplHl2dfxU_BayszxSREJUA2ERbW88ihZPCQsy1tXcmpaQi1MTjg-4yP-9x1EwHsWKZ9ObwA_Q==]
backup:
  password: ENC[v1,402abf99,0PJEMfX3L9k4lgP9X-2tWJ8t5XhSqO8VJ3ITJkJazDlFxF5mXaGLUvS4InSpcgSodoAawGMp26BFsnzgYj08gop5KDzM-QDLI-Jbv0sKf3za66OW1WXnXwdFahk=]
