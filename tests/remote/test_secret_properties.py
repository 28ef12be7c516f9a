"""Properties: any value round-trips under its own pillar key only; masked text never shows a secret."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from core.masking import Masker
from core.secrets import decrypt, encrypt, generate_keypair

SECRET_KEY, PUBLIC_KEY = generate_keypair()
key_part = st.text(st.characters(blacklist_characters=":", blacklist_categories=("Cs",)),
                   min_size=1, max_size=12)
pillar_paths = st.lists(key_part, min_size=1, max_size=4).map(":".join)
secret_text = st.text(st.characters(blacklist_characters="*", blacklist_categories=("Cs",)),
                      min_size=4, max_size=40)


@settings(max_examples=60, deadline=None)
@given(value=st.binary(max_size=300), path=pillar_paths, other=pillar_paths)
def test_a_token_opens_under_its_own_key_only(value, path, other):
    token = encrypt(PUBLIC_KEY, path, value)
    assert decrypt(SECRET_KEY, path, token) == value
    if other != path:
        try:
            decrypt(SECRET_KEY, other, token)
        except Exception as exc:
            assert type(exc).__name__ == "SecretError"
        else:
            raise AssertionError("a token opened under another pillar key")


@settings(max_examples=150, deadline=None)
@given(secret=secret_text, before=st.text(max_size=30), after=st.text(max_size=30))
def test_masked_text_and_json_never_contain_the_secret(secret, before, after):
    masker = Masker({secret})
    text = f"{before}{secret}{after}"
    assert secret not in masker.mask(text)
    assert secret not in masker.mask(json.dumps({"v": text}))
    assert json.dumps(secret)[1:-1] not in masker.mask(json.dumps({"v": text}))
