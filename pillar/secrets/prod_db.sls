# Secrets of the prod database host (ENC[...] tokens; see pillar/README.md, "Secrets").
linkpeek:
  db:
    password: ENC[v1,402abf99,0hBIqWmGf2-fyQnYRepuB5-mFoMvKISuQ8F-SGdVjwFNxIS4VWeSjmUNadIBneAnyPgwoSNSHRsqpLCvhf2rDaSVWzUf8a8-TN_LyOU7ItHus_vC]
backup:
  password: ENC[v1,402abf99,1CPwkJb_OQzzEQoxrEiWadaGDVGECJxNIVla1cbZKALLr7bGbhYdwy-3wyK0jS-gPHgxRijzKze1gZR1DxHctiCVCGuNlHShc76SDC4I5raBS9yyllord5xlPQ==]
