"""Names of entities, projects and runs, as the services check them."""

import pytest
from lodestar_server.common.names import (
    InvalidName,
    check_free_name,
    decode_token,
    encode_token,
)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "x\ny", "p" * 129])
def test_free_names_refuse_what_could_escape_or_confuse(name):
    with pytest.raises(InvalidName) as caught:
        check_free_name("project", name)
    assert caught.value.value == name


@pytest.mark.parametrize("name", ["my project", "ünï.cödé", "a.b*c>d", "=41"])
def test_any_project_name_survives_token_encoding(name):
    token = encode_token(name)
    assert all(c.isalnum() or c in "_-=" for c in token)
    assert decode_token(token) == name
