# Secrets of the dev host, each an ENC[...] token bound to its pillar key. These example tokens
# were made for a key nobody has: make your own (pillar/README.md, "Secrets").
linkpeek:
  db:
    password: ENC[v1,402abf99,stBmcytDH1ra4wz3qVVyu749Vgd1LhcOQhQxJZEce3No5CJT6wypwdC4TRuY3-iBehHksclYQW4kMo6jPJnKy973Wx_cpp--Ezj3XJR5QK90Rzc=]
backup:
  password: ENC[v1,402abf99,awJGBa4bABcEd-eWk7NgDCOXVc9lc837z1mJbgsRNkUgLGPElSpYy91KKfaPcw5Iek5WIpMUMUmJ00s9LAPC5Awqywo7rtjCo0_ZixhnrsnTuMKlH0xL]
